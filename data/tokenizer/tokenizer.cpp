#include "data/tokenizer/tokenizer.h"

#include <filesystem>

#include "data/tokenizer/byte_bpe.h"
#include "data/tokenizer/gpt2_tokenizer.h"

namespace stratum::data {

std::shared_ptr<const Tokenizer> load_tokenizer(const std::string& path) {
  if (path.empty()) return std::make_shared<const BytePairTokenizer>();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return std::make_shared<const Gpt2Tokenizer>(path);
  return std::make_shared<const BytePairTokenizer>(BytePairTokenizer::load(path));
}

}  // namespace stratum::data
