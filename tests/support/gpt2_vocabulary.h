#pragma once
// A GPT-2-style tokenizer folder for tests (header-only): vocab.json with the 256 byte symbols
// of GPT-2's alphabet, one token per merge and <|endoftext|>, and the merges.txt given.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/temp_dir.h"

namespace stratum::testing {

// A vocabulary of the 256 byte symbols, a few merges and <|endoftext|>, written as Hugging
// Face lays it out.
inline std::string write_vocabulary(const TempDir& dir, const std::string& name, const std::string& merges_text) {
  std::filesystem::create_directories(dir.path() + "/" + name);
  // GPT-2's byte alphabet, in byte order.
  nlohmann::json vocab = nlohmann::json::object();
  int next = 256, id = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const int cp = printable ? b : next++;
    std::string utf8;
    if (cp < 0x80) {
      utf8 += static_cast<char>(cp);
    } else {
      utf8 += static_cast<char>(0xC0 | (cp >> 6));
      utf8 += static_cast<char>(0x80 | (cp & 0x3F));
    }
    vocab[utf8] = id++;
  }
  std::istringstream lines(merges_text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    if (space != std::string::npos) vocab[line.substr(0, space) + line.substr(space + 1)] = id++;
  }
  vocab["<|endoftext|>"] = id;
  dir.write(name + "/vocab.json", vocab.dump());
  dir.write(name + "/merges.txt", merges_text);
  return dir.path() + "/" + name;
}

}  // namespace stratum::testing
