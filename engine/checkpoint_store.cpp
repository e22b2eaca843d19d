#include "engine/checkpoint_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "engine/run_dir.h"
#include "core/sha256.h"
#include "core/text.h"

namespace fs = std::filesystem;

namespace stratum {
namespace {

constexpr const char* kMarker = "COMMITTED";
constexpr const char* kMetadata = "metadata.json";
constexpr uintmax_t kMaxMetadataBytes = 1 << 20;

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw UserError(path + ": cannot open to flush: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw UserError(path + ": cannot flush: " + std::strerror(errno));
}

bool plain_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos && name != kMarker &&
         name != kMetadata;
}

// step-N -> N, or -1 for any other name (including numbers too long to be a step).
int64_t step_of(const std::string& name) {
  if (name.rfind("step-", 0) != 0 || name.size() == 5 || name.size() > 5 + 18) return -1;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
  }
  return std::stoll(name.substr(5));
}

bool is_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

}  // namespace

CheckpointWriter::CheckpointWriter(const std::string& root, int64_t step) : root_(root), step_(step) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) throw UserError(root + ": cannot create checkpoint folder: " + ec.message());
  temp_ = (fs::path(root) / (".tmp-step-" + std::to_string(step) + "-" + std::to_string(::getpid()))).string();
  fs::remove_all(temp_, ec);
  if (!fs::create_directory(temp_, ec)) throw UserError(temp_ + ": cannot create: " + ec.message());
}

CheckpointWriter::~CheckpointWriter() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(temp_, ec);
  }
}

std::string CheckpointWriter::staged_path(const std::string& name) {
  STRATUM_CHECK(plain_name(name), "checkpoint file names are plain names: " + name);
  if (std::find(files_.begin(), files_.end(), name) == files_.end()) files_.push_back(name);
  return (fs::path(temp_) / name).string();
}

void CheckpointWriter::add_file(const std::string& name, const std::string& bytes) {
  write_file_atomically(staged_path(name), bytes);
}

std::string CheckpointWriter::commit() {
  // Test hook: holds the staged, uncommitted files for a while so a test can kill the process
  // mid-write deterministically (tests/integration/resume_test.cpp).
  if (const char* delay = std::getenv("STRATUM_TEST_CHECKPOINT_DELAY_MS")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(delay)));
  }
  nlohmann::ordered_json metadata;
  metadata["format_version"] = kCheckpointFormatVersion;
  metadata["step"] = step_;
  for (const auto& name : files_) {
    const std::string path = (fs::path(temp_) / name).string();
    if (!fs::is_regular_file(path)) throw UserError(path + ": staged checkpoint file was never written");
    fsync_path(path, false);
    metadata["sha256"][name] = sha256_file(path);
  }
  write_file_atomically((fs::path(temp_) / kMetadata).string(), metadata.dump(2) + "\n");
  fsync_path(temp_, true);

  const std::string final_dir = (fs::path(root_) / ("step-" + std::to_string(step_))).string();
  std::error_code ec;
  if (fs::exists(final_dir)) {
    // Retire the old copy of this step under a temporary name first, so a complete directory
    // always exists under one of the two names.
    const std::string retired = final_dir + ".old-" + std::to_string(::getpid());
    fs::rename(final_dir, retired, ec);
    if (ec) throw UserError(final_dir + ": cannot replace: " + ec.message());
    fs::rename(temp_, final_dir, ec);
    if (ec) throw UserError(final_dir + ": cannot rename into place: " + ec.message());
    fs::remove_all(retired, ec);
  } else {
    fs::rename(temp_, final_dir, ec);
    if (ec) throw UserError(final_dir + ": cannot rename into place: " + ec.message());
  }
  fsync_path(root_, true);
  write_file_atomically((fs::path(final_dir) / kMarker).string(), std::to_string(step_) + "\n");
  fsync_path(final_dir, true);
  committed_ = true;
  return final_dir;
}

CheckpointInfo verify_checkpoint(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw UserError(dir + ": no such checkpoint directory" + (ec ? " (" + ec.message() + ")" : std::string()));
  }
  const fs::path marker = fs::path(dir) / kMarker;
  if (!is_file(marker)) {
    throw UserError(marker.string() + ": missing commit marker (the checkpoint was never completed)");
  }
  const fs::path metadata_path = fs::path(dir) / kMetadata;
  const uintmax_t size = fs::file_size(metadata_path, ec);
  if (ec) throw UserError(metadata_path.string() + ": missing checkpoint metadata");
  if (size > kMaxMetadataBytes) throw UserError(metadata_path.string() + ": implausibly large metadata");
  std::ifstream in(metadata_path);
  const nlohmann::json metadata = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (metadata.is_discarded() || !metadata.is_object()) {
    throw UserError(metadata_path.string() + ": corrupt checkpoint metadata (not a JSON object)");
  }
  CheckpointInfo info;
  info.path = dir;
  if (!metadata.contains("format_version") || !metadata["format_version"].is_number_integer()) {
    throw UserError(metadata_path.string() + ": no format_version");
  }
  info.format_version = metadata["format_version"].get<int64_t>();
  if (info.format_version != kCheckpointFormatVersion) {
    throw UserError(metadata_path.string() + ": unknown checkpoint format version " +
                    std::to_string(info.format_version) + " (this build reads version " +
                    std::to_string(kCheckpointFormatVersion) + ")");
  }
  const auto& step = metadata.contains("step") ? metadata["step"] : nlohmann::json();
  if (!step.is_number_integer() || step.get<int64_t>() < 0 ||
      (step.is_number_unsigned() && step.get<uint64_t>() > (uint64_t{1} << 62))) {
    throw UserError(metadata_path.string() + ": step must be a non-negative integer, found " +
                    printable(step.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 40));
  }
  info.step = step.get<int64_t>();
  if (metadata.contains("sha256")) {
    if (!metadata["sha256"].is_object()) throw UserError(metadata_path.string() + ": malformed file list");
    for (const auto& [name, digest] : metadata["sha256"].items()) {
      if (!plain_name(name) || !digest.is_string()) {
        throw UserError(metadata_path.string() + ": malformed file list (entry \"" + printable(name, 60) + "\")");
      }
      const fs::path file = fs::path(dir) / name;
      if (!is_file(file)) throw UserError(file.string() + ": missing from the checkpoint");
      if (sha256_file(file.string()) != digest.get<std::string>()) {
        throw UserError(file.string() + ": checksum mismatch (the file is corrupt or was changed)");
      }
      info.sha256[name] = digest.get<std::string>();
    }
  }
  return info;
}

std::string latest_checkpoint(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return "";
  int64_t best = -1;
  std::string path;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const int64_t step = step_of(entry.path().filename().string());
    if (step > best && is_file(entry.path() / kMarker)) {
      best = step;
      path = entry.path().string();
    }
  }
  return path;
}

void rotate_checkpoints(const std::string& root, int64_t keep_last) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return;
  std::vector<std::pair<int64_t, fs::path>> committed;
  std::vector<fs::path> debris;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    const int64_t step = step_of(name);
    if (step >= 0 && is_file(entry.path() / kMarker)) {
      committed.emplace_back(step, entry.path());
    } else if (step >= 0 || name.rfind(".tmp-step-", 0) == 0 ||
               (name.rfind("step-", 0) == 0 && name.find(".old-") != std::string::npos)) {
      debris.push_back(entry.path());
    }
  }
  std::sort(committed.begin(), committed.end());
  for (size_t i = 0; i + static_cast<size_t>(std::max<int64_t>(keep_last, 1)) < committed.size(); ++i) {
    debris.push_back(committed[i].second);
  }
  for (const auto& path : debris) fs::remove_all(path, ec);
}

}  // namespace stratum
