#include "engine/audit/audit_ledger.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_lock.h"
#include "core/log.h"
#include "core/read_file.h"
#include "core/sha256.h"

namespace fs = std::filesystem;

namespace stratum::audit {
namespace {

const std::string kGenesis(64, '0');
constexpr const char* kSealKey = ",\"hmac\":\"";
constexpr size_t kSealSize = 9 + 64 + 2;  // ,"hmac":" + 64 hex + "}
constexpr double kLockSeconds = 60;

bool is_hex64(const std::string& s, size_t at) {
  if (s.size() < at + 64) return false;
  for (size_t i = at; i < at + 64; ++i) {
    const char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The entry without its seal, and the seal ("" when it has none).
std::pair<std::string, std::string> unseal(const std::string& text) {
  if (text.size() > kSealSize && text.compare(text.size() - kSealSize, 9, kSealKey) == 0 &&
      is_hex64(text, text.size() - kSealSize + 9) && text.compare(text.size() - 2, 2, "\"}") == 0) {
    return {text.substr(0, text.size() - kSealSize) + "}", text.substr(text.size() - kSealSize + 9, 64)};
  }
  return {text, ""};
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(millis));
  return out;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::string user_name() {
  if (const passwd* pw = getpwuid(geteuid())) return pw->pw_name;
  if (const char* user = std::getenv("USER")) return user;
  return std::to_string(geteuid());
}

// Lines of `bytes`: whole ones, and the partial tail (without a newline) apart.
std::vector<std::string> whole_lines(const std::string& bytes, std::string& tail) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl = bytes.find('\n'); nl != std::string::npos; nl = bytes.find('\n', start)) {
    lines.push_back(bytes.substr(start, nl - start));
    start = nl + 1;
  }
  tail = bytes.substr(start);
  return lines;
}

// Parses one line into an entry; an empty optional-like result (seq < 0) when it is none.
LedgerEntry parse_entry(const std::string& text, int64_t line) {
  LedgerEntry e;
  e.line = line;
  e.seq = -1;
  e.text = text;
  e.hash = sha256_hex(text);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return e;
  const auto seq = j.find("seq");
  const auto prev = j.find("prev");
  const auto event = j.find("event");
  if (seq == j.end() || !seq->is_number_integer() || prev == j.end() || !prev->is_string() || event == j.end() ||
      !event->is_string()) {
    return e;
  }
  e.seq = seq->get<int64_t>();
  e.event = event->get<std::string>();
  const auto time = j.find("time");
  if (time != j.end() && time->is_string()) e.time = time->get<std::string>();
  return e;
}

std::string prev_of(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() && j.contains("prev") && j["prev"].is_string() ? j["prev"].get<std::string>() : "";
}

std::string read_ledger_bytes(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw UserError(path + ": no audit ledger there");
  const auto bytes = read_file(path);
  if (!bytes) throw UserError(path + ": cannot read the audit ledger: " + std::strerror(errno));
  return *bytes;
}

// The ledger file under its exclusive lock, with what an append does to it.
class LockedFile {
 public:
  explicit LockedFile(const std::string& path) : path_(path), lock_(path, kLockSeconds) {
    if (!lock_.locked()) {
      throw UserError(path + ": the audit ledger stayed locked by another process for " +
                      std::to_string(static_cast<int>(kLockSeconds)) + " s");
    }
    fd_ = lock_.fd();
  }

  std::string read_all() const {
    std::string bytes;
    char buffer[1 << 16];
    if (lseek(fd_, 0, SEEK_SET) < 0) throw UserError(path_ + ": cannot read the audit ledger: " + std::strerror(errno));
    for (;;) {
      const ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw UserError(path_ + ": cannot read the audit ledger: " + std::strerror(errno));
      if (n == 0) break;
      bytes.append(buffer, static_cast<size_t>(n));
    }
    return bytes;
  }

  void truncate(uint64_t size) const {
    if (ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      throw UserError(path_ + ": cannot cut the incomplete entry off the audit ledger: " + std::strerror(errno));
    }
  }

  void append(const std::string& bytes) const {
    if (lseek(fd_, 0, SEEK_END) < 0) throw UserError(path_ + ": cannot append to the audit ledger: " + std::strerror(errno));
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw UserError(path_ + ": cannot append to the audit ledger: " + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    if (fsync(fd_) != 0) throw UserError(path_ + ": cannot sync the audit ledger: " + std::strerror(errno));
  }

 private:
  std::string path_;
  FileLock lock_;
  int fd_ = -1;
};

}  // namespace

LedgerCheck verify_ledger(const std::string& path, const std::string& key) {
  std::string tail;
  const std::vector<std::string> lines = whole_lines(read_ledger_bytes(path), tail);
  LedgerCheck check;
  check.incomplete_tail = !tail.empty();
  std::vector<LedgerEntry> entries;
  for (size_t i = 0; i < lines.size(); ++i) entries.push_back(parse_entry(lines[i], static_cast<int64_t>(i) + 1));
  const auto fail = [&](const LedgerEntry& e, const std::string& what) {
    check.ok = false;
    check.problem_line = e.line;
    check.problem = path + ":" + std::to_string(e.line) + ": " + what;
    return check;
  };
  std::string expected_prev = kGenesis;
  int64_t expected_seq = 1;
  for (size_t i = 0; i < entries.size(); ++i) {
    const LedgerEntry& e = entries[i];
    if (e.seq < 0) return fail(e, "not a ledger entry (altered, or inserted by hand)");
    if (!key.empty()) {
      const auto [body, seal] = unseal(e.text);
      if (seal.empty()) return fail(e, "entry seq " + std::to_string(e.seq) + " carries no HMAC (inserted or altered, or written without the key)");
      if (hmac_sha256_hex(key, body) != seal) {
        return fail(e, "entry seq " + std::to_string(e.seq) + " (" + e.event + ") was altered: its HMAC does not match (or it was sealed with another key)");
      }
      ++check.sealed;
    } else if (!unseal(e.text).second.empty()) {
      ++check.sealed;
    }
    if (e.seq < expected_seq) {
      // Every lower number has been seen already: this one is a copy or an insertion.
      int64_t first = 0;
      for (size_t j = 0; j < i && first == 0; ++j) first = entries[j].seq == e.seq ? entries[j].line : 0;
      return fail(e, "entry seq " + std::to_string(e.seq) + " where seq " + std::to_string(expected_seq) +
                         " is due (an entry was inserted or copied" +
                         (first > 0 ? "; seq " + std::to_string(e.seq) + " is already on line " + std::to_string(first) : "") + ")");
    }
    if (e.seq > expected_seq) {
      bool due_later = false;
      for (size_t j = i + 1; j < entries.size(); ++j) due_later = due_later || entries[j].seq == expected_seq;
      if (due_later) {
        return fail(e, "entry seq " + std::to_string(e.seq) + " where seq " + std::to_string(expected_seq) +
                           " is due (entries were reordered)");
      }
      const int64_t gap = e.seq - expected_seq;
      return fail(e, (gap > 1 ? "entries seq " + std::to_string(expected_seq) + ".." + std::to_string(e.seq - 1) + " are"
                              : "entry seq " + std::to_string(expected_seq) + " is") +
                         " missing before entry seq " + std::to_string(e.seq) + " (deleted)");
    }
    if (prev_of(e.text) != expected_prev) {
      if (i == 0) return fail(e, "entry seq " + std::to_string(e.seq) + " does not start a chain (its prev is not the genesis hash)");
      const LedgerEntry& before = entries[i - 1];
      return fail(before, "entry seq " + std::to_string(before.seq) + " (" + before.event +
                              ") was altered: its hash does not match the prev of entry seq " + std::to_string(e.seq) +
                              " on line " + std::to_string(e.line));
    }
    expected_prev = e.hash;
    expected_seq = e.seq + 1;
    ++check.entries;
    check.head_seq_hash = "seq " + std::to_string(e.seq) + " sha256 " + e.hash;
  }
  return check;
}

std::vector<LedgerEntry> read_ledger(const std::string& path) {
  std::string tail;
  const std::vector<std::string> lines = whole_lines(read_ledger_bytes(path), tail);
  std::vector<LedgerEntry> entries;
  for (size_t i = 0; i < lines.size(); ++i) {
    LedgerEntry e = parse_entry(lines[i], static_cast<int64_t>(i) + 1);
    if (e.seq < 0) throw UserError(path + ":" + std::to_string(i + 1) + ": not a ledger entry");
    entries.push_back(std::move(e));
  }
  return entries;
}

AuditLedger::AuditLedger(std::string path, std::string key) : path_(std::move(path)), key_(std::move(key)) {}

LedgerEntry AuditLedger::append(const std::string& event, const std::string& fields_json) const {
  nlohmann::ordered_json fields = nlohmann::ordered_json::parse(fields_json, nullptr, false);
  if (!fields.is_object()) throw InternalError("audit event " + event + ": fields are not a JSON object");
  std::error_code ec;
  const fs::path parent = fs::path(path_).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  const LockedFile file(path_);
  std::string tail;
  const std::string bytes = file.read_all();
  std::vector<std::string> lines = whole_lines(bytes, tail);
  if (!tail.empty()) {
    // A writer died mid-append: its entry never committed.
    file.truncate(bytes.size() - tail.size());
    log::warn(path_ + ": cut off an incomplete last entry (" + std::to_string(tail.size()) +
              " bytes; a writer stopped mid-append)");
  }
  int64_t seq = 1;
  std::string prev = kGenesis;
  if (!lines.empty()) {
    const LedgerEntry last = parse_entry(lines.back(), static_cast<int64_t>(lines.size()));
    if (last.seq < 0) throw UserError(path_ + ":" + std::to_string(lines.size()) + ": the last line is not a ledger entry; run stratum audit verify " + path_);
    seq = last.seq + 1;
    prev = last.hash;
  }
  nlohmann::ordered_json entry;
  entry["seq"] = seq;
  entry["prev"] = prev;
  entry["time"] = utc_now();
  entry["host"] = host_name();
  entry["user"] = user_name();
  entry["pid"] = static_cast<int64_t>(getpid());
  entry["event"] = event;
  if (!tail.empty()) entry["recovered_incomplete_bytes"] = tail.size();
  for (auto it = fields.begin(); it != fields.end(); ++it) entry[it.key()] = it.value();
  std::string text = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!key_.empty()) text = text.substr(0, text.size() - 1) + kSealKey + hmac_sha256_hex(key_, text) + "\"}";
  file.append(text + "\n");
  LedgerEntry written = parse_entry(text, static_cast<int64_t>(lines.size()) + 1);
  return written;
}

std::string set_ledger_aside(const std::string& path) {
  std::string stamp = utc_now();
  for (char& c : stamp) {
    if (c == ':') c = '-';
  }
  const std::string aside = path + ".broken-" + stamp;
  std::error_code ec;
  fs::rename(path, aside, ec);
  if (ec) throw UserError(path + ": cannot move the broken ledger aside to " + aside + ": " + ec.message());
  return aside;
}

}  // namespace stratum::audit
