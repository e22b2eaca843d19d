#pragma once
// The run directory: one folder per run that explains itself (resolved config, logs,
// metrics, evaluation). Created so that it can never escape its root or overwrite a run.

#include <string>

#include "core/atomic_file.h"

namespace stratum {

/// A freshly created, empty run directory `<root>/<name>-<timestamp>[-N]`.
class RunDir {
 public:
  /// Creates the directory. `name` must be a plain folder name (letters, digits, `.`, `_`,
  /// `-`; not `.` or `..`): anything that could point outside `root` is a UserError.
  /// An existing directory is never reused; a numeric suffix keeps names unique.
  static RunDir create(const std::string& root, const std::string& name, const std::string& timestamp);

  /// The directory rank 0 of a multi-process job created, as the other ranks see it; a
  /// UserError when it is not a directory here (multi-node jobs need a shared run.output_dir).
  static RunDir joined(const std::string& path);

  /// Local time as YYYYmmdd-HHMMSS.
  static std::string timestamp_now();

  const std::string& path() const { return path_; }

  /// `path()/relative`.
  std::string file(const std::string& relative) const;

  /// Writes `text` to `relative` atomically (temporary file, fsync, rename).
  void write_file(const std::string& relative, const std::string& text) const;

 private:
  explicit RunDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};


}  // namespace stratum
