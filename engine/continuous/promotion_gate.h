#pragma once
// The promotion gate of a continuous run (continuous.promote): a candidate checkpoint becomes
// promoted/step-N only when it beats the last promoted one on the metric by min_delta and does
// not regress the unseen split (same metric) by more than unseen_tolerance. Both are scored on
// the same held-out records (the stream drifts: a score from an older validation ring is not
// comparable). promoted/LATEST names the newest promotion and is replaced atomically, for a
// serving process to pick up.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/evaluator.h"
#include "engine/metrics_writer.h"

namespace stratum {

/// Decides promotions and keeps what the last promoted checkpoint scored.
class PromotionGate {
 public:
  /// `promoted_dir`: the run's promoted/ folder (written on the first promotion).
  PromotionGate(const PromotionOptions& options, std::string promoted_dir);

  bool enabled() const { return !options_.metric.empty(); }
  /// Is `step` a step to consider a candidate at (given whether the run evaluated there)?
  bool candidate_at(int64_t step, bool evaluated) const;

  /// The judgement on one candidate.
  struct Decision {
    bool promote = false;
    std::string reason;
    double value = 0, previous = 0;             ///< the metric: candidate, last promoted (NaN: none yet)
    double unseen = 0, previous_unseen = 0;     ///< the same metric on the unseen split (NaN: none)
  };
  /// `promoted`: the last promoted model evaluated on the same (current) held-out records; without
  /// it (none promoted in this process yet) the candidate is held to the score stored at the
  /// last promotion.
  Decision judge(const std::vector<SplitEvaluation>& evaluations, const std::vector<SplitEvaluation>* promoted) const;

  /// After the candidate was written to `dir` (promoted/step-N): its promotion.json, then LATEST.
  void record_promotion(const std::string& dir, const Decision& decision);

  /// The metrics.jsonl event of a decision.
  MetricRecord event(const Decision& decision, int64_t step) const;

  const std::string& folder() const { return folder_; }

  /// What the last promoted checkpoint scored, for a checkpoint: a resumed run (in a run
  /// directory of its own) judges its candidates against the same bar.
  std::string save() const;
  void load(const std::string& bytes, const std::string& where);

 private:
  PromotionOptions options_;
  std::string folder_;
  std::string unseen_metric_;
  double best_, best_unseen_;
};

}  // namespace stratum
