#pragma once
// Turns what a StreamSplitter kept into the tensors and facts of a SplitData: collation,
// normalization from the seen split only, per-label counts, drift events and the manifest.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/data_options.h"
#include "data/split_data.h"
#include "data/splits/stream_splitter.h"
#include "data/tokenizer/tokenizer.h"

namespace stratum::data {

/// What a source knows that the splitter does not.
struct SourceFacts {
  DataSpec spec;                              ///< input kind and shape, classes and their names
  std::shared_ptr<const Tokenizer> tokenizer;  ///< text: how payloads become ids (null: bytes)
  std::vector<const Record*> held_out_file;   ///< unseen records from a separate file (unseen.by: file)
  std::string unseen_description;
  std::vector<SourceFile> files;
  int64_t records_rejected = 0;
  int64_t blank_lines = 0;
  RedactionCounts redaction;
  /// Sources whose examples are made when batches are gathered (images): builds each split
  /// from its records (seen first, with its targets; then validation and unseen with none)
  /// and sets the spec's standardization itself. Unset: the records are collated here.
  std::function<TensorDataset(const std::vector<const Record*>& records, const std::vector<int32_t>& targets,
                              DataSpec& spec, bool seen)>
      collate;
};

/// Collates seen (the reservoirs' contents, label by label), validation and unseen records.
/// Images are scaled to [0, 1] and standardized by the seen split's mean and deviation;
/// features are standardized per feature by the seen split's statistics; text becomes
/// token ids (the tokenizer's, or bytes 0-255), truncated or padded with the spec's padding
/// id to the spec's length.
SplitData assemble_splits(const StreamSplitter& splitter, SourceFacts facts, const DataOptions& options,
                          const DataContext& context);

/// Examples per class id 0..classes-1 in a split's (N) targets (-1 and out-of-range ids are
/// not counted; undefined targets count nothing).
std::vector<int64_t> count_labels(const torch::Tensor& targets, int64_t classes);

/// Collates records exactly as training inputs are (see above), standardized with
/// `spec.input_mean` / `input_std`; a record without labels gets target -1. For inputs that
/// arrive after training (`stratum qa select` pools, a continuous run's stream); `targets`
/// overrides the primary labels (a reservoir's label under multi_label: split).
TensorDataset collate_records(const std::vector<const Record*>& records, const DataSpec& spec,
                              const Tokenizer* tokenizer, const std::vector<int32_t>& targets = {});

/// Learns the spec's standardization from a collated, not yet standardized seen split
/// (images: one mean and deviation; features: one per feature; tokens: none) and applies it to
/// `seen`.
void learn_standardization(TensorDataset& seen, DataSpec& spec);

}  // namespace stratum::data
