#pragma once
// SHA-256 of bytes and files: manifests and checkpoints pin exactly which bytes they mean.

#include <cstddef>
#include <cstdint>
#include <string>

namespace stratum {

/// Incremental SHA-256: feed bytes with `update`, read the digest of everything so far with `hex`.
class Sha256 {
 public:
  void update(const void* bytes, size_t size);
  /// Lower-case hex digest of the bytes fed so far; more may be fed afterwards.
  std::string hex() const;
  /// The 32 raw digest bytes of the bytes fed so far.
  std::string digest() const;
  uint64_t size() const { return length_; }

 private:
  void compress(const unsigned char* block);

  uint32_t h_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  unsigned char buffer_[64] = {};
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

/// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(const std::string& bytes);

/// Lower-case hex HMAC-SHA256 (RFC 2104) of `message` under `key`: a tag only a holder of the
/// key can compute (redaction's stable tokens, the audit ledger's entry seals).
std::string hmac_sha256_hex(const std::string& key, const std::string& message);

/// Lower-case hex SHA-256 of the file at `path`, read in chunks; UserError if unreadable.
std::string sha256_file(const std::string& path);

}  // namespace stratum
