// RandAugment against torchvision 0.26 (pinned in the venv; scripts/parity/rand_augment_ops.py):
// each of the 14 operations at bins 0, 9 and 30 of 31, both signs, RGB and gray. Tolerances:
// point operations (posterize, solarize, autocontrast, equalize, brightness, color) exact;
// contrast and sharpness within 1 LSB (torch sums the mean and the 3x3 kernel in another
// order, which can move a value across a rounding boundary); geometry (shear, translate,
// rotate: nearest neighbour) exact on at least 99.9% of pixels (a sample point within float
// rounding of a pixel edge may pick the neighbour; on this machine every value is equal).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "data/images/rand_augment.h"
#include "support/temp_dir.h"

namespace stratum::data {
namespace {

std::vector<uint8_t> bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

TEST(RandAugmentParity, EveryOperationMatchesTorchvisionOnUint8Images) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  testing::TempDir dir;
  const testing::CommandResult made = testing::run_command("'" + python + "' '" + STRATUM_SOURCE_DIR +
                                                           "/scripts/parity/rand_augment_ops.py' '" + dir.path() + "'");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto manifest = nlohmann::json::parse(testing::read_file(dir.path() + "/cases.json"));
  const int64_t height = manifest["height"], width = manifest["width"];
  std::map<std::string, Image> images;
  for (const auto& [name, channels] : {std::pair<std::string, int64_t>{"rgb", 3}, {"gray", 1}}) {
    images[name] = Image{height, width, channels, bytes_of(dir.path() + "/" + name + ".raw")};
    ASSERT_EQ(images[name].pixels.size(), static_cast<size_t>(height * width * channels));
  }
  int checked = 0;
  int64_t geometry_differing = 0, geometry_values = 0;
  for (const auto& c : manifest["cases"]) {
    const auto op = static_cast<RandOp>(c["index"].get<int>());
    const std::string name = c["op"].get<std::string>() + " bin " + std::to_string(c["bin"].get<int>()) + " " +
                             c["image"].get<std::string>() + " magnitude " + std::to_string(c["magnitude"].get<double>());
    const double magnitude = c["magnitude"];
    const double ours = rand_op_magnitude(op, c["bin"], 31, height, width);
    EXPECT_NEAR(rand_op_signed(op) ? std::abs(magnitude) : magnitude, ours, 1e-6) << name;
    const Image out = apply_rand_op(images[c["image"]], op, magnitude);
    const std::vector<uint8_t> expected = bytes_of(c["path"]);
    ASSERT_EQ(out.pixels.size(), expected.size()) << name;
    int worst = 0;
    int64_t differing = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      const int d = std::abs(int(out.pixels[i]) - int(expected[i]));
      worst = std::max(worst, d), differing += d != 0;
    }
    const bool geometric = op == RandOp::shear_x || op == RandOp::shear_y || op == RandOp::translate_x ||
                           op == RandOp::translate_y || op == RandOp::rotate;
    if (geometric) {
      geometry_differing += differing, geometry_values += static_cast<int64_t>(expected.size());
      EXPECT_LE(static_cast<double>(differing), 0.001 * static_cast<double>(expected.size())) << name;
    } else if (op == RandOp::contrast || op == RandOp::sharpness) {
      EXPECT_LE(worst, 1) << name;
    } else {
      EXPECT_EQ(worst, 0) << name << " (" << differing << " values differ)";
    }
    ++checked;
  }
  EXPECT_EQ(checked, 138);
  std::cout << "geometry: " << geometry_differing << " of " << geometry_values << " values differ from torchvision\n";
}

// rand_augment draws an operation uniformly, then a sign where it is signed, per operation:
// the same stream replayed by hand gives the same image.
TEST(RandAugment, DrawsAnOperationThenASignPerStep) {
  Image image{12, 16, 3, std::vector<uint8_t>(12 * 16 * 3)};
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 7 % 251);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Rng rng(seed), replay(seed);
    const Image drawn = rand_augment(image, 3, 9, 31, rng);
    Image expected = image;
    for (int k = 0; k < 3; ++k) {
      const auto op = static_cast<RandOp>(replay.below(kRandOps));
      double magnitude = rand_op_magnitude(op, 9, 31, expected.height, expected.width);
      if (rand_op_signed(op) && replay.below(2) == 1) magnitude = -magnitude;
      expected = apply_rand_op(expected, op, magnitude);
    }
    EXPECT_EQ(drawn.pixels, expected.pixels) << "seed " << seed;
    EXPECT_EQ(rng.next(), replay.next()) << "seed " << seed;
  }
}

// The draw itself, with the power to fail: 14,000 single-operation draws on an image where every
// (operation, sign) gives a different result, each draw identified by its result. Every
// operation must come up 1/14 of the time (chi-square over 13 degrees of freedom below 40.8,
// p = 1e-4 under uniform draws; drawing from 13 operations or favouring one fails it), and each
// signed operation must be negated half the time (within 5 standard deviations).
TEST(RandAugment, OperationsAreDrawnUniformlyAndSignsHalfTheTime) {
  Image image{24, 32, 3, std::vector<uint8_t>(24 * 32 * 3)};  // over 255 pixels a channel: equalize acts
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(60 + (i * 37 + i / 7 * 11) % 80);  // a narrow range: equalize and autocontrast stretch it
  const int bin = 30, bins = 31;
  std::vector<std::pair<int, bool>> outcomes;  // (operation, negated)
  std::vector<Image> results;
  for (int op = 0; op < kRandOps; ++op) {
    for (const bool negated : {false, true}) {
      if (negated && !rand_op_signed(static_cast<RandOp>(op))) continue;
      const double m = rand_op_magnitude(static_cast<RandOp>(op), bin, bins, image.height, image.width);
      outcomes.emplace_back(op, negated);
      results.push_back(apply_rand_op(image, static_cast<RandOp>(op), negated ? -m : m));
    }
  }
  for (size_t a = 0; a < results.size(); ++a) {
    for (size_t b = a + 1; b < results.size(); ++b) {
      ASSERT_NE(results[a].pixels, results[b].pixels) << "outcomes " << a << " and " << b << " look alike";
    }
  }
  const int draws = 14000;
  std::vector<int> per_op(kRandOps), negated(kRandOps);
  Rng rng(20261201);
  for (int d = 0; d < draws; ++d) {
    const Image drawn = rand_augment(image, 1, bin, bins, rng);
    const auto match = std::find_if(results.begin(), results.end(), [&](const Image& r) { return r.pixels == drawn.pixels; });
    ASSERT_NE(match, results.end()) << "draw " << d << " is no single operation";
    const auto [op, neg] = outcomes[static_cast<size_t>(match - results.begin())];
    ++per_op[static_cast<size_t>(op)], negated[static_cast<size_t>(op)] += neg;
  }
  const double expected = static_cast<double>(draws) / kRandOps;
  double chi2 = 0;
  for (int count : per_op) chi2 += (count - expected) * (count - expected) / expected;
  EXPECT_LT(chi2, 40.8);
  for (int op = 0; op < kRandOps; ++op) {
    const auto n = static_cast<double>(per_op[static_cast<size_t>(op)]);
    const double share = negated[static_cast<size_t>(op)] / n;
    if (rand_op_signed(static_cast<RandOp>(op))) {
      EXPECT_NEAR(share, 0.5, 5 * std::sqrt(0.25 / n)) << "operation " << op;
    } else {
      EXPECT_EQ(share, 0.0) << "operation " << op;
    }
  }
}

}  // namespace
}  // namespace stratum::data
