#pragma once
// A split of images kept as 8-bit pixels (a quarter of float tensors' memory) and turned into
// examples when a batch is gathered, on a few threads: center crops for evaluation, seeded
// random augmentations for training.

#include <memory>
#include <vector>

#include "data/images/image_augment.h"
#include "data/tensor_dataset.h"

namespace stratum::data {

/// Kept images with their labels; gather() gives evaluation examples, gather_training()
/// augmented ones drawn from (seed, epoch, index), so no result depends on thread timing.
class ImageStore final : public ExampleStore {
 public:
  /// `example_shape`: {channels, size, size}.
  ImageStore(std::vector<Image> images, std::vector<int64_t> labels, std::shared_ptr<const ImageTransform> transform,
             std::vector<int64_t> example_shape, uint64_t seed, int64_t workers);

  int64_t size() const override { return static_cast<int64_t>(images_.size()); }
  Batch gather(const torch::Tensor& indices) const override;
  Batch gather_training(const torch::Tensor& indices, int64_t epoch) const override;

  const Image& image(int64_t index) const { return images_[static_cast<size_t>(index)]; }

 private:
  Batch assemble(const torch::Tensor& indices, int64_t epoch, bool train) const;
  std::vector<int64_t> shape_for(int64_t n) const;

  std::vector<int64_t> example_shape_;
  std::vector<Image> images_;
  std::vector<int64_t> labels_;
  std::shared_ptr<const ImageTransform> transform_;
  uint64_t seed_;
  int64_t workers_;
};

}  // namespace stratum::data
