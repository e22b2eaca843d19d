#pragma once
// What two runs that should end alike wrote, compared: checkpoints' model tensors by name,
// logged losses, evaluations (header-only: its users link LibTorch).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>

namespace stratum::testing {

// Every tensor of an archive, nested modules' archives included, by dotted name.
inline void collect_tensors(torch::serialize::InputArchive& archive, const std::string& prefix,
                            std::map<std::string, torch::Tensor>& out) {
  for (const std::string& key : archive.keys()) {
    torch::Tensor t;
    torch::serialize::InputArchive child;
    if (archive.try_read(key, t)) {
      out[prefix + key] = t;
    } else if (archive.try_read(key, child)) {
      collect_tensors(child, prefix + key + ".", out);
    }
  }
}

/// name -> tensor of a checkpoint's model.pt.
inline std::map<std::string, torch::Tensor> model_tensors(const std::string& checkpoint) {
  torch::serialize::InputArchive archive;
  archive.load_from(checkpoint + "/model.pt");
  std::map<std::string, torch::Tensor> out;
  collect_tensors(archive, "", out);
  return out;
}

/// The largest elementwise difference between two checkpoints' model tensors (a test
/// failure when their names or shapes differ).
inline double largest_difference(const std::string& a, const std::string& b) {
  const auto left = model_tensors(a), right = model_tensors(b);
  EXPECT_EQ(left.size(), right.size());
  EXPECT_FALSE(left.empty());
  double largest = 0;
  for (const auto& [name, t] : left) {
    if (!right.count(name) || right.at(name).sizes() != t.sizes()) {
      ADD_FAILURE() << name << " missing from " << b << " or shaped differently";
      continue;
    }
    if (t.is_floating_point()) largest = std::max(largest, (t - right.at(name)).abs().max().item<double>());
  }
  return largest;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

/// The runs logged a loss at the same steps, equal within `tolerance`.
inline void expect_same_losses(const std::map<int64_t, double>& expected, const std::map<int64_t, double>& got,
                               double tolerance) {
  ASSERT_EQ(expected.size(), got.size());
  for (const auto& [step, loss] : expected) EXPECT_NEAR(got.at(step), loss, tolerance) << "step " << step;
}

/// Two language-model runs' eval.json agree on seen and validation: the same tokens, the loss
/// within 1e-5, token accuracy within `accuracy_tolerance`.
inline void expect_same_token_evaluation(const std::string& expected_run, const std::string& got_run,
                                         double accuracy_tolerance) {
  const auto expected = read_json(expected_run + "/eval.json"), got = read_json(got_run + "/eval.json");
  for (const char* split : {"seen", "validation"}) {
    const auto& e = expected["splits"][split];
    const auto& g = got["splits"][split];
    EXPECT_EQ(g["tokens"], e["tokens"]) << split;
    EXPECT_NEAR(g["loss"].get<double>(), e["loss"].get<double>(), 1e-5) << split;
    EXPECT_NEAR(g["token_accuracy"].get<double>(), e["token_accuracy"].get<double>(), accuracy_tolerance) << split;
  }
}

}  // namespace stratum::testing
