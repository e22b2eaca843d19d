#include "data/redaction/redactor.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "core/sha256.h"
#include "core/text.h"
#include "data/redaction/pii_checks.h"

namespace stratum::data {
namespace {

constexpr size_t kMinKeyBytes = 16;
constexpr size_t kRetryBytes = 64;
constexpr const char* kFieldToken = "REDACTED";

// One detector: a candidate pattern, the check a candidate must pass, and what to do.
struct Detector {
  std::string name;
  std::string token;  // what a mask writes, without brackets
  std::unique_ptr<RE2> pattern;
  std::function<bool(const std::string&)> valid;  // null: every match counts
  // A candidate that fails its check may hold a finding with extra characters around it.
  std::function<std::vector<std::string>(const std::string&)> trims;
  RedactAction action = RedactAction::off;
};

struct BuiltIn {
  const char* name;
  RedactAction RedactOptions::*action;
  const char* regex;
};

// Order matters where candidates overlap: earlier detectors claim their spans first. Phone
// numbers go last: their patterns are the loosest.
const std::vector<BuiltIn>& built_ins() {
  static const std::vector<BuiltIn> table{
      {"email", &RedactOptions::email, R"([A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})"},
      {"iban", &RedactOptions::iban, R"(\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b)"},
      {"card", &RedactOptions::card, R"(\b(?:[0-9][ \-]?){12,18}[0-9]\b)"},
      {"ipv6", &RedactOptions::ipv6, R"([0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{2,40})"},
      {"ipv4", &RedactOptions::ipv4,
       R"(\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\b)"},
      {"phone", &RedactOptions::phone,
       R"(\+[0-9]{1,3}(?:[ .\-]?\(?[0-9]{1,4}\)?){2,6}\b|\(?\b[0-9]{3}\)?[ .\-][0-9]{3}[ .\-][0-9]{4}\b|\b0[0-9]{1,4}[ \-/]?[0-9]{2,4}[ \-]?[0-9]{2,4}(?:[ \-]?[0-9]{2,4})?\b)"},
  };
  return table;
}

// IBAN candidates may run into the next word group: try dropping trailing groups.
std::vector<std::string> iban_trims(const std::string& candidate) {
  std::vector<std::string> out;
  std::string s = candidate;
  for (size_t cut = s.rfind(' '); cut != std::string::npos && cut > 4; cut = s.rfind(' ')) {
    s.resize(cut);
    out.push_back(s);
  }
  return out;
}

// IPv6 candidates may start or end with a colon or dot that belongs to the surrounding text.
std::vector<std::string> ipv6_trims(const std::string& candidate) {
  std::vector<std::string> out;
  std::string s = candidate;
  const auto single = [](const std::string& t, bool front) {
    if (t.empty()) return false;
    if (front) return t[0] == ':' && (t.size() < 2 || t[1] != ':');
    const char last = t.back();
    return last == '.' || (last == ':' && (t.size() < 2 || t[t.size() - 2] != ':'));
  };
  if (single(s, true)) out.push_back(s = s.substr(1));
  while (single(s, false)) out.push_back(s = s.substr(0, s.size() - 1));
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool valid_pattern_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

RE2::Options re2_options() {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(int64_t{64} << 20);
  return o;
}

struct Span {
  size_t begin, end;
  const Detector* detector;
};

}  // namespace

struct Redactor::Impl {
  std::vector<Detector> detectors;
  std::unique_ptr<RE2::Set> any;  // one pass that says which detectors may match at all
  std::vector<std::vector<std::string>> fields;  // dotted paths, split
  std::vector<std::string> field_names;
  FieldAction field_action = FieldAction::drop;
  std::string key;
  RedactionCounts counts;
  bool active = false;

  std::string token(const Detector& d, const std::string& value) const {
    if (d.action == RedactAction::hash) return "[" + d.token + ":" + hmac_sha256_hex(key, d.name + '\x1f' + value).substr(0, 16) + "]";
    return "[" + d.token + "]";
  }

  // Finds every detector's spans (earlier detectors win overlaps) and rewrites `text` once.
  std::string redact(std::string& text, int64_t& found) {
    if (detectors.empty() || text.empty()) return "";
    std::vector<int> hits;
    if (!any->Match(text, &hits)) return "";
    std::sort(hits.begin(), hits.end());
    std::vector<Span> spans;
    std::string dropped_by;
    const auto overlaps = [&](size_t b, size_t e) {
      for (const Span& s : spans) {
        if (b < s.end && s.begin < e) return true;
      }
      return false;
    };
    for (const int index : hits) {
      const Detector& d = detectors[static_cast<size_t>(index)];
      re2::StringPiece input(text), match;
      size_t pos = 0;
      while (pos <= text.size() && d.pattern->Match(input, pos, text.size(), RE2::UNANCHORED, &match, 1)) {
        const size_t begin = static_cast<size_t>(match.data() - text.data());
        size_t end = begin + match.size();
        if (match.empty()) {
          pos = end + 1;
          continue;
        }
        std::string candidate(match.data(), match.size());
        bool ok = !d.valid || d.valid(candidate);
        size_t shift = 0;
        if (!ok && d.trims) {
          for (const std::string& t : d.trims(candidate)) {
            if (d.valid(t)) {
              shift = candidate.find(t);
              candidate = t;
              ok = true;
              break;
            }
          }
        }
        if (!ok) {
          // A failed candidate may hold a finding that starts inside it (candidates are short).
          pos = candidate.size() <= kRetryBytes ? begin + 1 : end;
          continue;
        }
        const size_t b = begin + shift, e = b + candidate.size();
        pos = e;
        if (overlaps(b, e)) continue;
        spans.push_back({b, e, &d});
        ++found;
        ++counts.findings[d.name];
        if (d.action == RedactAction::drop_record && dropped_by.empty()) dropped_by = d.name;
      }
    }
    if (spans.empty()) return "";
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
    std::string out;
    out.reserve(text.size());
    size_t at = 0;
    for (const Span& s : spans) {
      out.append(text, at, s.begin - at);
      out += token(*s.detector, text.substr(s.begin, s.end - s.begin));
      at = s.end;
    }
    out.append(text, at, std::string::npos);
    text = std::move(out);
    return dropped_by;
  }

  std::string field_token(const std::string& path, const nlohmann::ordered_json& value) const {
    if (field_action == FieldAction::hash) {
      return std::string("[") + kFieldToken + ":" + hmac_sha256_hex(key, "field:" + path + '\x1f' + value.dump()).substr(0, 16) + "]";
    }
    return std::string("[") + kFieldToken + "]";
  }

  // Applies the field rules; true when one applied.
  bool redact_fields(nlohmann::ordered_json& object) {
    bool changed = false;
    for (size_t f = 0; f < fields.size(); ++f) {
      nlohmann::ordered_json* node = &object;
      const std::vector<std::string>& path = fields[f];
      for (size_t i = 0; i + 1 < path.size() && node; ++i) {
        const auto it = node->find(path[i]);
        node = it != node->end() && it->is_object() ? &*it : nullptr;
      }
      if (!node || !node->is_object()) continue;
      const auto it = node->find(path.back());
      if (it == node->end()) continue;
      if (field_action == FieldAction::drop) {
        node->erase(path.back());
      } else {
        *it = field_token(field_names[f], *it);
      }
      ++counts.findings["field:" + field_names[f]];
      changed = true;
    }
    return changed;
  }

  // Every string (and integer, which may hold a card or phone number) value, recursively.
  std::string redact_values(nlohmann::ordered_json& node, int64_t& found) {
    std::string dropped_by;
    const auto note = [&](const std::string& d) {
      if (dropped_by.empty()) dropped_by = d;
    };
    if (node.is_string()) {
      std::string& s = node.get_ref<std::string&>();
      note(redact(s, found));
    } else if (node.is_number_integer()) {
      std::string s = node.dump();
      const int64_t before = found;
      note(redact(s, found));
      if (found != before) node = s;
    } else if (node.is_object() || node.is_array()) {
      for (auto& child : node) note(redact_values(child, found));
    }
    return dropped_by;
  }
};

Redactor::Redactor(const RedactOptions& options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.active = options.active();
  bool hashes = options.field_action == FieldAction::hash && !options.fields.empty();
  std::vector<std::string> names;
  for (size_t i = 0; i < options.patterns.size(); ++i) {
    const RedactPattern& p = options.patterns[i];
    const std::string key = "data.redact.patterns[" + std::to_string(i) + "]";
    if (!valid_pattern_name(p.name)) {
      throw UserError(key + ".name: \"" + printable(p.name, 60) + "\" is not a name (letters, digits and _, at most 64)");
    }
    for (const BuiltIn& b : built_ins()) {
      if (p.name == b.name) throw UserError(key + ".name: \"" + p.name + "\" is a built-in detector; set data.redact." + p.name + " instead");
    }
    if (std::find(names.begin(), names.end(), p.name) != names.end()) {
      throw UserError(key + ".name: \"" + p.name + "\" names an earlier pattern too");
    }
    names.push_back(p.name);
    if (p.action == RedactAction::off) continue;
    Detector d{p.name, upper(p.name), std::make_unique<RE2>(p.regex, re2_options()), nullptr, nullptr, p.action};
    if (!d.pattern->ok()) throw UserError(key + ".regex: does not compile: " + printable(d.pattern->error(), 200));
    if (d.pattern->Match("", 0, 0, RE2::UNANCHORED, nullptr, 0)) {
      throw UserError(key + ".regex: matches the empty string, so it would redact nothing and everything");
    }
    hashes = hashes || p.action == RedactAction::hash;
    m.detectors.push_back(std::move(d));
  }
  for (const BuiltIn& b : built_ins()) {
    const RedactAction action = options.*(b.action);
    if (action == RedactAction::off) continue;
    Detector d{b.name, upper(b.name), std::make_unique<RE2>(b.regex, re2_options()), nullptr, nullptr, action};
    if (!d.pattern->ok()) throw InternalError(std::string("redaction pattern ") + b.name + ": " + d.pattern->error());
    const std::string name = b.name;
    if (name == "card") d.valid = luhn_valid;
    if (name == "iban") d.valid = iban_valid, d.trims = iban_trims;
    if (name == "ipv6") d.valid = ipv6_valid, d.trims = ipv6_trims;
    if (name == "phone") d.valid = phone_valid;
    hashes = hashes || action == RedactAction::hash;
    m.detectors.push_back(std::move(d));
  }
  if (!m.detectors.empty()) {
    m.any = std::make_unique<RE2::Set>(re2_options(), RE2::UNANCHORED);
    for (const Detector& d : m.detectors) {
      std::string error;
      if (m.any->Add(d.pattern->pattern(), &error) < 0) throw UserError("data.redact: pattern of " + d.name + ": " + printable(error, 200));
    }
    if (!m.any->Compile()) throw UserError("data.redact: the patterns together exceed RE2's memory budget");
  }
  for (const std::string& field : options.fields) {
    std::vector<std::string> parts = split(field, '.');
    if (field.empty() || std::any_of(parts.begin(), parts.end(), [](const std::string& s) { return s.empty(); })) {
      throw UserError("data.redact.fields: \"" + printable(field, 60) + "\" is not a field path (name or a.b.c)");
    }
    m.fields.push_back(std::move(parts));
    m.field_names.push_back(field);
  }
  m.field_action = options.field_action;
  if (hashes) {
    if (options.key_env.empty()) throw UserError("data.redact.key_env: hash needs the name of an environment variable holding its key");
    const char* key = std::getenv(options.key_env.c_str());
    if (!key || !*key) {
      throw UserError("data.redact.key_env: environment variable " + options.key_env +
                      " is not set; hash needs a secret key (at least 16 bytes) there");
    }
    m.key = key;
    if (m.key.size() < kMinKeyBytes) {
      throw UserError("data.redact.key_env: the key in " + options.key_env + " has " + std::to_string(m.key.size()) +
                      " bytes; hash needs at least " + std::to_string(kMinKeyBytes));
    }
  }
}

Redactor::~Redactor() = default;

bool Redactor::active() const { return impl_->active; }

const RedactionCounts& Redactor::counts() const { return impl_->counts; }

std::string Redactor::redact_text(std::string& text) {
  if (!impl_->active) return "";
  int64_t found = 0;
  std::string dropped_by = impl_->redact(text, found);
  if (found > 0) ++impl_->counts.records_changed;
  if (!dropped_by.empty()) ++impl_->counts.records_dropped;
  return dropped_by;
}

std::string Redactor::redact_json(std::string& line) {
  Impl& m = *impl_;
  if (!m.active) return "";
  // Without escapes, every string value appears verbatim in the line: a line no detector
  // matches (and no field rule applies to) can skip parsing.
  const bool escapes = line.find('\\') != std::string::npos;
  if (m.fields.empty() && !escapes) {
    std::vector<int> hits;
    if (!m.any || !m.any->Match(line, &hits)) return "";
  }
  nlohmann::ordered_json object = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) return redact_text(line);
  int64_t found = 0;
  const bool fields_changed = m.redact_fields(object);
  const std::string dropped_by = m.redact_values(object, found);
  if (found == 0 && !fields_changed) return "";
  line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  ++m.counts.records_changed;
  if (!dropped_by.empty()) ++m.counts.records_dropped;
  return dropped_by;
}

std::string Redactor::redact_line(std::string& line, TextFormat format) {
  return format == TextFormat::jsonl ? redact_json(line) : redact_text(line);
}

std::string redaction_policy_json(const RedactOptions& options) {
  nlohmann::ordered_json policy = nlohmann::ordered_json::object();
  nlohmann::ordered_json detectors = nlohmann::ordered_json::object();
  for (const BuiltIn& b : built_ins()) {
    if (options.*(b.action) != RedactAction::off) detectors[b.name] = choice_name(options.*(b.action));
  }
  policy["detectors"] = detectors;
  policy["patterns"] = nlohmann::ordered_json::array();
  for (const RedactPattern& p : options.patterns) {
    policy["patterns"].push_back({{"name", p.name}, {"regex", p.regex}, {"action", choice_name(p.action)}});
  }
  policy["fields"] = options.fields;
  policy["field_action"] = choice_name(options.field_action);
  return policy.dump();
}

}  // namespace stratum::data
