#include "data/continuous/continuous_stream.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "data/binary_io.h"
#include "data/splits/assemble.h"

namespace stratum::data {
namespace {

constexpr uint64_t kStreamMagic = 0x535452434F4E5431ull;  // "STRCONT1"
constexpr double kReaderPollSeconds = 0.1;
// The error budget is judged once this many lines have been taken (a few bad lines at the
// start of a stream say little about its share of bad lines).
constexpr int64_t kBudgetMinimum = 200;

StreamPosition committed_position(const std::string& state) {
  if (state.empty()) return {};
  std::istringstream in(state);
  const std::string where = "data_state.bin";
  if (binary::read_u64(in, where) != kStreamMagic) {
    throw UserError(where + ": not the state of a continuous run (resume a continuous run's checkpoint, or set "
                            "trainer.mode as the checkpointed run had it)");
  }
  return StreamPosition::load(in, where);
}

DataContext bounded(DataContext context, const ContinuousOptions& options) {
  context.held_out_capacity = options.held_out;
  return context;
}

// Cuts rejects.jsonl back to what the checkpoint had written: lines rejected after it are
// taken (and rejected) again.
void cut_rejects(const std::string& path, uint64_t bytes) {
  if (path.empty()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > bytes) {
    if (::truncate(path.c_str(), static_cast<off_t>(bytes)) != 0) throw UserError(path + ": cannot cut back to the checkpoint");
  }
}

uint64_t file_bytes(const std::string& path) {
  struct stat st {};
  return !path.empty() && ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

ContinuousStream::ContinuousStream(const DataOptions& options, const DataContext& context, const std::string& state)
    : options_(options),
      context_(bounded(context, options.continuous)),
      resumed_(!state.empty()),
      position_(committed_position(state)),
      records_(options, context_, resumed_ ? &position_ : nullptr),
      spec_(records_.spec()),
      tokenizer_(records_.tokenizer()),
      unseen_ids_{resolve_unseen_labels(options, spec_.class_names), {}},
      splitter_(options, context_, unseen_ids_),
      draw_rng_(context.seed, 0x6472617773ull) {  // "draws"
  if (options.unseen.by == UnseenBy::file || options.unseen.by == UnseenBy::source) {
    throw UserError("data.unseen.by: a continuous run holds out by label, time or none (a held-out file has no "
                    "place in a stream that never ends)");
  }
  fresh_.reserve(static_cast<size_t>(std::min<int64_t>(options.continuous.fresh_window, 1 << 16)));
  if (resumed_) restore(state);
  rejects_ = std::make_unique<RejectLog>(context_.rejects_path, resumed_ || context_.append_rejects);
  if (resumed_) rejects_->continue_counts(counters_.rejected, restored_rest_);
  reader_ = std::thread([this] { read_ahead(); });
}

ContinuousStream::~ContinuousStream() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  room_.notify_all();
  if (reader_.joinable()) reader_.join();
}

// The reader thread: reads (and parses) ahead of training; waits only when the queue is full.
void ContinuousStream::read_ahead() {
  try {
    // A lockstep step needs its records in the queue at once.
    const auto capacity = static_cast<size_t>(std::max(options_.continuous.queue, options_.continuous.records_per_step));
    for (;;) {
      LiveItem item;
      const InputStatus status = records_.next(item, kReaderPollSeconds);
      std::unique_lock<std::mutex> lock(mutex_);
      if (stopping_) return;
      if (status == InputStatus::idle) continue;
      if (status == InputStatus::ended) {
        input_ended_ = true;
        arrived_.notify_all();
        return;
      }
      if (queue_.size() >= capacity) {
        ++reader_waits_;
        room_.wait(lock, [&] { return stopping_ || queue_.size() < capacity; });
        if (stopping_) return;
      }
      queue_.push_back(std::move(item));
      arrived_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    reader_error_ = std::current_exception();
    input_ended_ = true;
    arrived_.notify_all();
  }
}

Admission ContinuousStream::take() {
  const ContinuousOptions& c = options_.continuous;
  // Lockstep also during the warm-up: which records come before the first step (and the
  // standardization learned from them) must not depend on timing.
  const bool lockstep = c.records_per_step > 0;
  size_t wanted = static_cast<size_t>(lockstep ? c.records_per_step : c.max_admit);
  // data.max_records ends the stream there (the splitter would otherwise drop the rest unseen).
  const int64_t limit = options_.max_records;
  const int64_t taken = counters_.read + counters_.blank_lines;
  // Warm-up without lockstep: no more than the reservoirs still need, so the stream is not
  // swallowed before the model has scored any of it.
  if (!lockstep && !ready_) {
    const int64_t missing = c.min_ready - splitter_.reservoir().total_items();
    wanted = std::min(wanted, static_cast<size_t>(std::max<int64_t>(1, missing)));
  }
  if (limit > 0) wanted = static_cast<size_t>(std::max<int64_t>(0, std::min<int64_t>(static_cast<int64_t>(wanted), limit - taken)));
  if (limit > 0 && taken >= limit) {
    Admission ended;
    ended.ended = true;
    return ended;
  }
  std::vector<LiveItem> items;
  Admission admission;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // Before min_ready there is nothing to train on; in lockstep the step must have its records.
    const auto enough = [&] {
      return reader_error_ || input_ended_ || (lockstep ? queue_.size() >= wanted : !queue_.empty());
    };
    if ((lockstep || !ready_) && !enough()) {
      if (!admission_waiting_) ++counters_.trainer_waits;
      // Bounded, so the caller can look for a stop request between waits.
      if (!arrived_.wait_for(lock, std::chrono::milliseconds(200), enough)) {
        admission_waiting_ = true;
        admission.waiting = true;
        return admission;
      }
    }
    admission_waiting_ = false;
    if (reader_error_) std::rethrow_exception(reader_error_);
    const size_t n = std::min(wanted, queue_.size());
    for (size_t i = 0; i < n; ++i) {
      items.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    admission.ended = (input_ended_ && queue_.empty()) || (limit > 0 && taken + static_cast<int64_t>(n) >= limit);
  }
  room_.notify_all();
  for (LiveItem& item : items) {
    position_ = item.after;
    if (item.blank) {
      ++counters_.blank_lines;
      continue;
    }
    ++counters_.read;
    if (!item.problem.empty()) {
      ++counters_.rejected;
      if (item.by_policy) {
        rejects_->drop_by_policy(item.source, item.offset, item.line, item.problem);
      } else {
        rejects_->reject(item.source, item.offset, item.problem, 1, item.line);
      }
      continue;
    }
    admission.splits.push_back(assign_split(item.record, options_, unseen_ids_, context_.seed));
    admission.records.push_back(std::move(item.record));
  }
  if (counters_.read >= kBudgetMinimum || admission.ended) {
    rejects_->check_budget(counters_.read - counters_.rejected, options_.max_reject_fraction);
  }
  return admission;
}

std::vector<DriftEvent> ContinuousStream::admit(const Admission& admission) {
  std::vector<DriftEvent> events;
  const auto window = static_cast<size_t>(options_.continuous.fresh_window);
  for (size_t i = 0; i < admission.records.size(); ++i) {
    const Record& record = admission.records[i];
    splitter_.add(counters_.accepted++, record);
    events.insert(events.end(), splitter_.raised().begin(), splitter_.raised().end());
    if (admission.splits[i] != Split::seen) continue;
    if (fresh_.size() < window) {
      fresh_.push_back(record);
    } else {
      fresh_[fresh_next_] = record;
      fresh_next_ = (fresh_next_ + 1) % window;
    }
  }
  return events;
}

bool ContinuousStream::ready() {
  if (ready_) return true;
  if (splitter_.reservoir().total_items() < options_.continuous.min_ready) return false;
  // Standardization from the reservoirs as they are now, fixed from here on (a checkpoint keeps it).
  std::vector<const Record*> records;
  for (int32_t label : splitter_.reservoir().labels()) {
    for (const Record& r : splitter_.reservoir().reservoir(label).items()) records.push_back(&r);
  }
  DataSpec raw = spec_;
  raw.input_mean.clear();
  raw.input_std.clear();
  TensorDataset seen = collate_records(records, raw, tokenizer_.get());
  learn_standardization(seen, spec_);
  ready_ = true;
  return true;
}

TensorDataset ContinuousStream::draw(int64_t n) {
  std::vector<const Record*> records;
  std::vector<int32_t> targets;
  const int64_t fresh = std::min<int64_t>(static_cast<int64_t>(fresh_.size()),
                                          std::llround(options_.continuous.fresh_share * static_cast<double>(n)));
  // The fresh part: the latest records, newest first (with their primary label).
  const auto size = static_cast<int64_t>(fresh_.size());
  const auto newest = static_cast<int64_t>(fresh_next_ == 0 ? size - 1 : fresh_next_ - 1);
  for (int64_t i = 0; i < fresh; ++i) {
    const Record& r = fresh_[static_cast<size_t>((newest - i + size) % size)];
    records.push_back(&r);
    targets.push_back(r.labels[0]);
  }
  // The rest: uniform over every reservoir slot.
  const StratifiedReservoir& reservoir = splitter_.reservoir();
  const std::vector<int32_t> labels = reservoir.labels();
  const int64_t total = reservoir.total_items();
  STRATUM_CHECK(total > 0, "draw from empty reservoirs");
  for (int64_t i = fresh; i < n; ++i) {
    int64_t slot = static_cast<int64_t>(draw_rng_.below(static_cast<uint64_t>(total)));
    for (int32_t label : labels) {
      const auto& items = reservoir.reservoir(label).items();
      if (slot < static_cast<int64_t>(items.size())) {
        records.push_back(&items[static_cast<size_t>(slot)]);
        targets.push_back(label);
        break;
      }
      slot -= static_cast<int64_t>(items.size());
    }
  }
  return collate_records(records, spec_, tokenizer_.get(), targets);
}

TensorDataset ContinuousStream::collate(const std::vector<const Record*>& records) const {
  return collate_records(records, spec_, tokenizer_.get());
}

TensorDataset ContinuousStream::seen() const {
  std::vector<const Record*> records;
  std::vector<int32_t> targets;
  for (int32_t label : splitter_.reservoir().labels()) {
    for (const Record& r : splitter_.reservoir().reservoir(label).items()) {
      records.push_back(&r);
      targets.push_back(label);
    }
  }
  return collate_records(records, spec_, tokenizer_.get(), targets);
}

TensorDataset ContinuousStream::validation() const {
  std::vector<const Record*> records;
  for (const Record& r : splitter_.validation()) records.push_back(&r);
  return collate(records);
}

TensorDataset ContinuousStream::unseen() const {
  std::vector<const Record*> records;
  for (const Record& r : splitter_.unseen()) records.push_back(&r);
  return collate(records);
}

std::vector<int64_t> ContinuousStream::seen_label_counts() const {
  std::vector<int64_t> counts(static_cast<size_t>(spec_.num_classes), 0);
  for (int32_t label : splitter_.reservoir().labels()) {
    if (label < spec_.num_classes) counts[static_cast<size_t>(label)] = splitter_.reservoir().reservoir(label).size();
  }
  return counts;
}

StreamCounters ContinuousStream::counters() const {
  StreamCounters c = counters_;
  std::lock_guard<std::mutex> lock(mutex_);
  c.reader_waits = reader_waits_;
  c.queued = static_cast<int64_t>(queue_.size());
  return c;
}

std::string ContinuousStream::save() const {
  std::ostringstream out;
  binary::write_u64(out, kStreamMagic);
  position_.save(out);
  binary::write_u64(out, static_cast<uint64_t>(counters_.read));
  binary::write_u64(out, static_cast<uint64_t>(counters_.accepted));
  binary::write_u64(out, static_cast<uint64_t>(counters_.rejected));
  binary::write_u64(out, static_cast<uint64_t>(counters_.blank_lines));
  binary::write_u64(out, static_cast<uint64_t>(counters_.trainer_waits));
  binary::write_string(out, rejects_->first());
  binary::write_u64(out, file_bytes(context_.rejects_path));
  binary::write_u64(out, ready_ ? 1 : 0);
  binary::write_u64(out, spec_.input_mean.size());
  for (size_t i = 0; i < spec_.input_mean.size(); ++i) {
    binary::write_f64(out, spec_.input_mean[i]);
    binary::write_f64(out, spec_.input_std[i]);
  }
  splitter_.save(out);
  binary::write_u64(out, fresh_.size());
  for (const Record& r : fresh_) binary::write_record(out, r);
  binary::write_u64(out, fresh_next_);
  for (uint64_t s : draw_rng_.state) binary::write_u64(out, s);
  return out.str();
}

void ContinuousStream::restore(const std::string& state) {
  std::istringstream in(state);
  const std::string where = "data_state.bin";
  binary::read_u64(in, where);
  StreamPosition::load(in, where);
  counters_.read = static_cast<int64_t>(binary::read_u64(in, where));
  counters_.accepted = static_cast<int64_t>(binary::read_u64(in, where));
  counters_.rejected = static_cast<int64_t>(binary::read_u64(in, where));
  counters_.blank_lines = static_cast<int64_t>(binary::read_u64(in, where));
  counters_.trainer_waits = static_cast<int64_t>(binary::read_u64(in, where));
  restored_rest_ = binary::read_string(in, where, 1 << 20);  // the first rejection's description
  cut_rejects(context_.rejects_path, binary::read_u64(in, where));
  ready_ = binary::read_u64(in, where) != 0;
  const uint64_t features = binary::read_count(in, where, uint64_t{1} << 24);
  spec_.input_mean.resize(features);
  spec_.input_std.resize(features);
  for (uint64_t i = 0; i < features; ++i) {
    spec_.input_mean[i] = static_cast<float>(binary::read_f64(in, where));
    spec_.input_std[i] = static_cast<float>(binary::read_f64(in, where));
  }
  splitter_.load(in, where);
  fresh_.assign(binary::read_count(in, where, static_cast<uint64_t>(options_.continuous.fresh_window)), {});
  for (Record& r : fresh_) r = binary::read_record(in, where);
  fresh_next_ = binary::read_u64(in, where);
  if (fresh_next_ > 0 && fresh_next_ >= fresh_.size()) throw UserError(where + ": corrupt state (fresh ring position)");
  for (uint64_t& s : draw_rng_.state) s = binary::read_u64(in, where);
}

}  // namespace stratum::data
