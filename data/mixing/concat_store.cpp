#include "data/mixing/concat_store.h"

#include <torch/torch.h>

namespace stratum::data {

ConcatStore::ConcatStore(std::vector<Part> parts) : parts_(std::move(parts)) {
  begins_.push_back(0);
  for (const Part& part : parts_) begins_.push_back(begins_.back() + part.examples.size());
}

Batch ConcatStore::collect(const torch::Tensor& indices, int64_t epoch) const {
  const int64_t n = indices.size(0);
  Batch out;
  for (size_t p = 0; p < parts_.size(); ++p) {
    const Part& part = parts_[p];
    const torch::Tensor positions = (indices.ge(begins_[p]) & indices.lt(begins_[p + 1])).nonzero().squeeze(1);
    if (positions.numel() == 0) continue;
    const torch::Tensor local = indices.index_select(0, positions) - begins_[p];
    Batch b = epoch < 0 ? part.examples.gather(local) : part.examples.gather_training(local, epoch);
    if (part.scale.defined()) b.inputs = b.inputs * part.scale + part.shift;
    if (part.class_map.defined() && b.targets.dim() == 1 && b.targets.scalar_type() == torch::kInt64) {
      // Unlabeled examples (-1) stay unlabeled.
      b.targets = torch::where(b.targets.ge(0), part.class_map.index_select(0, b.targets.clamp_min(0)), b.targets);
    }
    if (!out.inputs.defined()) {
      auto shape = b.inputs.sizes().vec();
      shape[0] = n;
      out.inputs = torch::empty(shape, b.inputs.options());
      auto target_shape = b.targets.sizes().vec();
      target_shape[0] = n;
      out.targets = torch::empty(target_shape, b.targets.options());
    }
    out.inputs.index_copy_(0, positions, b.inputs);
    out.targets.index_copy_(0, positions, b.targets);
  }
  return out;
}

}  // namespace stratum::data
