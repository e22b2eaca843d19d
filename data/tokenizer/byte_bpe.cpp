#include "data/tokenizer/byte_bpe.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/read_file.h"
#include "core/sha256.h"

namespace stratum::data {
namespace {

uint64_t pair_key(int32_t a, int32_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }

enum class Kind { letter, digit, space, other };

Kind kind_of(unsigned char c) {
  if (std::isalpha(c) || c >= 0x80 || c == '\'') return Kind::letter;
  if (std::isdigit(c)) return Kind::digit;
  if (std::isspace(c)) return Kind::space;
  return Kind::other;
}

}  // namespace

std::vector<std::string> pretokenize(const std::string& text) {
  std::vector<std::string> pieces;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    size_t start = i;
    Kind kind = kind_of(static_cast<unsigned char>(text[i]));
    // A single space joins the word after it, as in GPT-2 (" world").
    if (text[i] == ' ' && i + 1 < n && kind_of(static_cast<unsigned char>(text[i + 1])) != Kind::space) {
      ++i;
      kind = kind_of(static_cast<unsigned char>(text[i]));
    }
    if (kind == Kind::space) {
      // Whitespace up to (not including) a space that starts the next word.
      while (i < n && kind_of(static_cast<unsigned char>(text[i])) == Kind::space) {
        if (text[i] == ' ' && i + 1 < n && i > start && kind_of(static_cast<unsigned char>(text[i + 1])) != Kind::space) break;
        ++i;
      }
    } else {
      while (i < n && kind_of(static_cast<unsigned char>(text[i])) == kind) ++i;
    }
    pieces.push_back(text.substr(start, i - start));
  }
  return pieces;
}

BytePairTokenizer::BytePairTokenizer() : BytePairTokenizer(std::vector<std::pair<int32_t, int32_t>>{}) {}

BytePairTokenizer::BytePairTokenizer(std::vector<std::pair<int32_t, int32_t>> merges) : merges_(std::move(merges)) {
  bytes_.resize(256);
  for (int b = 0; b < 256; ++b) bytes_[static_cast<size_t>(b)] = std::string(1, static_cast<char>(b));
  for (size_t m = 0; m < merges_.size(); ++m) {
    rank_[pair_key(merges_[m].first, merges_[m].second)] = static_cast<int32_t>(m);
    bytes_.push_back(bytes_[static_cast<size_t>(merges_[m].first)] + bytes_[static_cast<size_t>(merges_[m].second)]);
  }
}

BytePairTokenizer BytePairTokenizer::train(const std::vector<std::string>& texts, int64_t vocab_size,
                                           int64_t min_frequency) {
  // Distinct pieces with their counts; merges only ever happen inside a piece.
  std::map<std::string, int64_t> counted;
  for (const std::string& text : texts) {
    for (std::string& piece : pretokenize(text)) ++counted[std::move(piece)];
  }
  std::vector<std::vector<int32_t>> words;
  std::vector<int64_t> frequency;
  for (const auto& [piece, count] : counted) {
    words.emplace_back(piece.begin(), piece.end());
    for (int32_t& id : words.back()) id = static_cast<unsigned char>(id);
    frequency.push_back(count);
  }
  std::unordered_map<uint64_t, int64_t> pair_counts;
  std::unordered_map<uint64_t, std::set<size_t>> where;  // pair -> words that may contain it
  const auto add_pairs = [&](size_t w, int64_t sign) {
    const auto& s = words[w];
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const uint64_t key = pair_key(s[i], s[i + 1]);
      pair_counts[key] += sign * frequency[w];
      if (sign > 0) where[key].insert(w);
    }
  };
  for (size_t w = 0; w < words.size(); ++w) add_pairs(w, +1);

  std::vector<std::pair<int32_t, int32_t>> merges;
  const int64_t wanted = std::max<int64_t>(0, vocab_size - 257);
  while (static_cast<int64_t>(merges.size()) < wanted) {
    uint64_t best = 0;
    int64_t best_count = 0;
    for (const auto& [key, count] : pair_counts) {
      if (count > best_count || (count == best_count && count > 0 && key < best)) best = key, best_count = count;
    }
    if (best_count < std::max<int64_t>(1, min_frequency)) break;
    const int32_t a = static_cast<int32_t>(best >> 32), b = static_cast<int32_t>(best & 0xffffffffu);
    const int32_t merged = static_cast<int32_t>(256 + merges.size());
    merges.emplace_back(a, b);
    const std::set<size_t> affected = std::move(where[best]);
    where.erase(best);
    for (size_t w : affected) {
      add_pairs(w, -1);
      auto& s = words[w];
      std::vector<int32_t> out;
      out.reserve(s.size());
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(s[i]);
        }
      }
      s = std::move(out);
      add_pairs(w, +1);
    }
  }
  return BytePairTokenizer(std::move(merges));
}

void BytePairTokenizer::apply_merges(std::vector<int32_t>& symbols) const {
  // Repeatedly merge the adjacent pair learned earliest, as training did.
  while (symbols.size() > 1) {
    int32_t best_rank = -1;
    size_t at = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      const auto it = rank_.find(pair_key(symbols[i], symbols[i + 1]));
      if (it != rank_.end() && (best_rank < 0 || it->second < best_rank)) best_rank = it->second, at = i;
    }
    if (best_rank < 0) return;
    const int32_t merged = 256 + best_rank;
    const auto [a, b] = merges_[static_cast<size_t>(best_rank)];
    std::vector<int32_t> out;
    out.reserve(symbols.size());
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (i >= at && i + 1 < symbols.size() && symbols[i] == a && symbols[i + 1] == b) {
        out.push_back(merged);
        ++i;
      } else {
        out.push_back(symbols[i]);
      }
    }
    symbols = std::move(out);
  }
}

std::vector<int32_t> BytePairTokenizer::encode(const std::string& text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  for (const std::string& piece : pretokenize(text)) {
    std::vector<int32_t> symbols(piece.size());
    for (size_t i = 0; i < piece.size(); ++i) symbols[i] = static_cast<unsigned char>(piece[i]);
    apply_merges(symbols);
    ids.insert(ids.end(), symbols.begin(), symbols.end());
  }
  return ids;
}

std::string BytePairTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id >= 0 && static_cast<size_t>(id) < bytes_.size()) out += bytes_[static_cast<size_t>(id)];
  }
  return out;
}

std::string BytePairTokenizer::to_json() const {
  nlohmann::ordered_json j;
  j["type"] = "byte-bpe";
  j["version"] = 1;
  j["vocab_size"] = vocab_size();
  j["pad_id"] = pad_id();
  j["merges"] = merges_;
  // Readable token strings (bytes as \u escapes where not printable ASCII) for people, not parsing.
  std::vector<std::string> tokens;
  for (size_t id = 256; id < bytes_.size(); ++id) {
    std::string shown;
    for (unsigned char c : bytes_[id]) {
      if (c >= 0x20 && c < 0x7f) {
        shown += static_cast<char>(c);
      } else {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "<%02x>", c);
        shown += escaped;
      }
    }
    tokens.push_back(shown);
  }
  j["tokens"] = tokens;
  return j.dump(1) + "\n";
}

BytePairTokenizer BytePairTokenizer::from_json(const std::string& json, const std::string& source) {
  const nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw UserError(source + ": not a JSON object");
  if (j.value("type", "") != "byte-bpe") throw UserError(source + ": not a byte-bpe tokenizer (\"type\" must be \"byte-bpe\")");
  if (!j.contains("merges") || !j["merges"].is_array()) throw UserError(source + ": missing \"merges\" list");
  std::vector<std::pair<int32_t, int32_t>> merges;
  for (const auto& m : j["merges"]) {
    const int32_t next = static_cast<int32_t>(256 + merges.size());
    if (!m.is_array() || m.size() != 2 || !m[0].is_number_integer() || !m[1].is_number_integer() || m[0].get<int64_t>() < 0 ||
        m[1].get<int64_t>() < 0 || m[0].get<int64_t>() >= next || m[1].get<int64_t>() >= next) {
      throw UserError(source + ": merge " + std::to_string(merges.size()) + " must be [a, b] with ids below " +
                      std::to_string(next));
    }
    merges.emplace_back(m[0].get<int32_t>(), m[1].get<int32_t>());
  }
  return BytePairTokenizer(std::move(merges));
}

BytePairTokenizer BytePairTokenizer::load(const std::string& path) {
  const std::optional<std::string> text = read_file(path);
  if (!text) throw UserError(path + ": cannot open the tokenizer file");
  return from_json(*text, path);
}

}  // namespace stratum::data

namespace stratum::data {

std::string BytePairTokenizer::fingerprint() const { return merges_.empty() ? "" : sha256_hex(to_json()); }

}  // namespace stratum::data
