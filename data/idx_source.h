#pragma once
// The IDX image source: an MNIST-style folder (train-* and t10k-* image and label files),
// streamed record by record through the stratified reservoirs.

#include <cstdint>
#include <string>

#include "core/config.h"
#include "data/split_data.h"

namespace stratum::data {

/// Streams `<path>/train-{images,labels}` (this rank's share, at most `max_records`) into
/// validation (records whose content hash falls below `validation_fraction`) or the
/// stratified reservoirs (seen), and `<path>/t10k-*` into unseen. Damaged records are
/// rejected into `context.rejects_path` and the error budget is checked. Images are scaled to
/// [0, 1] and normalized by the seen split's mean and standard deviation.
SplitData read_idx_source(const DataSection& options, const DataContext& context);

/// True when a record with content hash `record_hash` belongs to the validation split: a pure
/// function of the record and the seed, so no record (nor an exact duplicate of it) can land
/// in two splits, and reruns split identically.
bool in_validation(uint64_t record_hash, uint64_t seed, double fraction);

}  // namespace stratum::data
