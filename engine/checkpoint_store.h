#pragma once
// Crash-safe checkpoint directories. A checkpoint is written into a temporary directory,
// every file fsynced, then a metadata.json with the format version, the step and the sha256
// of every file, then the directory is renamed to `step-N` and a COMMITTED marker is written
// last. Only directories with the marker are ever loaded, and loading verifies every hash, so
// a crash or a kill at any moment leaves the previous checkpoint usable.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stratum {

/// Builds one checkpoint directory; nothing is visible under `root` until `commit`.
class CheckpointWriter {
 public:
  /// Starts `<root>/step-<step>` in a temporary sibling directory.
  CheckpointWriter(const std::string& root, int64_t step);
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  /// Writes `bytes` as file `name` (a plain file name) and fsyncs it.
  void add_file(const std::string& name, const std::string& bytes);

  /// Path where a caller may write file `name` itself (e.g. torch::save); it is hashed and
  /// fsynced at commit.
  std::string staged_path(const std::string& name);

  /// Writes metadata.json, renames into place, writes COMMITTED and fsyncs the folders.
  /// Returns the final directory. An existing `step-N` is replaced only after the new one is
  /// complete.
  std::string commit();

 private:
  std::string root_, temp_;
  int64_t step_;
  std::vector<std::string> files_;
  bool committed_ = false;
};

/// What a verified checkpoint holds.
struct CheckpointInfo {
  std::string path;
  int64_t step = 0;
  int64_t format_version = 0;
  std::map<std::string, std::string> sha256;  ///< file name -> hex digest
};

/// The format version this build writes and reads.
constexpr int64_t kCheckpointFormatVersion = 1;

/// Checks `dir` fails closed: the COMMITTED marker, metadata.json, a known format version,
/// every listed file present with its sha256. Any problem is a UserError naming the file.
CheckpointInfo verify_checkpoint(const std::string& dir);

/// The committed checkpoint with the highest step under `root`, or "" when there is none.
std::string latest_checkpoint(const std::string& root);

/// Deletes all but the newest `keep_last` committed checkpoints, and any temporary or
/// uncommitted directory left by an interrupted write.
void rotate_checkpoints(const std::string& root, int64_t keep_last);

}  // namespace stratum
