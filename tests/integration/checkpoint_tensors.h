#pragma once
// A checkpoint's model tensors read back by name, to compare runs that should end alike
// (header-only: its users link LibTorch).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
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

}  // namespace stratum::testing
