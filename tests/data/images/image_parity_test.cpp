// Parity with Pillow and torchvision (pinned in the venv; scripts/parity/image_pipeline.py):
// decoded JPEG / PNG / WebP pixels within 1 LSB of Pillow (PNG and lossless WebP exact),
// Pillow's BILINEAR resize exactly, torchvision's Resize + CenterCrop exactly, and ToTensor +
// Normalize to 1e-6.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/images/image_augment.h"
#include "data/images/image_decode.h"
#include "data/images/resample.h"
#include "support/temp_dir.h"

namespace stratum::data {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<uint8_t> bytes_of(const std::string& path) {
  const std::string s = slurp(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

int worst(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size()) return 1000;
  int w = 0;
  for (size_t i = 0; i < a.size(); ++i) w = std::max(w, std::abs(int(a[i]) - int(b[i])));
  return w;
}

TEST(ImageParity, DecodeResizeCropAndNormalizeMatchPillowAndTorchvision) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  testing::TempDir dir;
  const testing::CommandResult made = testing::run_command("'" + python + "' '" + STRATUM_SOURCE_DIR +
                                                           "/scripts/parity/image_pipeline.py' '" + dir.path() + "'");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto cases = nlohmann::json::parse(slurp(dir.path() + "/manifest.json"));
  int checked = 0;
  for (const auto& c : cases) {
    const std::string name = c["name"];
    const bool lossy = name.find(".jpg") != std::string::npos || name.find("lossy") != std::string::npos;
    for (const auto& [mode, channels] : {std::pair<std::string, int64_t>{"RGB", 3}, {"L", 1}}) {
      const auto& ref = c[mode];
      const std::string tag = dir.path() + "/" + name + "." + mode;
      const DecodeResult decoded = decode_image(slurp(c["path"]), channels);
      ASSERT_TRUE(decoded.image) << name << ": " << decoded.problem;
      EXPECT_EQ(decoded.image->height, ref["height"].get<int64_t>()) << name;
      EXPECT_EQ(decoded.image->width, ref["width"].get<int64_t>()) << name;
      EXPECT_LE(worst(decoded.image->pixels, bytes_of(tag + ".decoded")), lossy ? 1 : 0) << name << " " << mode;
      // Geometry from Pillow's own decoded pixels, so only the resampling is compared.
      const Image base{ref["height"].get<int64_t>(), ref["width"].get<int64_t>(), channels, bytes_of(tag + ".decoded")};
      for (const auto& r : ref["resized"]) {
        const Image out = resize_bilinear(base, r["height"].get<int64_t>(), r["width"].get<int64_t>());
        EXPECT_EQ(worst(out.pixels, bytes_of(dir.path() + "/" + r["file"].get<std::string>())), 0)
            << name << " " << mode << " to " << r["height"] << "x" << r["width"];
      }
      const int64_t resize = ref["center"]["resize"], crop_size = ref["center"]["crop"];
      const Image kept = resize_shorter_side(base, resize);
      EXPECT_EQ(worst(center_crop(kept, crop_size, crop_size).pixels, bytes_of(tag + ".center")), 0) << name << " " << mode;
      ImageOptions options;
      options.size = crop_size;
      options.channels = channels;
      const std::vector<float> mean = ref["normalized"]["mean"].get<std::vector<float>>();
      const std::vector<float> stddev = ref["normalized"]["std"].get<std::vector<float>>();
      const ImageTransform transform(options, mean, stddev);
      std::vector<float> out(static_cast<size_t>(transform.example_size()));
      transform.evaluation(kept, out.data());
      const std::string expected = slurp(tag + ".normalized");
      ASSERT_EQ(expected.size(), out.size() * sizeof(float));
      const auto* want = reinterpret_cast<const float*>(expected.data());
      double largest = 0;
      for (size_t i = 0; i < out.size(); ++i) largest = std::max(largest, std::abs(double(out[i]) - double(want[i])));
      EXPECT_LT(largest, 1e-5) << name << " " << mode;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 18);
}

}  // namespace
}  // namespace stratum::data
