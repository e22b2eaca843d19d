#include "engine/continuous/promotion_gate.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "data/binary_io.h"
#include "core/text.h"

namespace fs = std::filesystem;

namespace stratum {

PromotionGate::PromotionGate(const PromotionOptions& options, std::string promoted_dir)
    : options_(options), folder_(std::move(promoted_dir)), best_(std::nan("")), best_unseen_(std::nan("")) {
  if (!enabled()) return;
  const size_t dot = options_.metric.find('.');
  unseen_metric_ = "unseen" + options_.metric.substr(dot);
}

bool PromotionGate::candidate_at(int64_t step, bool evaluated) const {
  if (!enabled()) return false;
  return options_.every > 0 ? step % options_.every == 0 : evaluated;
}

PromotionGate::Decision PromotionGate::judge(const std::vector<SplitEvaluation>& evaluations,
                                             const std::vector<SplitEvaluation>* promoted) const {
  Decision d;
  d.value = metric_value(evaluations, options_.metric);
  d.unseen = metric_value(evaluations, unseen_metric_);
  d.previous = promoted ? metric_value(*promoted, options_.metric) : best_;
  d.previous_unseen = promoted ? metric_value(*promoted, unseen_metric_) : best_unseen_;
  const double bar = d.previous, bar_unseen = d.previous_unseen;
  const bool lower = lower_is_better(options_.metric);
  if (std::isnan(d.value)) {
    d.reason = options_.metric + " is not available (an empty split)";
    return d;
  }
  if (!std::isnan(bar)) {
    const double gain = lower ? bar - d.value : d.value - bar;
    if (gain < options_.min_delta) {
      d.reason = options_.metric + " " + format_number(d.value) + " does not beat " + format_number(bar) + " by " +
                 format_number(options_.min_delta);
      return d;
    }
  }
  if (!std::isnan(d.unseen) && !std::isnan(bar_unseen)) {
    const double loss = lower ? d.unseen - bar_unseen : bar_unseen - d.unseen;
    if (loss > options_.unseen_tolerance) {
      d.reason = unseen_metric_ + " " + format_number(d.unseen) + " regresses from " + format_number(bar_unseen) +
                 " by more than " + format_number(options_.unseen_tolerance);
      return d;
    }
  }
  d.promote = true;
  d.reason = std::isnan(bar) ? "the first candidate" : "beats " + format_number(bar);
  return d;
}

void PromotionGate::record_promotion(const std::string& dir, const Decision& decision) {
  nlohmann::ordered_json j;
  j["metric"] = options_.metric;
  j["value"] = decision.value;
  j["unseen"] = std::isnan(decision.unseen) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(decision.unseen);
  j["previous"] = std::isnan(decision.previous) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(decision.previous);
  write_file_atomically(dir + "/promotion.json", j.dump(2) + "\n");
  // LATEST last: a reader that sees it finds the checkpoint complete.
  write_file_atomically(folder_ + "/LATEST", fs::path(dir).filename().string() + "\n");
  best_ = decision.value;
  best_unseen_ = decision.unseen;
}

MetricRecord PromotionGate::event(const Decision& decision, int64_t step) const {
  MetricRecord record{"event", step, {}, {}};
  record.add("event", std::string(decision.promote ? "promotion" : "promotion_refused"))
      .add("metric", options_.metric)
      .add("value", decision.value)
      .add("previous", decision.previous)
      .add("reason", decision.reason);
  if (!std::isnan(decision.unseen)) record.add("unseen", decision.unseen);
  return record;
}

std::string PromotionGate::save() const {
  std::ostringstream out;
  data::binary::write_f64(out, best_);
  data::binary::write_f64(out, best_unseen_);
  return out.str();
}

void PromotionGate::load(const std::string& bytes, const std::string& where) {
  std::istringstream in(bytes);
  best_ = data::binary::read_f64(in, where);
  best_unseen_ = data::binary::read_f64(in, where);
}

}  // namespace stratum
