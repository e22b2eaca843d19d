#include "engine/continuous/prequential.h"

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "data/binary_io.h"

namespace stratum {

PrequentialWindows::PrequentialWindows(int64_t window, std::vector<std::string> class_names)
    : window_(window),
      names_(std::move(class_names)),
      true_positive_(names_.size(), 0),
      false_positive_(names_.size(), 0),
      false_negative_(names_.size(), 0) {}

std::optional<MetricRecord> PrequentialWindows::add(int64_t target, int64_t predicted, double loss, int64_t step,
                                                    int64_t stream_record) {
  const auto classes = static_cast<int64_t>(names_.size());
  ++scored_;
  loss_sum_ += loss;
  if (predicted == target) {
    ++correct_;
    if (target >= 0 && target < classes) ++true_positive_[static_cast<size_t>(target)];
  } else {
    if (target >= 0 && target < classes) ++false_negative_[static_cast<size_t>(target)];
    if (predicted >= 0 && predicted < classes) ++false_positive_[static_cast<size_t>(predicted)];
  }
  if (scored_ < window_) return std::nullopt;
  return close(step, stream_record);
}

// Macro-F1 over the labels the window holds or predicts (others have no F1 to average).
MetricRecord PrequentialWindows::close(int64_t step, int64_t stream_record) {
  MetricRecord record{"prequential", step, {}, {}};
  record.add("window", static_cast<double>(closed_)).add("records", static_cast<double>(stream_record));
  record.add("accuracy", static_cast<double>(correct_) / static_cast<double>(scored_));
  record.add("loss", loss_sum_ / static_cast<double>(scored_));
  double f1_sum = 0;
  int64_t f1_labels = 0;
  std::vector<std::pair<std::string, double>> recalls;
  for (size_t c = 0; c < names_.size(); ++c) {
    const int64_t tp = true_positive_[c], fp = false_positive_[c], fn = false_negative_[c];
    if (tp + fp + fn == 0) continue;
    f1_sum += 2.0 * static_cast<double>(tp) / static_cast<double>(2 * tp + fp + fn);
    ++f1_labels;
    if (tp + fn > 0) recalls.emplace_back("recall/" + names_[c], static_cast<double>(tp) / static_cast<double>(tp + fn));
  }
  record.add("macro_f1", f1_labels > 0 ? f1_sum / static_cast<double>(f1_labels) : std::nan(""));
  for (auto& [key, value] : recalls) record.add(key, value);
  ++closed_;
  scored_ = correct_ = 0;
  loss_sum_ = 0;
  std::fill(true_positive_.begin(), true_positive_.end(), 0);
  std::fill(false_positive_.begin(), false_positive_.end(), 0);
  std::fill(false_negative_.begin(), false_negative_.end(), 0);
  return record;
}

std::string PrequentialWindows::save() const {
  std::ostringstream out;
  data::binary::write_u64(out, static_cast<uint64_t>(closed_));
  data::binary::write_u64(out, static_cast<uint64_t>(scored_));
  data::binary::write_u64(out, static_cast<uint64_t>(correct_));
  data::binary::write_f64(out, loss_sum_);
  data::binary::write_u64(out, names_.size());
  for (size_t c = 0; c < names_.size(); ++c) {
    data::binary::write_u64(out, static_cast<uint64_t>(true_positive_[c]));
    data::binary::write_u64(out, static_cast<uint64_t>(false_positive_[c]));
    data::binary::write_u64(out, static_cast<uint64_t>(false_negative_[c]));
  }
  return out.str();
}

void PrequentialWindows::load(const std::string& bytes, const std::string& where) {
  std::istringstream in(bytes);
  closed_ = static_cast<int64_t>(data::binary::read_u64(in, where));
  scored_ = static_cast<int64_t>(data::binary::read_u64(in, where));
  correct_ = static_cast<int64_t>(data::binary::read_u64(in, where));
  loss_sum_ = data::binary::read_f64(in, where);
  if (data::binary::read_u64(in, where) != names_.size()) throw UserError(where + ": the checkpoint's prequential counts are for other classes");
  for (size_t c = 0; c < names_.size(); ++c) {
    true_positive_[c] = static_cast<int64_t>(data::binary::read_u64(in, where));
    false_positive_[c] = static_cast<int64_t>(data::binary::read_u64(in, where));
    false_negative_[c] = static_cast<int64_t>(data::binary::read_u64(in, where));
  }
}

}  // namespace stratum
