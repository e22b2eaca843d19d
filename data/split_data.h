#pragma once
// The three splits every run trains and evaluates on, as one data source produces them,
// with the facts the manifest records about how they were made.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/data_spec.h"
#include "data/drift/drift_event.h"
#include "data/mixing/mix_schedule.h"
#include "data/redaction/redaction_counts.h"
#include "data/sampling/sampler_stats.h"
#include "data/tensor_dataset.h"

namespace stratum::data {

/// What a data source needs besides its config section.
struct DataContext {
  uint64_t seed = 0;
  int rank = 0;                  ///< this process reads records whose index % world_size == rank
  int world_size = 1;
  std::string rejects_path;      ///< rejects.jsonl to write (empty: count rejects only)
  bool append_rejects = false;   ///< add to rejects_path instead of starting it (a mix's later sources)
  /// When set, text sources append every seen (training) record's text here: the corpus
  /// `stratum data tokenizer` learns from, so no held-out text shapes the vocabulary.
  std::vector<std::string>* seen_text = nullptr;
  /// JSON fields (dotted paths into nested objects) each record keeps for evaluation by slice
  /// (Record::fields, in this order); sources that read JSONL or CSV rows fill them.
  std::vector<std::string> slice_fields;
  /// Most validation and unseen records a splitter keeps, each the latest ones (0: all). A
  /// continuous run bounds them; an offline read keeps every held-out record.
  int64_t held_out_capacity = 0;
};

/// One file a source read, for the manifest: records_read = records_accepted + records_rejected.
struct SourceFile {
  std::string role;  ///< e.g. "train-images"
  std::string source;  ///< the data.sources entry that read it (empty: the run has one source)
  std::string path;
  int64_t records_read = 0;
  int64_t records_accepted = 0;
  int64_t records_rejected = 0;
  int64_t blank_lines = 0;   ///< line sources: empty lines, which are not records
  /// Sources that hash what they read (line sources): the bytes and their sha256, and whether
  /// the read reached the end. A pipe or FIFO is never opened twice to hash it.
  uint64_t bytes_read = 0;
  std::string sha256;
  bool read_to_end = false;
};

/// seen (training), validation (held out from the same stream) and unseen (held out by
/// construction: another file, later time, or labels never trained on).
struct SplitData {
  DataSpec spec;
  TensorDataset seen;
  TensorDataset validation;
  TensorDataset unseen;
  std::string unseen_description;  ///< how the unseen split was held out, for reports
  std::vector<SourceFile> files;
  SamplerStats sampler;            ///< what the stratified reservoirs did with the seen stream
  std::map<std::string, std::vector<int64_t>> label_counts;  ///< split -> examples per class id
  std::vector<DriftEvent> drift_events;   ///< alerts raised while reading the training stream
  std::vector<DriftWindow> drift_windows; ///< every compared window's statistics
  std::vector<ReservoirSnapshot> reservoir_history;  ///< per-label reservoir sizes along the stream
  /// The splitter's serialized state (stream position, held-out records, reservoirs with their
  /// random streams, drift monitor): checkpoints keep it, and a resumed run must rebuild it
  /// byte for byte.
  std::string pipeline_state;
  int64_t records_read = 0;               ///< records this rank read: accepted + rejected
  int64_t records_accepted = 0;           ///< records that reached a split (training stream and held-out file)
  int64_t records_rejected = 0;           ///< records rejected by the source (see rejects.jsonl)
  int64_t blank_lines = 0;                ///< empty lines skipped by line sources (not records)
  RedactionCounts redaction;              ///< what data.redact found (see data/redaction)
  std::map<std::pair<int32_t, int32_t>, int64_t> cooccurrence;  ///< label pairs seen together (multi-label)
  std::string manifest;            ///< manifest.json text (see data/manifest.h)
  /// Several sources (data.sources): each one's rows of the seen split and its share of
  /// training examples; empty for a single source.
  std::vector<MixComponent> mix;
};

}  // namespace stratum::data
