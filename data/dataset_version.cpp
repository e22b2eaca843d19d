#include "data/dataset_version.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <type_traits>

#include "core/sha256.h"
#include "data/redaction/redactor.h"

namespace stratum::data {
namespace {

// Keys that say where data lives or how fast it is read, not what it is.
const std::set<std::string>& ignored_keys() {
  static const std::set<std::string> keys{"path", "prefetch", "workers", "poll_seconds", "listen", "key_env", "redact"};
  return keys;
}

template <class T>
nlohmann::ordered_json value_json(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    return choice_name(value);
  } else if constexpr (std::is_same_v<T, std::vector<std::string>> || std::is_same_v<T, std::vector<double>> ||
                       std::is_same_v<T, std::vector<int64_t>>) {
    return value;
  } else if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, std::string>) {
    return value;
  } else {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& item : value) list.push_back(value_json(item));
    return list;
  }
}

// Walks an options struct with the field visitor, writing every kept key.
template <class S>
struct JsonWriter {
  const S& options;
  nlohmann::ordered_json& out;

  template <class T>
  void field(const char* name, T S::*member, const char*, const Rule& = {}) {
    if (!ignored_keys().count(name)) out[name] = value_json(options.*member);
  }
  template <class Sub>
  void section(const char* name, Sub S::*member, const char*) {
    if (ignored_keys().count(name)) return;
    out[name] = nlohmann::ordered_json::object();
    JsonWriter<Sub> inner{options.*member, out[name]};
    Sub::describe(inner);
  }
  template <class Sub>
  void list(const char* name, std::vector<Sub> S::*member, Sub (S::*)() const, const char*) {
    nlohmann::ordered_json items = nlohmann::ordered_json::array();
    for (const Sub& item : options.*member) {
      nlohmann::ordered_json entry = nlohmann::ordered_json::object();
      JsonWriter<Sub> inner{item, entry};
      Sub::describe(inner);
      items.push_back(entry);
    }
    out[name] = items;
  }
};

// A short fingerprint of the hash key: different keys give different tokens, hence different data.
std::string key_fingerprint(const RedactOptions& redact) {
  const char* key = redact.key_env.empty() ? nullptr : std::getenv(redact.key_env.c_str());
  if (!key || !*key) return "";
  return hmac_sha256_hex(key, "stratum redaction key fingerprint").substr(0, 16);
}

}  // namespace

std::string data_options_json(const DataOptions& options) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  JsonWriter<DataOptions> writer{options, out};
  DataOptions::describe(writer);
  return out.dump();
}

std::string dataset_version(std::vector<std::string> file_sha256s, const DataOptions& options) {
  std::sort(file_sha256s.begin(), file_sha256s.end());
  Sha256 hash;
  const auto feed = [&](const std::string& part) {
    hash.update(part.data(), part.size());
    hash.update("\n", 1);
  };
  feed("stratum dataset version 1");
  for (const std::string& file : file_sha256s) feed(file);
  feed(data_options_json(options));
  if (options.redact.active()) {
    feed(redaction_policy_json(options.redact));
    if (options.redact.hashes()) feed(key_fingerprint(options.redact));
  }
  return "ds-" + hash.hex().substr(0, 16);
}

}  // namespace stratum::data
