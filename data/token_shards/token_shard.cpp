#include "data/token_shards/token_shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/sha256.h"

namespace stratum::data {
namespace {

constexpr char kMagic[8] = {'S', 'T', 'R', 'T', 'O', 'K', 'S', 'H'};
// Reads between two releases of a shard's pages: at most this many fault-around blocks of
// 64 KiB (4 MiB) stay mapped.
constexpr uint64_t kReadsPerRelease = 64;

void put_u32(unsigned char* at, uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<unsigned char>(v >> (8 * i));
}
void put_u64(unsigned char* at, uint64_t v) {
  for (int i = 0; i < 8; ++i) at[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint32_t get_u32(const unsigned char* at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | at[i];
  return v;
}
uint64_t get_u64(const unsigned char* at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | at[i];
  return v;
}

}  // namespace

int token_bytes_for(uint64_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

TokenShardWriter::TokenShardWriter(std::string path, uint64_t vocab_size)
    : path_(std::move(path)), tmp_(path_ + ".tmp"), vocab_size_(vocab_size), token_bytes_(token_bytes_for(vocab_size)) {
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UserError(tmp_ + ": cannot write: " + std::strerror(errno));
  const unsigned char header[kTokenShardHeaderBytes] = {};
  write(header, sizeof header);  // filled in by finish()
}

TokenShardWriter::~TokenShardWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void TokenShardWriter::write(const void* bytes, size_t size) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw UserError(tmp_ + ": cannot write: " + std::strerror(errno));
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void TokenShardWriter::add_document(const std::vector<int32_t>& ids) {
  STRATUM_CHECK(!ids.empty(), "a document holds at least its end-of-text token");
  starts_.push_back(tokens_);
  buffer_.resize(ids.size() * static_cast<size_t>(token_bytes_));
  unsigned char* out = buffer_.data();
  for (const int32_t id : ids) {
    STRATUM_CHECK(id >= 0 && static_cast<uint64_t>(id) < vocab_size_, "token id outside the vocabulary");
    for (int b = 0; b < token_bytes_; ++b) *out++ = static_cast<unsigned char>(static_cast<uint32_t>(id) >> (8 * b));
  }
  write(buffer_.data(), buffer_.size());
  tokens_ += ids.size();
}

std::string TokenShardWriter::finish() {
  std::vector<unsigned char> index((starts_.size() + 1) * 8);
  for (size_t d = 0; d <= starts_.size(); ++d) put_u64(index.data() + 8 * d, d < starts_.size() ? starts_[d] : tokens_);
  write(index.data(), index.size());
  unsigned char header[kTokenShardHeaderBytes] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  put_u32(header + 8, kTokenShardVersion);
  put_u32(header + 12, static_cast<uint32_t>(token_bytes_));
  put_u64(header + 16, vocab_size_);
  put_u64(header + 24, tokens_);
  put_u64(header + 32, starts_.size());
  if (::pwrite(fd_, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) || ::fsync(fd_) != 0 ||
      ::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(tmp_.c_str());
    throw UserError(tmp_ + ": cannot write: " + std::strerror(errno));
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    throw UserError(path_ + ": cannot write: " + std::strerror(err));
  }
  return sha256_file(path_);
}

TokenShard::TokenShard(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw UserError(path + ": cannot open token shard: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw UserError(path + ": not a regular file");
  }
  map_bytes_ = static_cast<uint64_t>(st.st_size);
  const auto fail = [&](const std::string& why) {
    if (map_) ::munmap(const_cast<unsigned char*>(map_), map_bytes_);
    ::close(fd_);
    fd_ = -1;
    throw UserError(path + ": not a Stratum token shard: " + why);
  };
  if (map_bytes_ < kTokenShardHeaderBytes) fail("shorter than its 64-byte header (truncated?)");
  void* map = ::mmap(nullptr, map_bytes_, PROT_READ, MAP_SHARED, fd_, 0);
  if (map == MAP_FAILED) fail(std::string("cannot memory-map: ") + std::strerror(errno));
  map_ = static_cast<const unsigned char*>(map);
  ::madvise(map, map_bytes_, MADV_RANDOM);  // windows are read in shuffled order: no read-ahead
  if (std::memcmp(map_, kMagic, sizeof kMagic) != 0) fail("wrong magic (expected STRTOKSH)");
  const uint32_t version = get_u32(map_ + 8);
  if (version != kTokenShardVersion) {
    fail("format version " + std::to_string(version) + ", this Stratum reads version " +
         std::to_string(kTokenShardVersion) + " (prepare the shards again)");
  }
  token_bytes_ = static_cast<int>(get_u32(map_ + 12));
  vocab_size_ = get_u64(map_ + 16);
  tokens_ = get_u64(map_ + 24);
  documents_ = get_u64(map_ + 32);
  if (token_bytes_ != 2 && token_bytes_ != 4) fail(std::to_string(token_bytes_) + " bytes per token (expected 2 or 4)");
  if (vocab_size_ == 0 || token_bytes_ != token_bytes_for(vocab_size_)) {
    fail("vocabulary of " + std::to_string(vocab_size_) + " ids with " + std::to_string(token_bytes_) + "-byte tokens");
  }
  // Sizes are checked against the file before any offset is computed from them.
  const uint64_t room = map_bytes_ - kTokenShardHeaderBytes;
  if (tokens_ > room / static_cast<uint64_t>(token_bytes_) || documents_ >= room / 8) fail("counts larger than the file");
  const uint64_t expected = kTokenShardHeaderBytes + tokens_ * static_cast<uint64_t>(token_bytes_) + (documents_ + 1) * 8;
  if (map_bytes_ != expected) {
    fail(std::to_string(map_bytes_) + " bytes, the header says " + std::to_string(expected) + " (truncated or extended)");
  }
  if (document_start(0) != 0 || document_start(documents_) != tokens_) fail("document index does not span the tokens");
  for (uint64_t d = 0; d < documents_; ++d) {
    if (document_start(d + 1) <= document_start(d)) fail("document index not ascending at document " + std::to_string(d));
  }
}

TokenShard::~TokenShard() {
  if (map_) ::munmap(const_cast<unsigned char*>(map_), map_bytes_);
  if (fd_ >= 0) ::close(fd_);
}

uint64_t TokenShard::document_start(uint64_t d) const {
  return get_u64(map_ + kTokenShardHeaderBytes + tokens_ * static_cast<uint64_t>(token_bytes_) + 8 * d);
}

uint64_t TokenShard::document_of(uint64_t t) const {
  uint64_t lo = 0, hi = documents_;  // the answer is in [lo, hi)
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    (document_start(mid) <= t ? lo : hi) = mid;
  }
  return lo;
}

void TokenShard::copy_tokens(uint64_t begin, uint64_t count, int64_t* out) const {
  STRATUM_CHECK(begin <= tokens_ && count <= tokens_ - begin, "token range outside the shard");
  const unsigned char* p = map_ + kTokenShardHeaderBytes + begin * static_cast<uint64_t>(token_bytes_);
  int64_t largest = 0;
  if (token_bytes_ == 2) {
    for (uint64_t i = 0; i < count; ++i) largest = std::max(largest, out[i] = p[2 * i] | (p[2 * i + 1] << 8));
  } else {
    for (uint64_t i = 0; i < count; ++i) largest = std::max(largest, out[i] = static_cast<int64_t>(get_u32(p + 4 * i)));
  }
  if (static_cast<uint64_t>(largest) >= vocab_size_) {
    throw UserError(path_ + ": token id " + std::to_string(largest) + " near token " + std::to_string(begin) +
                    " is outside the shard's vocabulary of " + std::to_string(vocab_size_) + " (corrupt body)");
  }
  // The pages go back to the kernel's cache every so many reads: they stay cached for other
  // reads but stop counting as this process's memory. Not page by page: each fault maps its
  // neighbours too (the kernel's fault-around, up to 64 KiB), behind a page-wise release.
  if (reads_.fetch_add(1, std::memory_order_relaxed) % kReadsPerRelease == kReadsPerRelease - 1) {
    ::madvise(const_cast<unsigned char*>(map_), map_bytes_, MADV_DONTNEED);
  }
}

}  // namespace stratum::data
