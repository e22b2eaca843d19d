#pragma once
// The data side of a continuous run: a reader thread keeps reading a live stream into a bounded
// queue while the trainer steps; the trainer takes what has arrived, scores it (test-then-train),
// admits it into the splits (validation and unseen rings, the stratified reservoirs, the drift
// monitor) and draws each batch from the reservoirs' current contents and the freshest records.
//
// Only `take` depends on timing. With data.continuous.records_per_step (lockstep) every step
// admits exactly that many records, so a run over a replayable input is reproducible bit for bit,
// also across a kill and a resume.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/data_spec.h"
#include "data/continuous/live_records.h"
#include "data/data_options.h"
#include "data/drift/drift_event.h"
#include "data/reject_log.h"
#include "data/rng.h"
#include "data/split_data.h"
#include "data/splits/stream_splitter.h"
#include "data/tensor_dataset.h"

namespace stratum::data {

class Tokenizer;

/// Records taken for one step, in stream order, with the split each one belongs to.
struct Admission {
  std::vector<Record> records;
  std::vector<Split> splits;
  bool ended = false;  ///< the stream ended and every record of it has been taken
  bool waiting = false;  ///< nothing was taken: the records the step needs have not arrived yet (take again)
};

/// Counters of a continuous stream (all since the run started, resumes included).
struct StreamCounters {
  int64_t read = 0;           ///< records and rejected lines taken from the queue
  int64_t accepted = 0;       ///< records admitted into the splits
  int64_t rejected = 0;       ///< lines rejected (see rejects.jsonl)
  int64_t blank_lines = 0;    ///< empty lines (not records)
  int64_t trainer_waits = 0;  ///< takes that had to wait for records (before min_ready, or lockstep)
  int64_t reader_waits = 0;   ///< times the reader found the queue full (this process)
  int64_t queued = 0;         ///< records read ahead, waiting in the queue now
};

/// A live stream feeding a continuous run (see the file comment).
class ContinuousStream {
 public:
  /// Opens the input (at the position `state` committed, when resuming from a checkpoint's
  /// data_state.bin) and starts the reader thread. `context.rejects_path` is appended to on a
  /// resume, cut back to what the checkpoint had written.
  ContinuousStream(const DataOptions& options, const DataContext& context, const std::string& state = "");
  ~ContinuousStream();
  ContinuousStream(const ContinuousStream&) = delete;
  ContinuousStream& operator=(const ContinuousStream&) = delete;

  /// Kind, shape and classes; after `ready`, the standardization learned from the reservoirs.
  const DataSpec& spec() const { return spec_; }
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }
  std::string describe() const { return records_.describe(); }
  bool replayable() const { return records_.replayable(); }
  /// True after a resume from a checkpoint's state.
  bool resumed() const { return resumed_; }

  /// The records for the next step: in lockstep exactly records_per_step (waiting for them, also
  /// before `ready`); otherwise what has arrived, up to max_admit, waiting only before `ready`. A wait lasts at most 0.2 s: then nothing is taken (`waiting`). Rejected lines are written to rejects.jsonl here, so a checkpoint covers
  /// exactly the lines taken before it; the error budget is checked as the stream goes.
  Admission take();
  /// Routes taken records into their splits (after the model has scored them). Returns the
  /// drift alerts they raised (already acted on as data.drift.on_drift says).
  std::vector<DriftEvent> admit(const Admission& admission);

  /// The reservoirs hold data.continuous.min_ready records; on first reaching it the inputs'
  /// standardization is learned from them and fixed for the rest of the run.
  bool ready();
  /// A training batch of `n` examples: fresh_share of them the latest seen records, the rest a
  /// uniform draw from the reservoirs (a record kept by several reservoirs, as each one's label).
  TensorDataset draw(int64_t n);
  /// Records collated and standardized as training inputs are (targets: primary labels).
  TensorDataset collate(const std::vector<const Record*>& records) const;
  /// The reservoirs' contents (a record kept by several reservoirs, once per label).
  TensorDataset seen() const;
  /// The validation and unseen rings as they are now.
  TensorDataset validation() const;
  TensorDataset unseen() const;
  /// Seen records per class in the reservoirs now.
  std::vector<int64_t> seen_label_counts() const;

  StreamCounters counters() const;
  const StreamSplitter& splitter() const { return splitter_; }
  /// The committed position: just after the last line taken.
  const StreamPosition& position() const { return position_; }

  /// Everything a resumed run needs to continue exactly here (data_state.bin of a checkpoint).
  std::string save() const;

 private:
  void read_ahead();
  void restore(const std::string& state);

  const DataOptions& options_;
  DataContext context_;
  // Parsed before the input is opened: the position it reopens at.
  bool resumed_ = false;
  StreamPosition position_;
  std::string restored_rest_;
  LiveRecords records_;
  DataSpec spec_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  UnseenIds unseen_ids_;
  StreamSplitter splitter_;
  std::unique_ptr<RejectLog> rejects_;
  bool ready_ = false;
  bool admission_waiting_ = false;  // the last take found too few records (one wait is counted once)
  std::vector<Record> fresh_;  // ring of the latest seen records
  uint64_t fresh_next_ = 0;
  Rng draw_rng_;
  StreamCounters counters_;

  // Shared with the reader thread.
  mutable std::mutex mutex_;
  std::condition_variable arrived_, room_;
  std::deque<LiveItem> queue_;
  bool input_ended_ = false, stopping_ = false;
  int64_t reader_waits_ = 0;
  std::exception_ptr reader_error_;
  std::thread reader_;
};

}  // namespace stratum::data
