#include "data/sources/synthetic_source.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "data/reject_log.h"
#include "data/splits/assemble.h"
#include "data/splits/stream_splitter.h"

namespace stratum::data {
namespace {

double normal(Rng& rng) {
  // Box-Muller; one of the pair is enough here.
  return std::sqrt(-2.0 * std::log(rng.uniform())) * std::cos(2.0 * M_PI * rng.uniform());
}

int64_t events_before(const std::vector<int64_t>& points, int64_t index) {
  return std::count_if(points.begin(), points.end(), [&](int64_t p) { return p <= index; });
}

}  // namespace

SyntheticStream::SyntheticStream(const SyntheticOptions& options, uint64_t seed, uint64_t stream)
    : options_(options), rng_(seed, stream) {}

Record SyntheticStream::next() {
  const int64_t index = index_++;
  const int64_t classes = options_.classes;
  // The prior p_c ~ imbalance^((c + shifts) mod classes): each label shift rotates it by one class.
  const int64_t rotation = events_before(options_.label_shift_at, index);
  std::vector<double> prior(static_cast<size_t>(classes));
  double total = 0;
  for (int64_t c = 0; c < classes; ++c) {
    prior[c] = std::pow(options_.imbalance, static_cast<double>((c + rotation) % classes));
    total += prior[c];
  }
  double u = rng_.uniform() * total;
  int64_t label = classes - 1;
  for (int64_t c = 0; c < classes; ++c) {
    if ((u -= prior[c]) < 0) {
      label = c;
      break;
    }
  }
  const double shift = options_.covariate_shift * static_cast<double>(events_before(options_.covariate_shift_at, index));
  Record record;
  record.features.resize(static_cast<size_t>(options_.features));
  for (int64_t f = 0; f < options_.features; ++f) {
    // Class c's mean sits `separation` along axis c mod F (and a smaller step along the next axis,
    // so classes sharing an axis stay apart).
    double mean = 0;
    if (f == label % options_.features) mean += options_.separation;
    if (f == (label / options_.features + label + 1) % options_.features) mean += 0.5 * options_.separation;
    record.features[f] = static_cast<float>(mean + shift + normal(rng_));
  }
  record.labels = {static_cast<int32_t>(label)};
  record.time = static_cast<double>(index);
  record.origin.offset = static_cast<uint64_t>(index);
  if (options_.corrupt_fraction > 0 && rng_.uniform() < options_.corrupt_fraction) {
    if (rng_.uniform() < 0.5) {
      record.features[rng_.below(record.features.size())] = std::numeric_limits<float>::quiet_NaN();
    } else {
      record.labels = {static_cast<int32_t>(classes + 1)};
    }
  }
  return record;
}

std::string SyntheticStream::validate(const Record& record, int64_t classes, int64_t features) {
  if (static_cast<int64_t>(record.features.size()) != features) return "wrong number of features";
  for (float f : record.features) {
    if (!std::isfinite(f)) return "non-finite feature value";
  }
  if (record.labels.empty()) return "missing label";
  for (int32_t l : record.labels) {
    if (l < 0 || l >= classes) return "unknown label " + std::to_string(l);
  }
  return "";
}

SplitData read_synthetic_source(const DataOptions& options, const DataContext& context) {
  const SyntheticOptions& synthetic = options.synthetic;
  RejectLog rejects(context.rejects_path, context.append_rejects);
  DataSpec spec;
  spec.kind = InputKind::features;
  spec.input_shape = {synthetic.features};
  spec.num_classes = synthetic.classes;
  for (int64_t c = 0; c < synthetic.classes; ++c) spec.class_names.push_back("class" + std::to_string(c));

  if (options.unseen.by == UnseenBy::source) {
    throw UserError("data.unseen.by: \"source\" needs a multi-file source (fortunes); use file, label or time");
  }
  StreamSplitter splitter(options, context, {resolve_unseen_labels(options, spec.class_names), {}});
  SyntheticStream stream(synthetic, context.seed, 1);
  for (int64_t i = 0; i < synthetic.records; ++i) {
    const Record record = stream.next();
    const std::string problem = SyntheticStream::validate(record, synthetic.classes, synthetic.features);
    if (!problem.empty()) {
      if (i % context.world_size == context.rank) rejects.reject("synthetic", static_cast<uint64_t>(i), problem);
      continue;
    }
    if (!splitter.add(i, record)) break;
  }
  splitter.finish();
  rejects.check_budget(splitter.records_accepted(), options.max_reject_fraction);

  SourceFacts facts;
  facts.spec = spec;
  std::vector<Record> held_out;
  if (options.unseen.by == UnseenBy::file) {
    // An independent draw of the stream as it was before any shift: the "test file".
    SyntheticOptions clean = synthetic;
    clean.label_shift_at.clear();
    clean.covariate_shift_at.clear();
    clean.corrupt_fraction = 0;
    SyntheticStream test(clean, context.seed, 2);
    const int64_t n = std::max<int64_t>(1, synthetic.records / 5);
    for (int64_t i = 0; i < n; ++i) held_out.push_back(test.next());
    for (const Record& r : held_out) facts.held_out_file.push_back(&r);
    facts.unseen_description = "an independent unshifted draw of the stream";
  } else {
    facts.unseen_description = "held out from the training stream by " + std::string(choice_name(options.unseen.by));
  }
  facts.records_rejected = rejects.total();
  return assemble_splits(splitter, std::move(facts), options, context);
}

}  // namespace stratum::data
