#pragma once
// An exclusive advisory lock (flock) on a file, held for the object's lifetime: what keeps two
// sweeps out of one folder and several writers of one audit ledger in line.

#include <string>

namespace stratum {

/// An open file (created when missing) and, when it could be had, its exclusive lock.
class FileLock {
 public:
  /// Opens `path` read-write and waits at most `wait_seconds` (0: not at all) for the lock;
  /// `locked()` says whether it was had. A file that cannot be opened is a UserError naming it.
  FileLock(const std::string& path, double wait_seconds);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  bool locked() const { return locked_; }
  /// The open file (read-write), for whoever holds the lock to work on.
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool locked_ = false;
};

}  // namespace stratum
