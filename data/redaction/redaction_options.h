#pragma once
// What `data.redact` says: which sensitive values are removed from records at ingestion,
// before anything is kept, and how. Declared with the field visitor like every data option.
#include <string>
#include <vector>

#include "core/options.h"

namespace stratum::data {

/// What happens to a value a detector finds.
/// mask: replaced by its kind ("[EMAIL]"); hash: replaced by a keyed token ("[EMAIL:5f1c...]"),
/// the same for the same value and key, not recoverable without the key; drop_record: the whole
/// record is left out (counted in rejects.jsonl, outside the error budget).
enum class RedactAction { off, mask, hash, drop_record };
inline const ChoiceTable<RedactAction>& choices(RedactAction) {
  static const ChoiceTable<RedactAction> table{{RedactAction::off, "off"},
                                               {RedactAction::mask, "mask"},
                                               {RedactAction::hash, "hash"},
                                               {RedactAction::drop_record, "drop_record"}};
  return table;
}

/// What happens to a JSON field named in `data.redact.fields`.
enum class FieldAction { drop, mask, hash };
inline const ChoiceTable<FieldAction>& choices(FieldAction) {
  static const ChoiceTable<FieldAction> table{{FieldAction::drop, "drop"}, {FieldAction::mask, "mask"}, {FieldAction::hash, "hash"}};
  return table;
}

/// A detector of the user's own: a regular expression (RE2 syntax) and what to do with a match.
struct RedactPattern {
  std::string name;
  std::string regex;
  RedactAction action = RedactAction::mask;

  template <class V>
  static void describe(V& v) {
    v.field("name", &RedactPattern::name, "what counts and masks call it ([A-Za-z0-9_]; masked as [NAME])", required());
    v.field("regex", &RedactPattern::regex, "RE2 regular expression; every match is redacted", required());
    v.field("action", &RedactPattern::action, "mask, hash or drop_record");
  }
};

/// The redaction policy applied to every text record (payload, labels, JSON fields) as it is read.
struct RedactOptions {
  RedactAction email = RedactAction::off;
  RedactAction phone = RedactAction::off;
  RedactAction ipv4 = RedactAction::off;
  RedactAction ipv6 = RedactAction::off;
  RedactAction card = RedactAction::off;
  RedactAction iban = RedactAction::off;
  std::vector<RedactPattern> patterns;
  std::vector<std::string> fields;
  FieldAction field_action = FieldAction::drop;
  std::string key_env = "STRATUM_REDACT_KEY";

  RedactPattern pattern_defaults() const { return {}; }

  /// The actions of the built-in detectors and of the patterns.
  std::vector<RedactAction> detector_actions() const {
    std::vector<RedactAction> out = {email, phone, ipv4, ipv6, card, iban};
    for (const RedactPattern& p : patterns) out.push_back(p.action);
    return out;
  }

  /// Whether any detector, pattern or field rule is on.
  bool active() const {
    for (RedactAction a : detector_actions()) {
      if (a != RedactAction::off) return true;
    }
    return !fields.empty();
  }

  /// Whether any rule hashes (and so needs the key).
  bool hashes() const {
    for (RedactAction a : detector_actions()) {
      if (a == RedactAction::hash) return true;
    }
    return !fields.empty() && field_action == FieldAction::hash;
  }

  template <class V>
  static void describe(V& v) {
    v.field("email", &RedactOptions::email, "e-mail addresses: off, mask, hash or drop_record");
    v.field("phone", &RedactOptions::phone,
            "phone numbers (E.164 +CC..., North American (555) 123-4567, national 0.. with separators)");
    v.field("ipv4", &RedactOptions::ipv4, "IPv4 addresses (dotted quads)");
    v.field("ipv6", &RedactOptions::ipv6, "IPv6 addresses (checked with inet_pton)");
    v.field("card", &RedactOptions::card, "payment card numbers (13-19 digits, Luhn-checked)");
    v.field("iban", &RedactOptions::iban, "IBANs (mod-97-checked)");
    v.list("patterns", &RedactOptions::patterns, &RedactOptions::pattern_defaults,
           "detectors of your own: {name, regex, action}");
    v.field("fields", &RedactOptions::fields,
            "JSON fields (dotted paths, e.g. user.email) replaced whole, whatever they hold");
    v.field("field_action", &RedactOptions::field_action,
            "what happens to a named field: drop (removed), mask ([REDACTED]) or hash");
    v.field("key_env", &RedactOptions::key_env,
            "environment variable holding the secret key of hash (at least 16 bytes); read only when hash is used");
  }
};

}  // namespace stratum::data
