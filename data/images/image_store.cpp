#include "data/images/image_store.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/parallel_ranges.h"

namespace stratum::data {

ImageStore::ImageStore(std::vector<Image> images, std::vector<int64_t> labels,
                       std::shared_ptr<const ImageTransform> transform, std::vector<int64_t> example_shape, uint64_t seed,
                       int64_t workers)
    : example_shape_(std::move(example_shape)),
      images_(std::move(images)),
      labels_(std::move(labels)),
      transform_(std::move(transform)),
      seed_(seed),
      workers_(std::max<int64_t>(1, workers)) {}

std::vector<int64_t> ImageStore::shape_for(int64_t n) const {
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), example_shape_.begin(), example_shape_.end());
  return shape;
}

Batch ImageStore::gather(const torch::Tensor& indices) const { return assemble(indices, 0, false); }

Batch ImageStore::gather_training(const torch::Tensor& indices, int64_t epoch) const {
  return assemble(indices, epoch, true);
}

// Each worker fills a contiguous range of the batch; every example's randomness is its own.
Batch ImageStore::assemble(const torch::Tensor& indices, int64_t epoch, bool train) const {
  const torch::Tensor index = indices.to(torch::kInt64).contiguous();
  const int64_t n = index.numel();
  const int64_t* ids = index.data_ptr<int64_t>();
  const int64_t size = transform_->example_size();
  torch::Tensor inputs = torch::empty({n, size}, torch::kFloat32);
  torch::Tensor targets = torch::empty({n}, torch::kInt64);
  float* out = inputs.data_ptr<float>();
  int64_t* labels = targets.data_ptr<int64_t>();
  const auto work = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const Image& kept = images_[static_cast<size_t>(ids[i])];
      if (train) {
        Rng rng = augmentation_rng(seed_, epoch, ids[i]);
        transform_->training(kept, rng, out + i * size);
      } else {
        transform_->evaluation(kept, out + i * size);
      }
      labels[i] = labels_[static_cast<size_t>(ids[i])];
    }
  };
  // A few examples per thread at least: threads cost more than tiny batches save.
  parallel_ranges(n, std::min(workers_, std::max<int64_t>(1, n / 4)), work);
  return {inputs.reshape(shape_for(n)), targets};
}

}  // namespace stratum::data
