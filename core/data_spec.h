#pragma once
// What the data looks like, so a model can be sized without knowing where the data came from.

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {

/// What one example's input tensor holds.
enum class InputKind { images, features, tokens };

/// Shape and label space of one data source's examples.
struct DataSpec {
  InputKind kind = InputKind::images;    ///< float images (C, H, W), float features (F), or int64 tokens (T)
  std::vector<int64_t> input_shape;      ///< one example, e.g. {1, 28, 28}; {T} for token sequences
  int64_t num_classes = 0;               ///< classification label count (0: not a classification source)
  int64_t vocab_size = 0;                ///< token vocabulary (0: not a text source)
  int64_t pad_token = -1;                ///< token id that fills short sequences (-1: none)
  std::vector<std::string> class_names;  ///< display names, index = class id
  /// Standardization learned from the seen split (images: one mean and deviation of [0, 1]
  /// pixels; features: one per feature; tokens: none), so new inputs can be prepared alike.
  std::vector<float> input_mean, input_std;
};

/// Byte-level text: `length` ids per example, 0-255 the bytes and 256 the padding.
inline DataSpec byte_token_spec(int64_t length, int64_t num_classes = 0) {
  DataSpec spec;
  spec.kind = InputKind::tokens;
  spec.input_shape = {length};
  spec.vocab_size = 257;
  spec.pad_token = 256;
  spec.num_classes = num_classes;
  return spec;
}

}  // namespace stratum::data
