#pragma once
// Deterministic input mutation for the fuzz tests: each case starts from a valid input and
// applies a few random edits (byte flips, dictionary tokens, deletions, duplications,
// truncations, extreme numbers, invalid UTF-8 and control bytes), seeded so a failure names
// its case number and reproduces.

#include <string>
#include <vector>

#include "data/rng.h"

namespace stratum::testing {

/// Produces mutants of valid inputs from one seed.
class Mutator {
 public:
  Mutator(uint64_t seed, std::vector<std::string> dictionary) : rng_(seed, 77), dictionary_(std::move(dictionary)) {}

  /// `input` after 1 to 4 random edits.
  std::string mutate(std::string input) {
    const int edits = 1 + static_cast<int>(rng_.below(4));
    for (int e = 0; e < edits; ++e) edit(input);
    return input;
  }

  /// A random integer in [0, n).
  uint64_t below(uint64_t n) { return rng_.below(n); }

 private:
  size_t position(const std::string& s) { return s.empty() ? 0 : static_cast<size_t>(rng_.below(s.size() + 1)); }

  void edit(std::string& s) {
    static const char* const kNumbers[] = {"-1", "0", "99999999999999999999", "1e308", "-1e308", "nan", "inf",
                                           "9223372036854775807", "18446744073709551616", "4294967296", "0.5", "-0"};
    switch (rng_.below(8)) {
      case 0:  // flip a byte
        if (!s.empty()) s[static_cast<size_t>(rng_.below(s.size()))] = static_cast<char>(rng_.below(256));
        break;
      case 1:  // insert a token of the format
        if (!dictionary_.empty()) s.insert(position(s), dictionary_[static_cast<size_t>(rng_.below(dictionary_.size()))]);
        break;
      case 2: {  // delete a short range
        const size_t at = position(s);
        s.erase(at, static_cast<size_t>(rng_.below(17)));
        break;
      }
      case 3: {  // duplicate a range somewhere else
        const size_t at = position(s);
        const std::string piece = s.substr(at, static_cast<size_t>(rng_.below(64)));
        s.insert(position(s), piece);
        break;
      }
      case 4:  // truncate
        s.resize(position(s));
        break;
      case 5: {  // replace a run of digits by an extreme number
        const size_t digit = s.find_first_of("0123456789", position(s));
        if (digit == std::string::npos) break;
        const size_t end = s.find_first_not_of("0123456789", digit);
        s.replace(digit, (end == std::string::npos ? s.size() : end) - digit, kNumbers[rng_.below(12)]);
        break;
      }
      case 6: {  // control bytes and invalid UTF-8
        static const char* const kBytes[] = {"\x1b[2J", "\xff\xfe", "\xc3", "\xed\xa0\x80", "\r", "\t", "\x7f", "\xc2\x9b"};
        s.insert(position(s), kBytes[rng_.below(8)]);
        break;
      }
      default:  // a long run of one byte
        s.insert(position(s), std::string(1 + static_cast<size_t>(rng_.below(3000)), static_cast<char>(rng_.below(128))));
        break;
    }
  }

  data::Rng rng_;
  std::vector<std::string> dictionary_;
};

}  // namespace stratum::testing
