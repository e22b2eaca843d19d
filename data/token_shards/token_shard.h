#pragma once
// One token shard: the binary file `stratum data prepare` writes and training memory-maps.
//
// Layout, little-endian:
//   offset 0   char[8]   magic "STRTOKSH"
//          8   u32       format version (1)
//         12   u32       bytes per token: 2 (uint16, when the vocabulary fits) or 4 (uint32)
//         16   u64       vocabulary size: every token id is below it
//         24   u64       token count N
//         32   u64       document count D
//         40   u64[3]    reserved, zero
//         64   N tokens
//              u64[D+1]  document index: the token offset where each document starts, then N
// Every document ends with the end-of-text token, so the tokens read as one stream.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {

inline constexpr uint32_t kTokenShardVersion = 1;
inline constexpr uint64_t kTokenShardHeaderBytes = 64;

/// Bytes per token a vocabulary of `vocab_size` ids needs: 2 when they fit in uint16, else 4.
int token_bytes_for(uint64_t vocab_size);

/// Writes one shard document by document, streaming tokens to `path`.tmp (memory holds only
/// the document index); finish() completes the file and renames it into place, so `path` is
/// either a whole shard or absent.
class TokenShardWriter {
 public:
  TokenShardWriter(std::string path, uint64_t vocab_size);
  ~TokenShardWriter();  ///< an unfinished shard's temporary file is removed
  TokenShardWriter(const TokenShardWriter&) = delete;
  TokenShardWriter& operator=(const TokenShardWriter&) = delete;

  /// Appends one document (its ids already end with the end-of-text token).
  void add_document(const std::vector<int32_t>& ids);
  uint64_t tokens() const { return tokens_; }
  uint64_t documents() const { return starts_.size(); }
  /// Writes the index and header, syncs and renames; returns the shard's sha256.
  std::string finish();

 private:
  void write(const void* bytes, size_t size);

  std::string path_, tmp_;
  int fd_ = -1;
  uint64_t vocab_size_;
  int token_bytes_;
  uint64_t tokens_ = 0;
  std::vector<uint64_t> starts_;
  std::vector<unsigned char> buffer_;
};

/// A shard opened read-only through a memory map; header, size and document index checked on
/// open (a UserError naming the file otherwise). Reads copy tokens out, and every 64 reads
/// the mapped pages are handed back to the kernel, so a process's resident memory does not
/// grow with the corpus it reads.
/// Safe to read from several threads.
class TokenShard {
 public:
  explicit TokenShard(const std::string& path);
  ~TokenShard();
  TokenShard(const TokenShard&) = delete;
  TokenShard& operator=(const TokenShard&) = delete;

  const std::string& path() const { return path_; }
  uint64_t tokens() const { return tokens_; }
  uint64_t documents() const { return documents_; }
  uint64_t vocab_size() const { return vocab_size_; }
  int token_bytes() const { return token_bytes_; }

  /// Copies tokens [begin, begin + count) to `out` (a UserError naming the file when one is
  /// outside the vocabulary: the body is corrupt).
  void copy_tokens(uint64_t begin, uint64_t count, int64_t* out) const;

  /// Where document `d` starts (d == documents(): tokens()).
  uint64_t document_start(uint64_t d) const;
  /// The document holding token `t`.
  uint64_t document_of(uint64_t t) const;

 private:
  std::string path_;
  int fd_ = -1;
  const unsigned char* map_ = nullptr;
  uint64_t map_bytes_ = 0;
  uint64_t tokens_ = 0, documents_ = 0, vocab_size_ = 0;
  int token_bytes_ = 2;
  mutable std::atomic<uint64_t> reads_{0};
};

}  // namespace stratum::data
