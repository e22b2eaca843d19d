// IDX files: mutated headers and bodies (raw and gzip) are read strictly (a UserError naming
// the file and byte) or into splits where every record the files declare is accounted for:
// read = accepted + rejected.

#include <gtest/gtest.h>

#include <filesystem>

#include "data/idx_fixtures.h"
#include "data/sources/idx_file.h"
#include "data/sources/idx_source.h"
#include "fuzz/fuzz_tally.h"
#include "fuzz/mutator.h"
#include "support/temp_dir.h"

namespace stratum::testing {
namespace {

const std::vector<std::string> kIdxTokens = {std::string("\0\0\x08\x03", 4), std::string("\0\0\x08\x01", 4),
                                             std::string("\0\0\x0D\x03", 4), std::string("\xff\xff\xff\xff", 4),
                                             std::string("\0\0\0\0", 4), std::string("\0\x2d\xc6\xc0", 4),
                                             std::string(4096, '\0'), "\x1f\x8b"};

TEST(IdxFuzz, MutatedFilesReadStrictlyOrAccountForEveryRecord) {
  TempDir dir;
  const std::string images = idx_bytes({60, 4, 4}), labels = idx_labels(60, 3);
  dir.write("t10k-images-idx3-ubyte", idx_bytes({5, 4, 4}));
  dir.write("t10k-labels-idx1-ubyte", idx_labels(5, 3));
  Mutator mutator(13, kIdxTokens);
  FuzzTally strict("IDX files (strict read)"), lenient("IDX files (training source)");
  for (int i = 0; i < 800; ++i) {
    const bool mutate_images = i % 2 == 0;
    const std::string& seed = mutate_images ? images : labels;
    // Mostly the header: a mutant of its first 16 bytes, then the original body.
    std::string bytes = mutator.below(3) != 0 ? mutator.mutate(seed.substr(0, 16)) + seed.substr(std::min<size_t>(16, seed.size()))
                                              : mutator.mutate(seed);
    const bool gzip = i % 3 == 0;
    std::filesystem::remove(dir.path() + "/train-images-idx3-ubyte");
    std::filesystem::remove(dir.path() + "/train-images-idx3-ubyte.gz");
    std::filesystem::remove(dir.path() + "/train-labels-idx1-ubyte");
    std::filesystem::remove(dir.path() + "/train-labels-idx1-ubyte.gz");
    const std::string name = mutate_images ? "train-images-idx3-ubyte" : "train-labels-idx1-ubyte";
    const std::string other = mutate_images ? "train-labels-idx1-ubyte" : "train-images-idx3-ubyte";
    const std::string path = dir.path() + "/" + name + (gzip ? ".gz" : "");
    if (gzip) {
      write_gzip(path, bytes);
    } else {
      dir.write(name, bytes);
    }
    dir.write(other, mutate_images ? labels : images);
    strict.run(i, [&] { data::read_idx(path); });
    lenient.run(i, [&] {
      data::DataOptions options;
      options.path = dir.path();
      options.max_reject_fraction = 1.0;
      data::DataContext context;
      context.rejects_path = dir.path() + "/rejects.jsonl";
      const data::SplitData d = data::read_idx_source(options, context);
      EXPECT_EQ(d.records_read, d.records_accepted + d.records_rejected) << "case " << i;
      for (const data::SourceFile& f : d.files) {
        EXPECT_EQ(f.records_read, f.records_accepted + f.records_rejected) << "case " << i << " " << f.path;
      }
    });
  }
  EXPECT_GT(strict.refused(), 200);
}

}  // namespace
}  // namespace stratum::testing
