#include "data/token_shards/token_windows.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"

namespace stratum::data {

TokenWindows::TokenWindows(std::vector<std::shared_ptr<const TokenShard>> shards, int64_t length, Pack pack,
                           int64_t rank, int64_t world)
    : shards_(std::move(shards)), length_(length), pack_(pack), rank_(rank), world_(world) {
  STRATUM_CHECK(length > 0 && world > 0 && rank >= 0 && rank < world, "token windows need a length and a rank of world");
  starts_.push_back(0);
  document_starts_.push_back(0);
  for (const auto& shard : shards_) {
    starts_.push_back(starts_.back() + shard->tokens());
    document_starts_.push_back(document_starts_.back() + shard->documents());
  }
  const uint64_t total = starts_.back(), t = static_cast<uint64_t>(length);
  windows_ = total > t ? static_cast<int64_t>((total - 1) / t) : 0;
  size_ = windows_ > rank ? (windows_ - rank + world - 1) / world : 0;
}

uint64_t TokenWindows::unused_tokens() const {
  return stream_tokens() - static_cast<uint64_t>(windows_ * length_) - (windows_ > 0 ? 1 : 0);
}

size_t TokenWindows::shard_of(uint64_t position) const {
  // The last shard whose start is at or before `position` (empty shards are skipped over).
  return static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end() - 1, position) - starts_.begin()) - 1;
}

void TokenWindows::copy(uint64_t begin, uint64_t count, int64_t* out) const {
  for (size_t s = shard_of(begin); count > 0; ++s) {
    const uint64_t local = begin - starts_[s];
    const uint64_t n = std::min(count, shards_[s]->tokens() - local);
    shards_[s]->copy_tokens(local, n, out);
    out += n, begin += n, count -= n;
  }
}

void TokenWindows::number_documents(uint64_t begin, uint64_t count, int64_t* out) const {
  for (size_t s = shard_of(begin); count > 0; ++s) {
    const TokenShard& shard = *shards_[s];
    const uint64_t local = begin - starts_[s];
    const uint64_t n = std::min(count, shard.tokens() - local);
    uint64_t d = shard.document_of(local);
    uint64_t next = shard.document_start(d + 1);
    for (uint64_t i = 0; i < n; ++i) {
      while (local + i >= next) next = shard.document_start(++d + 1);
      *out++ = static_cast<int64_t>(document_starts_[s] + d);
    }
    begin += n, count -= n;
  }
}

Batch TokenWindows::gather(const torch::Tensor& indices) const {
  const torch::Tensor index = indices.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t rows = index.numel(), t = length_;
  torch::Tensor window = torch::empty({rows, t + 1}, torch::kInt64);
  torch::Tensor documents = pack_ == Pack::documents ? torch::empty({rows, t + 1}, torch::kInt64) : torch::Tensor();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t j = index.data_ptr<int64_t>()[r];
    STRATUM_CHECK(j >= 0 && j < size_, "token window index out of range");
    const uint64_t begin = static_cast<uint64_t>((rank_ + j * world_) * t);
    copy(begin, static_cast<uint64_t>(t + 1), window[r].data_ptr<int64_t>());
    if (documents.defined()) number_documents(begin, static_cast<uint64_t>(t + 1), documents[r].data_ptr<int64_t>());
  }
  Batch batch{window.narrow(1, 0, t).contiguous(), window.narrow(1, 1, t).contiguous()};
  if (documents.defined()) {
    const torch::Tensor here = documents.narrow(1, 0, t), next = documents.narrow(1, 1, t);
    batch.targets.masked_fill_(next.ne(here), -100);
    batch.segments = (here - documents.narrow(1, 0, 1)).contiguous();  // 0 for each row's first document
  }
  return batch;
}

}  // namespace stratum::data
