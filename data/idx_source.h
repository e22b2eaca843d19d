#pragma once
// The IDX image source: an MNIST-style folder (train-* and t10k-* image and label files).

#include <cstdint>

#include "core/config.h"
#include "data/split_data.h"

namespace stratum::data {

/// Reads `<path>/train-{images,labels}` into seen and validation (a record goes to validation
/// when the hash of its index and the seed falls below `validation_fraction`) and
/// `<path>/t10k-*` into unseen. Images are scaled to [0, 1] and normalized by the training
/// set's mean and standard deviation.
SplitData read_idx_source(const DataSection& options, uint64_t seed);

/// True when record `index` belongs to the validation split: a pure function of the record
/// and the seed, so no record can land in two splits and reruns split identically.
bool in_validation(uint64_t index, uint64_t seed, double fraction);

}  // namespace stratum::data
