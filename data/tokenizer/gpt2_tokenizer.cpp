#include "data/tokenizer/gpt2_tokenizer.h"

#include <climits>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/read_file.h"
#include "core/sha256.h"
#include "data/tokenizer/unicode_classes.h"

namespace stratum::data {
namespace {

enum class Class { letter, number, space, other };

struct CodePoint {
  char32_t value;
  size_t length;  // bytes
};

// The code point at byte `i`; a byte that starts no valid UTF-8 sequence stands for itself
// (as a symbol) so that any bytes pre-tokenize.
CodePoint code_point_at(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  const auto continuation = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  if (b < 0x80) return {b, 1};
  if (b >= 0xC2 && b < 0xE0 && continuation(i + 1)) return {static_cast<char32_t>(((b & 0x1F) << 6) | (byte(i + 1) & 0x3F)), 2};
  if (b >= 0xE0 && b < 0xF0 && continuation(i + 1) && continuation(i + 2)) {
    const char32_t c = ((b & 0x0F) << 12) | ((byte(i + 1) & 0x3F) << 6) | (byte(i + 2) & 0x3F);
    if (c >= 0x800 && (c < 0xD800 || c > 0xDFFF)) return {c, 3};
  }
  if (b >= 0xF0 && b < 0xF5 && continuation(i + 1) && continuation(i + 2) && continuation(i + 3)) {
    const char32_t c = ((b & 0x07) << 18) | ((byte(i + 1) & 0x3F) << 12) | ((byte(i + 2) & 0x3F) << 6) | (byte(i + 3) & 0x3F);
    if (c >= 0x10000 && c <= 0x10FFFF) return {c, 4};
  }
  return {0xFFFD, 1};  // U+FFFD is a symbol (\p{So}), as the invalid byte is treated
}

Class class_of(char32_t c) {
  if (is_letter(c)) return Class::letter;
  if (is_number(c)) return Class::number;
  if (is_space(c)) return Class::space;
  return Class::other;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the others for
// code points from 256 up, so every byte is a visible character of the vocabulary's alphabet.
const std::vector<char32_t>& byte_alphabet() {
  static const std::vector<char32_t> table = [] {
    std::vector<char32_t> out(256, 0);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      out[static_cast<size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
    }
    return out;
  }();
  return table;
}

std::string read_whole(const std::string& path) {
  std::optional<std::string> text = read_file(path);
  if (!text) throw UserError(path + ": cannot open (a GPT-2 tokenizer folder holds vocab.json and merges.txt)");
  return std::move(*text);
}

}  // namespace

std::vector<std::string> gpt2_pretokenize(const std::string& text) {
  std::vector<std::string> pieces;
  const size_t n = text.size();
  // The end of the run of `kind` starting at byte `from`.
  const auto run_end = [&](size_t from, Class kind) {
    size_t j = from;
    while (j < n) {
      const CodePoint c = code_point_at(text, j);
      if (class_of(c.value) != kind) break;
      j += c.length;
    }
    return j;
  };
  static const char* const kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  size_t i = 0;
  while (i < n) {
    const size_t start = i;
    size_t contraction = 0;
    for (const char* c : kContractions) {
      if (text.compare(i, std::strlen(c), c) == 0) contraction = std::strlen(c);
      if (contraction) break;
    }
    if (contraction) {
      pieces.push_back(text.substr(i, contraction));
      i += contraction;
      continue;
    }
    const CodePoint first = code_point_at(text, i);
    const Class kind = class_of(first.value);
    if (first.value == ' ' && i + 1 < n) {
      const Class next = class_of(code_point_at(text, i + 1).value);
      if (next != Class::space) {  // " ?X+": a space joins the run after it
        i = run_end(i + 1, next);
        pieces.push_back(text.substr(start, i - start));
        continue;
      }
    }
    if (kind != Class::space) {
      i = run_end(i, kind);
      pieces.push_back(text.substr(start, i - start));
      continue;
    }
    // Whitespace: "\s+(?!\S)" leaves a run's last character to what follows it.
    size_t last = i;
    size_t j = i;
    while (j < n) {
      const CodePoint c = code_point_at(text, j);
      if (class_of(c.value) != Class::space) break;
      last = j;
      j += c.length;
    }
    i = j < n && last > start ? last : j;
    pieces.push_back(text.substr(start, i - start));
  }
  return pieces;
}

Gpt2Tokenizer::Gpt2Tokenizer(const std::string& folder) {
  vocab_path_ = folder + "/vocab.json";
  const std::string& vocab_path = vocab_path_;
  const std::string merges_path = folder + "/merges.txt";
  const std::string vocab_text = read_whole(vocab_path), merges_text = read_whole(merges_path);
  Sha256 hash;
  hash.update(vocab_text.data(), vocab_text.size());
  hash.update(merges_text.data(), merges_text.size());
  fingerprint_ = hash.hex();

  // The alphabet back to bytes.
  std::unordered_map<char32_t, char> byte_of;
  for (int b = 0; b < 256; ++b) byte_of[byte_alphabet()[static_cast<size_t>(b)]] = static_cast<char>(b);
  const nlohmann::json vocab = nlohmann::json::parse(vocab_text, nullptr, /*allow_exceptions=*/false);
  if (vocab.is_discarded() || !vocab.is_object() || vocab.empty()) {
    throw UserError(vocab_path + ": not a JSON object of token -> id");
  }
  if (vocab.size() > (size_t{1} << 24)) throw UserError(vocab_path + ": more than 16M tokens");
  tokens_.assign(vocab.size(), std::string());
  std::vector<bool> seen(vocab.size(), false);
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= static_cast<int64_t>(vocab.size()) ||
        seen[id.get<size_t>()]) {
      throw UserError(vocab_path + ": token \"" + token.substr(0, 40) + "\" has id " + id.dump() +
                      "; ids must be 0 to " + std::to_string(vocab.size() - 1) + ", each once");
    }
    const auto index = id.get<size_t>();
    seen[index] = true;
    ids_[token] = static_cast<int32_t>(index);
    std::string bytes;
    for (size_t k = 0; k < token.size();) {
      const CodePoint c = code_point_at(token, k);
      const auto it = byte_of.find(c.value);
      // A character outside the alphabet (in a special token) stands for its own UTF-8.
      bytes += it != byte_of.end() ? std::string(1, it->second) : token.substr(k, c.length);
      k += c.length;
    }
    tokens_[index] = bytes;
  }
  const auto eot = ids_.find("<|endoftext|>");
  if (eot == ids_.end()) throw UserError(vocab_path + ": no <|endoftext|> token (GPT-2's end of text and padding)");
  end_of_text_ = eot->second;

  std::istringstream lines(merges_text);
  int64_t line_number = 0, rank = 0;
  for (std::string line; std::getline(lines, line);) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_number == 1 && line.rfind("#version", 0) == 0)) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() || line.find(' ', space + 1) != std::string::npos) {
      throw UserError(merges_path + ":" + std::to_string(line_number) + ": expected two tokens separated by one space");
    }
    if (!ids_.count(line.substr(0, space) + line.substr(space + 1))) {
      throw UserError(merges_path + ":" + std::to_string(line_number) + ": the merged token is not in vocab.json");
    }
    ranks_.emplace(line, static_cast<int32_t>(rank++));
  }
}

std::vector<int32_t> Gpt2Tokenizer::bpe(const std::string& piece) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (const auto it = cache_.find(piece); it != cache_.end()) return it->second;
  }
  std::vector<std::string> word;
  for (const char c : piece) {
    std::string symbol;
    append_utf8(symbol, byte_alphabet()[static_cast<unsigned char>(c)]);
    word.push_back(std::move(symbol));
  }
  // Merge the lowest-ranked adjacent pair everywhere it occurs, until no pair has a rank.
  while (word.size() > 1) {
    int32_t best = INT32_MAX;
    std::string best_key;
    for (size_t k = 0; k + 1 < word.size(); ++k) {
      const std::string key = word[k] + " " + word[k + 1];
      const auto it = ranks_.find(key);
      if (it != ranks_.end() && it->second < best) best = it->second, best_key = key;
    }
    if (best == INT32_MAX) break;
    const size_t space = best_key.find(' ');
    const std::string left = best_key.substr(0, space), right = best_key.substr(space + 1);
    std::vector<std::string> merged;
    for (size_t k = 0; k < word.size(); ++k) {
      if (k + 1 < word.size() && word[k] == left && word[k + 1] == right) {
        merged.push_back(left + right);
        ++k;
      } else {
        merged.push_back(word[k]);
      }
    }
    word = std::move(merged);
  }
  std::vector<int32_t> ids;
  for (const std::string& symbol : word) {
    const auto it = ids_.find(symbol);
    if (it == ids_.end()) {
      throw UserError(vocab_path_ + ": no token for \"" + symbol + "\" (an incomplete vocabulary: every byte and every merge needs one)");
    }
    ids.push_back(it->second);
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() < (size_t{1} << 20)) cache_.emplace(piece, ids);
  return ids;
}

std::vector<int32_t> Gpt2Tokenizer::encode(const std::string& text) const {
  std::vector<int32_t> ids;
  for (const std::string& piece : gpt2_pretokenize(text)) {
    const std::vector<int32_t> part = bpe(piece);
    ids.insert(ids.end(), part.begin(), part.end());
  }
  return ids;
}

std::string Gpt2Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (const int32_t id : ids) {
    if (id >= 0 && static_cast<size_t>(id) < tokens_.size()) out += tokens_[static_cast<size_t>(id)];
  }
  return out;
}

}  // namespace stratum::data
