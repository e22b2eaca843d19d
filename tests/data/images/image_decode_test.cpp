// Decoding: JPEG, PNG and WebP to gray or RGB; and every way an image file can be bad (empty,
// unknown, truncated, corrupt, a decompression bomb) gives a reason, never a crash or an
// allocation the size the header claims.

#include "data/images/image_decode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "data/images/image_encode.h"
#include "data/images/resample.h"
#include "support/image_files.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::encode_jpeg;
using testing::encode_png;
using testing::test_pattern;

TEST(ImageDecode, LosslessFormatsGiveTheirPixelsBack) {
  const auto rgb = test_pattern(21, 34, 3, 1);
  const auto gray = test_pattern(13, 8, 1, 2);
  for (const std::string& bytes : {encode_png(rgb, 21, 34, 3), testing::encode_webp_lossless(rgb, 21, 34)}) {
    const DecodeResult r = decode_image(bytes, 3);
    ASSERT_TRUE(r.image) << r.problem;
    EXPECT_EQ(r.image->height, 21);
    EXPECT_EQ(r.image->width, 34);
    EXPECT_EQ(r.image->pixels, rgb);
  }
  const DecodeResult g = decode_image(encode_png(gray, 13, 8, 1), 1);
  ASSERT_TRUE(g.image);
  EXPECT_EQ(g.image->pixels, gray);
  // Gray to RGB repeats the value; RGB to gray is Pillow's luma (299, 587, 114 per mille).
  const DecodeResult repeated = decode_image(encode_png(gray, 13, 8, 1), 3);
  ASSERT_TRUE(repeated.image);
  EXPECT_EQ(repeated.image->pixels[3 * 5 + 2], gray[5]);
  const std::vector<uint8_t> one = {200, 100, 50};
  const DecodeResult luma = decode_image(encode_png(one, 1, 1, 3), 1);
  ASSERT_TRUE(luma.image);
  EXPECT_EQ(luma.image->pixels[0], 124);  // 200 * .299 + 100 * .587 + 50 * .114 = 124.2
}

TEST(ImageDecode, JpegIsCloseToTheEncodedPixels) {
  const auto rgb = test_pattern(40, 56, 3, 3);
  const DecodeResult r = decode_image(encode_jpeg(rgb, 40, 56, 3, 95), 3);
  ASSERT_TRUE(r.image) << r.problem;
  double error = 0;
  for (size_t i = 0; i < rgb.size(); ++i) error += std::abs(int(rgb[i]) - int(r.image->pixels[i]));
  EXPECT_LT(error / static_cast<double>(rgb.size()), 8.0);  // lossy, but the same picture
  EXPECT_EQ(image_format(encode_jpeg(rgb, 40, 56, 3)), "jpeg");
}

TEST(ImageDecode, BadFilesGiveAReasonAndNoPixels) {
  const auto rgb = test_pattern(30, 30, 3, 4);
  const std::string png = encode_png(rgb, 30, 30, 3), jpeg = encode_jpeg(rgb, 30, 30, 3),
                    webp = testing::encode_webp_lossless(rgb, 30, 30);
  const auto problem = [](const std::string& bytes) {
    const DecodeResult r = decode_image(bytes, 3);
    EXPECT_FALSE(r.image);
    return r.problem;
  };
  EXPECT_EQ(problem(""), "empty file (0 bytes)");
  EXPECT_EQ(problem("GIF89a......"), "not a JPEG, PNG or WebP image (unknown leading bytes)");
  EXPECT_THAT(problem(png.substr(0, png.size() / 2)), HasSubstr("corrupt or truncated PNG data"));
  EXPECT_THAT(problem(jpeg.substr(0, jpeg.size() / 2)), HasSubstr("corrupt or truncated JPEG data"));
  EXPECT_THAT(problem(webp.substr(0, webp.size() / 2)), HasSubstr("WebP"));
  EXPECT_THAT(problem(jpeg.substr(0, 40)), HasSubstr("corrupt"));
  std::string flipped = png;
  for (size_t i = 60; i < 90; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0x55);
  EXPECT_THAT(problem(flipped), HasSubstr("corrupt or truncated PNG data"));
  std::string garbage = jpeg;
  for (size_t i = jpeg.size() / 2; i < jpeg.size() - 2; ++i) garbage[i] = static_cast<char>(i * 31);
  const DecodeResult damaged = decode_image(garbage, 3);  // libjpeg-turbo may refuse or decode noise: never crash
  EXPECT_TRUE(damaged.image.has_value() != !damaged.problem.empty());
}

// 60,000 x 60,000 declared: refused from the header, before 10 GB of pixels are asked for.
TEST(ImageDecode, DecompressionBombsAreRefusedFromTheHeader) {
  const DecodeResult png = decode_image(testing::png_header_only(60000, 60000), 3);
  EXPECT_FALSE(png.image);
  EXPECT_EQ(png.problem, "image of 60000x60000 pixels is over data.image.max_pixels (41943040)");
  // A real JPEG whose frame header is edited to claim 60000 x 60000.
  std::string jpeg = encode_jpeg(test_pattern(16, 16, 3, 5), 16, 16, 3);
  const size_t sof = jpeg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 5] = static_cast<char>(0xEA), jpeg[sof + 6] = static_cast<char>(0x60);  // height 60000
  jpeg[sof + 7] = static_cast<char>(0xEA), jpeg[sof + 8] = static_cast<char>(0x60);  // width 60000
  const DecodeResult big = decode_image(jpeg, 3);
  EXPECT_FALSE(big.image);
  EXPECT_THAT(big.problem, HasSubstr("60000x60000 pixels is over data.image.max_pixels"));
  // A lower limit applies to ordinary sizes too.
  EXPECT_THAT(decode_image(encode_png(test_pattern(30, 30, 3, 6), 30, 30, 3), 3, {899}).problem,
              HasSubstr("image of 30x30 pixels is over"));
}

TEST(ImageEncode, PngRoundTripsExactlyAndGridsPlaceEachImage) {
  for (const int64_t channels : {1, 3}) {
    Image image;
    image.height = 5, image.width = 7, image.channels = channels;
    for (int64_t i = 0; i < 5 * 7 * channels; ++i) image.pixels.push_back(static_cast<uint8_t>((i * 37) % 256));
    const DecodeResult back = decode_image(encode_png(image), channels);
    ASSERT_TRUE(back.image) << back.problem;
    EXPECT_EQ(back.image->pixels, image.pixels);
    EXPECT_EQ(back.image->width, 7);
  }
  // Three 2 x 3 gray images in rows of two, 1-pixel gaps: 2 x 3 + 3 wide, 2 x 2 + 3 high.
  std::vector<Image> images;
  for (uint8_t v : {10, 20, 30}) images.push_back({2, 3, 1, std::vector<uint8_t>(6, v)});
  const Image grid = tile_images(images, 2, 1, 255);
  EXPECT_EQ(grid.width, 9);
  EXPECT_EQ(grid.height, 7);
  const auto at = [&](int64_t y, int64_t x) { return grid.pixels[static_cast<size_t>(y * grid.width + x)]; };
  EXPECT_EQ(at(0, 0), 255);  // the gap
  EXPECT_EQ(at(1, 1), 10);
  EXPECT_EQ(at(2, 3), 10);
  EXPECT_EQ(at(1, 5), 20);
  EXPECT_EQ(at(4, 1), 30);
  EXPECT_EQ(at(4, 5), 255);  // no fourth image
}

TEST(Resample, CropsFlipsAndCenterWindowsAreExact) {
  Image image{4, 5, 1, {}};
  for (uint8_t i = 0; i < 20; ++i) image.pixels.push_back(i);
  EXPECT_EQ(crop(image, 1, 2, 2, 2).pixels, (std::vector<uint8_t>{7, 8, 12, 13}));
  EXPECT_EQ(flip_horizontal(crop(image, 0, 0, 1, 5)).pixels, (std::vector<uint8_t>{4, 3, 2, 1, 0}));
  // (4 - 3) / 2 = 0.5 rounds to 0 and (5 - 2) / 2 = 1.5 to 2: half to even, as torchvision.
  EXPECT_EQ(center_crop(image, 3, 2).pixels, (std::vector<uint8_t>{2, 3, 7, 8, 12, 13}));
  // Same size: untouched; constant images stay constant at any scale.
  EXPECT_EQ(resize_bilinear(image, 4, 5).pixels, image.pixels);
  Image flat{9, 7, 3, std::vector<uint8_t>(9 * 7 * 3, 77)};
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{3, 2}, {20, 31}, {1, 1}, {9, 1}}) {
    const Image out = resize_bilinear(flat, h, w);
    EXPECT_EQ(out.pixels, std::vector<uint8_t>(static_cast<size_t>(h * w * 3), 77)) << h << "x" << w;
  }
  EXPECT_EQ(resize_shorter_side(flat, 14).height, 18);  // 14 * 9 / 7
  EXPECT_EQ(resize_shorter_side(flat, 14).width, 14);
}

}  // namespace
}  // namespace stratum::data
