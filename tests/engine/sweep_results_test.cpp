// sweep.json round trips and fails closed; results aggregate each setting's seeds.

#include "engine/experiments/sweep_results.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/experiments/sweep_state.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::experiments {
namespace {

using ::testing::HasSubstr;

SweepRun finished_run(const testing::TempDir& dir, const std::string& setting, int64_t seed, double accuracy) {
  SweepRun r;
  r.plan.setting = setting;
  r.plan.seed = seed;
  r.plan.id = setting + "-s" + std::to_string(seed);
  r.plan.varied = {{"trainer.lr", setting == "001-lr_0.1" ? "0.1" : "0.2"}};
  r.state = RunState::finished;
  const std::string run_dir = dir.path() + "/runs/" + r.plan.id;
  std::filesystem::create_directories(run_dir);
  nlohmann::json eval = {{"step", 50},
                         {"model", {{"peak_rss_bytes", 104857600}}},
                         {"splits", {{"validation", {{"samples", 100}, {"loss", 1.0 - accuracy}, {"accuracy", accuracy}}}}}};
  dir.write("runs/" + r.plan.id + "/eval.json", eval.dump());
  r.attempts.push_back({run_dir, 12.5, 0, false});
  return r;
}

TEST(SweepResults, AggregateEachSettingsSeedsWithTIntervals) {
  testing::TempDir dir;
  SweepState state;
  state.base_config = "configs/smoke.yaml";
  state.plan_sha256 = "abc";
  state.runs = {finished_run(dir, "001-lr_0.1", 1, 0.80), finished_run(dir, "001-lr_0.1", 2, 0.84),
                finished_run(dir, "002-lr_0.2", 1, 0.70)};
  SweepRun failed;
  failed.plan = {"002-lr_0.2-s2", "002-lr_0.2", {{"trainer.lr", "0.2"}}, "", 2};
  failed.state = RunState::failed;
  failed.exit_code = 2;
  state.runs.push_back(failed);

  const std::string table = write_sweep_results(state, dir.path());
  EXPECT_THAT(table, HasSubstr("001-lr_0.1"));
  const nlohmann::json results = nlohmann::json::parse(testing::read_file(dir.path() + "/results.json"));
  ASSERT_EQ(results["settings"].size(), 2u);
  const nlohmann::json& first = results["settings"][0]["metrics"]["validation.accuracy"];
  EXPECT_EQ(first["n"], 2);
  EXPECT_NEAR(first["mean"].get<double>(), 0.82, 1e-12);
  EXPECT_NEAR(first["std"].get<double>(), std::sqrt(0.0008), 1e-12);
  EXPECT_NEAR(first["ci95"][1].get<double>() - 0.82, 12.706 * std::sqrt(0.0008) / std::sqrt(2.0), 1e-9);
  EXPECT_EQ(results["settings"][1]["finished_runs"], 1);  // the failed seed is left out
  EXPECT_EQ(results["runs"][3]["state"], "failed");
  EXPECT_EQ(results["runs"][3]["exit_code"], 2);
  const std::string csv = testing::read_file(dir.path() + "/results.csv");
  EXPECT_THAT(csv, HasSubstr("run,setting,seed,ablated,state,exit_code,trainer.lr,steps,wall_seconds,peak_rss_mib"));
  EXPECT_THAT(csv, HasSubstr("001-lr_0.1-s2,001-lr_0.1,2,,finished,0,0.1,50,12.5,100,"));
  EXPECT_THAT(testing::read_file(dir.path() + "/settings.csv"), HasSubstr("validation.accuracy_mean"));

  // sweep.json: the same state back, and a damaged one refused naming the file.
  const std::string path = dir.write("sweep.json", sweep_state_json(state));
  const SweepState back = read_sweep_state(path);
  ASSERT_EQ(back.runs.size(), 4u);
  EXPECT_EQ(back.runs[1].run_dir(), state.runs[1].run_dir());
  EXPECT_EQ(back.runs[3].state, RunState::failed);
  EXPECT_EQ(back.runs[0].plan.varied, state.runs[0].plan.varied);
  const std::string broken = dir.write("broken.json", "{\"format\": 1, \"runs\": [{\"id\": 3}]}");
  EXPECT_THAT(testing::user_error([&] { read_sweep_state(broken); }), HasSubstr("broken.json: corrupt sweep state"));
  const std::string other = dir.write("other.json", "[1, 2]");
  EXPECT_THAT(testing::user_error([&] { read_sweep_state(other); }), HasSubstr("other.json: not a sweep.json"));
}

}  // namespace
}  // namespace stratum::experiments
