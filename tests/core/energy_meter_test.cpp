// The energy meter on a RAPL tree laid out like /sys/class/powercap: package domains counted
// once (not their subdomains, not psys), wrap-around at max_energy_range_uj handled, and an
// honest "not measurable" with no counters.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/energy_meter.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;

namespace stratum {
namespace {

using ::testing::HasSubstr;

void put(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text << "\n";
}

TEST(EnergyMeter, SumsPackageDomainsAcrossAWrap) {
  testing::TempDir dir;
  const fs::path root = dir.path();
  put(root / "intel-rapl:0" / "name", "package-0");
  put(root / "intel-rapl:0" / "max_energy_range_uj", "10000000");  // wraps at 10 J
  put(root / "intel-rapl:0" / "energy_uj", "9000000");
  put(root / "intel-rapl:0:0" / "name", "core");  // inside package-0: not counted again
  put(root / "intel-rapl:0:0" / "energy_uj", "5");
  put(root / "intel-rapl:1" / "name", "psys");  // overlaps the packages
  put(root / "intel-rapl:1" / "energy_uj", "5");
  put(root / "intel-rapl:2" / "name", "package-1");
  put(root / "intel-rapl:2" / "max_energy_range_uj", "10000000");
  put(root / "intel-rapl:2" / "energy_uj", "0");

  std::string reason;
  auto counters = rapl_counters(root.string(), reason);
  ASSERT_EQ(counters.size(), 2u) << reason;
  EnergyMeter meter(std::move(counters), "", /*sample_seconds=*/3600);
  EXPECT_TRUE(meter.available());
  EXPECT_EQ(meter.describe(), "RAPL package-0 + RAPL package-1");
  EXPECT_DOUBLE_EQ(*meter.joules(), 0.0);
  put(root / "intel-rapl:0" / "energy_uj", "1000000");  // 9 J -> wrapped -> 1 J: 2 J used
  put(root / "intel-rapl:2" / "energy_uj", "2500000");  // 2.5 J
  EXPECT_NEAR(*meter.joules(), 4.5, 1e-9);
  put(root / "intel-rapl:0" / "energy_uj", "3000000");  // 2 J more
  EXPECT_NEAR(*meter.joules(), 6.5, 1e-9);
}

TEST(EnergyMeter, SaysWhyNothingIsMeasured) {
  testing::TempDir dir;
  std::string reason;
  EXPECT_TRUE(rapl_counters(dir.path() + "/missing", reason).empty());
  EXPECT_THAT(reason, HasSubstr("does not exist"));
  EXPECT_TRUE(rapl_counters(dir.path(), reason).empty());
  EXPECT_THAT(reason, HasSubstr("no RAPL package domains"));
  const auto meter = EnergyMeter::open(dir.path() + "/missing", /*gpus=*/false);
  EXPECT_FALSE(meter->available());
  EXPECT_FALSE(meter->joules().has_value());
  EXPECT_THAT(meter->unavailable_reason(), HasSubstr("no RAPL counters"));
}

}  // namespace
}  // namespace stratum
