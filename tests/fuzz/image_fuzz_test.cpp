// Image files: valid JPEG, PNG (gray and RGB) and WebP mutated (flipped bytes, cut, duplicated
// ranges, edited sizes) decode or give a reason: never a crash, a hang or an allocation the size
// a damaged header claims (the limit here is 1M pixels).

#include <gtest/gtest.h>

#include "data/images/image_decode.h"
#include "data/images/resample.h"
#include "fuzz/fuzz_tally.h"
#include "fuzz/mutator.h"
#include "support/image_files.h"

namespace stratum::testing {
namespace {

TEST(ImageFuzz, MutatedImagesDecodeOrGiveAReason) {
  const std::vector<std::string> seeds = {
      encode_jpeg(test_pattern(24, 40, 3, 1), 24, 40, 3), encode_jpeg(test_pattern(16, 16, 1, 2), 16, 16, 1),
      encode_png(test_pattern(20, 30, 3, 3), 20, 30, 3), encode_png(test_pattern(9, 13, 1, 4), 9, 13, 1),
      encode_webp_lossless(test_pattern(18, 22, 3, 5), 18, 22)};
  // Markers and chunk names of the formats, and sizes that are too big or zero.
  const std::vector<std::string> tokens = {"\xff\xc0", "\xff\xd9", "\xff\xda", "\xff\xc4", "IHDR", "IDAT", "IEND", "PLTE",
                                           "tRNS", "VP8L", "VP8 ", "RIFF", std::string("\xff\xff\xff\xff", 4),
                                           std::string("\0\0\0\0", 4), std::string("\x7f\xff\xff\xff", 4)};
  Mutator mutator(2026, tokens);
  FuzzTally tally("image");
  data::DecodeLimits limits;
  limits.max_pixels = 1 << 20;
  int decoded = 0;
  for (int i = 0; i < 1500; ++i) {
    const std::string input = mutator.mutate(seeds[static_cast<size_t>(i) % seeds.size()]);
    tally.run(i, [&] {
      const data::DecodeResult r = data::decode_image(input, 1 + (i % 2) * 2, limits);
      EXPECT_NE(r.image.has_value(), !r.problem.empty()) << "case " << i;
      if (r.image) {
        ++decoded;
        EXPECT_EQ(r.image->pixels.size(), static_cast<size_t>(r.image->height * r.image->width * r.image->channels));
        data::resize_shorter_side(*r.image, 8);  // what the source does next
      }
    });
  }
  EXPECT_GT(decoded, 50);  // some mutants stay images: the decoders were really exercised
}

}  // namespace
}  // namespace stratum::testing
