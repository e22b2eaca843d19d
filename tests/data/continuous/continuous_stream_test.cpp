// The data side of continuous training: lockstep admission is reproducible across a save and
// a resume, rejected lines are counted and listed once, held-out rings and draws are bounded,
// and a batch mixes the freshest records with the reservoirs as configured.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "core/error.h"
#include "data/continuous/continuous_stream.h"
#include "support/temp_dir.h"

namespace stratum::data {
namespace {

using stratum::testing::TempDir;

DataOptions synthetic_options(int64_t records) {
  DataOptions o;
  o.source = "synthetic";
  o.synthetic.records = records;
  o.synthetic.classes = 4;
  o.synthetic.features = 3;
  o.synthetic.label_shift_at = {1500};
  o.synthetic.corrupt_fraction = 0.01;
  o.reservoir.max_per_label = 200;
  o.reservoir.max_items = 600;
  o.reservoir.decay = 0.001;
  o.drift.window = 300;
  o.continuous.min_ready = 100;
  o.continuous.records_per_step = 40;
  o.continuous.fresh_share = 0.25;
  o.continuous.fresh_window = 64;
  o.continuous.held_out = 50;
  o.continuous.queue = 128;
  o.max_reject_fraction = 0.05;
  o.unseen.by = UnseenBy::none;
  return o;
}

// Takes and admits until ready (like the trainer's warm-up).
void fill(ContinuousStream& stream) {
  while (!stream.ready()) {
    const Admission a = stream.take();
    stream.admit(a);
    // A short stream may arrive whole in the first take.
    if (a.ended) ASSERT_TRUE(stream.ready()) << "the stream ended before min_ready";
  }
}

// `steps` steps of take + admit + draw; returns the drawn inputs and targets, concatenated.
std::pair<torch::Tensor, torch::Tensor> run_steps(ContinuousStream& stream, int steps) {
  std::vector<torch::Tensor> inputs, targets;
  for (int s = 0; s < steps; ++s) {
    Admission a = stream.take();
    while (a.waiting) a = stream.take();
    stream.admit(a);
    const TensorDataset batch = stream.draw(16);
    inputs.push_back(batch.inputs);
    targets.push_back(batch.targets);
  }
  return {torch::cat(inputs), torch::cat(targets)};
}

TEST(ContinuousStream, LockstepRunsAreReproducibleAcrossASaveAndResume) {
  TempDir dir;
  const DataOptions options = synthetic_options(4000);
  DataContext context;
  context.seed = 11;
  context.rejects_path = dir.path() + "/a.jsonl";
  ContinuousStream whole(options, context);
  fill(whole);
  const auto [all_inputs, all_targets] = run_steps(whole, 60);

  DataContext first_context = context;
  first_context.rejects_path = dir.path() + "/b.jsonl";
  std::string state;
  torch::Tensor first_inputs;
  {
    ContinuousStream first(options, first_context);
    fill(first);
    first_inputs = run_steps(first, 25).first;
    state = first.save();
    // The reader has read ahead; what is committed is only what was taken.
    EXPECT_LT(first.position().sequence, 4000u);
  }
  ContinuousStream resumed(options, first_context, state);
  EXPECT_TRUE(resumed.resumed());
  EXPECT_EQ(resumed.save(), state);  // the state rebuilt from the checkpoint, byte for byte
  const torch::Tensor rest_inputs = run_steps(resumed, 35).first;
  EXPECT_TRUE(torch::equal(torch::cat({first_inputs, rest_inputs}), all_inputs));
  EXPECT_EQ(resumed.position().sequence, whole.position().sequence);
  // Every line is accounted for once: read = accepted + rejected, in the rejects file too.
  const StreamCounters c = resumed.counters();
  const StreamCounters w = whole.counters();
  EXPECT_EQ(c.read, w.read);
  EXPECT_EQ(c.accepted, w.accepted);
  EXPECT_EQ(c.rejected, w.rejected);
  EXPECT_EQ(c.read, c.accepted + c.rejected);
  EXPECT_GT(c.rejected, 0);
  auto lines = [](const std::string& path) {
    std::ifstream in(path);
    int64_t n = 0;
    for (std::string l; std::getline(in, l);) ++n;
    return n;
  };
  EXPECT_EQ(lines(context.rejects_path), w.rejected);
  EXPECT_EQ(lines(first_context.rejects_path), c.rejected);
}

TEST(ContinuousStream, HeldOutRingsAndDriftHistoryStayBounded) {
  DataOptions options = synthetic_options(20000);
  options.continuous.records_per_step = 500;
  options.validation_fraction = 0.2;
  options.unseen.by = UnseenBy::label;
  options.unseen.labels = {"class3"};
  DataContext context;
  context.seed = 3;
  ContinuousStream stream(options, context);
  fill(stream);
  run_steps(stream, 30);
  EXPECT_EQ(stream.validation().size(), 50);
  EXPECT_EQ(stream.unseen().size(), 50);
  EXPECT_LE(stream.splitter().reservoir().total_items(), 600);
  // Validation is the latest held-out records: all arrived in the last stretch of the 15,500
  // read (about 650 records hold 50 validation ones here: after the label shift most of the
  // stream is the held-out class3), none from the ring's first turns.
  const TensorDataset v = stream.validation();
  ASSERT_EQ(v.times.size(), 50u);
  const double oldest = *std::min_element(v.times.begin(), v.times.end());
  EXPECT_GT(oldest, static_cast<double>(stream.counters().read) - 1500);
}

// Resident memory now, from /proc (peak RSS would keep the warm-up's high-water mark).
int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

// Memory does not grow with the stream's length: over 2 million records (drift windows closing,
// held-out rings turning over, reservoirs with decay replacing records) the second million
// needs no more resident memory than the first did (the queue is kept small, so how full it
// happens to be when measured moves the figure by little).
TEST(ContinuousStream, MemoryStaysBoundedHoweverLongTheStreamRuns) {
  DataOptions options = synthetic_options(2'000'000);
  options.synthetic.label_shift_at = {300'000, 900'000, 1'500'000};
  options.continuous.records_per_step = 0;
  options.continuous.max_admit = 2048;
  options.continuous.queue = 2048;
  options.drift.window = 200;  // 10,000 windows: more than the drift history keeps
  options.validation_fraction = 0.1;
  DataContext context;
  context.seed = 9;
  ContinuousStream stream(options, context);
  fill(stream);
  int64_t first_half = 0, second_half = 0;  // peak resident bytes after 200k, in each million
  for (;;) {
    const Admission a = stream.take();
    stream.admit(a);
    const int64_t read = stream.counters().read;
    if (read >= 200'000) (read < 1'000'000 ? first_half : second_half) = std::max(read < 1'000'000 ? first_half : second_half, resident_bytes());
    if (a.ended) break;
  }
  EXPECT_EQ(stream.counters().read, 2'000'000);
  EXPECT_LE(stream.splitter().drift().windows().size(), DriftMonitor::kMaxHistory);
  EXPECT_LE(stream.validation().size(), 50);
  // 4 MiB of slack for the allocator; keeping the second million's records would need ~50x that.
  EXPECT_LT(second_half - first_half, int64_t{4} << 20) << "first million: " << first_half << " bytes, second: " << second_half;
}

TEST(ContinuousStream, ABatchTakesItsFreshShareFromTheLatestSeenRecords) {
  DataOptions options = synthetic_options(3000);
  options.validation_fraction = 0;
  options.continuous.fresh_share = 0.5;
  DataContext context;
  context.seed = 5;
  ContinuousStream stream(options, context);
  fill(stream);
  Admission a = stream.take();
  while (a.waiting) a = stream.take();
  stream.admit(a);
  const TensorDataset batch = stream.draw(20);
  ASSERT_EQ(batch.size(), 20);
  // The first 10 are the newest admitted records, newest first.
  const double newest = a.records.back().time;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(batch.times[i], a.records[a.records.size() - 1 - i].time) << i;
  EXPECT_EQ(batch.times[0], newest);
}

// The uniform part of a draw is uniform over reservoir slots (records), not over labels: with
// imbalanced reservoirs each label's share of the draws is its share of the slots, and no slot
// is drawn more often than chance allows. Ten seeds; a draw uniform over labels first (the
// tempting mistake) fails both checks by far.
TEST(ContinuousStream, TheUniformPartOfADrawIsUniformOverReservoirSlots) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    DataOptions options = synthetic_options(3000);
    options.synthetic.imbalance = 0.3;  // class sizes fall off geometrically
    options.synthetic.label_shift_at = {};
    options.validation_fraction = 0;
    options.continuous.fresh_share = 0;
    options.reservoir.label_share_cap = 1.0;  // let the common classes fill their reservoirs
    options.reservoir.max_per_label = 300;
    options.continuous.min_ready = 300;
    DataContext context;
    context.seed = seed;
    ContinuousStream stream(options, context);
    fill(stream);
    std::map<double, int64_t> slot_draws;  // by record time (unique per synthetic record)
    std::vector<int64_t> label_draws(4, 0);
    constexpr int64_t kDraws = 40000;
    for (int64_t d = 0; d < kDraws / 200; ++d) {
      const TensorDataset batch = stream.draw(200);
      const auto targets = batch.targets.to(torch::kInt64);
      for (int64_t i = 0; i < batch.size(); ++i) {
        ++slot_draws[batch.times[static_cast<size_t>(i)]];
        ++label_draws[static_cast<size_t>(targets[i].item<int64_t>())];
      }
    }
    const std::vector<int64_t> slots = stream.seen_label_counts();
    int64_t total = 0;
    for (int64_t n : slots) total += n;
    ASSERT_GT(*std::max_element(slots.begin(), slots.end()), 2 * *std::min_element(slots.begin(), slots.end()))
        << "seed " << seed << ": the reservoirs should be imbalanced for this test to bite";
    // Each label's share within 5 standard errors of its share of the slots.
    for (size_t label = 0; label < slots.size(); ++label) {
      const double expected = static_cast<double>(slots[label]) / static_cast<double>(total);
      const double got = static_cast<double>(label_draws[label]) / static_cast<double>(kDraws);
      EXPECT_NEAR(got, expected, 5 * std::sqrt(expected * (1 - expected) / kDraws)) << "seed " << seed << " label " << label;
    }
    // Pearson's chi-square over every slot: mean df, standard deviation sqrt(2 df); 5 deviations
    // above the mean is far beyond chance (slots never drawn count too).
    const double expected = static_cast<double>(kDraws) / static_cast<double>(total);
    double chi2 = static_cast<double>(total - static_cast<int64_t>(slot_draws.size())) * expected;
    for (const auto& [time, n] : slot_draws) chi2 += (static_cast<double>(n) - expected) * (static_cast<double>(n) - expected) / expected;
    const double df = static_cast<double>(total - 1);
    EXPECT_LE(static_cast<int64_t>(slot_draws.size()), total);
    EXPECT_LT(chi2, df + 5 * std::sqrt(2 * df)) << "seed " << seed << ": " << total << " slots";
  }
}

TEST(ContinuousStream, TextLinesWithUnknownLabelsAreRejectedAndTheBudgetHolds) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 400; ++i) text += std::string(i % 2 ? "pos" : "neg") + "\tline " + std::to_string(i) + "\n";
  text += "other\tan unknown label\n";
  text += "pos\ta broken \xff byte\n";
  const std::string path = dir.write("s.txt", text);
  DataOptions options;
  options.source = "text";
  options.path = path;
  options.labels = {"neg", "pos"};
  options.unseen.by = UnseenBy::none;
  options.continuous.min_ready = 50;
  DataContext context;
  context.seed = 1;
  context.rejects_path = dir.path() + "/rejects.jsonl";
  ContinuousStream stream(options, context);
  EXPECT_EQ(stream.spec().num_classes, 2);
  fill(stream);
  Admission a;
  do {
    a = stream.take();
    stream.admit(a);
  } while (!a.ended);
  const StreamCounters c = stream.counters();
  EXPECT_EQ(c.read, 402);
  EXPECT_EQ(c.rejected, 2);
  EXPECT_EQ(c.accepted, 400);
  const std::string rejects = stratum::testing::read_file(context.rejects_path);
  EXPECT_NE(rejects.find("unknown label"), std::string::npos);
  EXPECT_NE(rejects.find("not valid UTF-8 (byte 13)"), std::string::npos);

  // A stream of mostly bad lines stops the run within its error budget.
  std::string bad;
  for (int i = 0; i < 400; ++i) bad += "junk\tline\n";
  options.path = dir.write("bad.txt", bad);
  ContinuousStream broken(options, context);
  EXPECT_THROW(
      {
        for (;;) {
          const Admission b = broken.take();
          broken.admit(b);
          if (b.ended) break;
        }
      },
      UserError);
}

TEST(ContinuousStream, RefusesWhatCannotBeReadLive) {
  DataOptions options;
  options.source = "text";
  options.path = "/no/such/file";
  options.unseen.by = UnseenBy::none;
  DataContext context;
  EXPECT_THROW((ContinuousStream{options, context}), UserError);  // no data.labels
  options.labels = {"a", "b"};
  EXPECT_THROW((ContinuousStream{options, context}), UserError);  // missing file
  options.source = "image_folder";
  EXPECT_THROW((ContinuousStream{options, context}), UserError);
  DataOptions synthetic = synthetic_options(100);
  EXPECT_THROW((ContinuousStream{synthetic, context, "not a state"}), UserError);
}

}  // namespace
}  // namespace stratum::data
