#include "engine/report/run_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/report/svg_chart.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(SvgChart, NiceTicksUseOneTwoFiveSteps) {
  EXPECT_THAT(nice_ticks(0, 1, 5), ElementsAre(0, 0.2, 0.4, 0.6000000000000001, 0.8, 1));
  EXPECT_THAT(nice_ticks(3, 97, 4), ElementsAre(20, 40, 60, 80));
  EXPECT_THAT(nice_ticks(-1, 1, 2), ElementsAre(-1, 0, 1));
  EXPECT_THAT(nice_ticks(5, 5, 3), ElementsAre(5));
}

TEST(SvgChart, EscapesTextAndSaysWhenThereIsNoData) {
  EXPECT_EQ(escape_html("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&#39;");
  const std::string empty = render_line_chart({"Loss <fp16>", "step", "loss", {}, {}, false});
  EXPECT_THAT(empty, HasSubstr("Loss &lt;fp16&gt;"));
  EXPECT_THAT(empty, HasSubstr("no data recorded"));
}

TEST(SvgChart, DrawsOnePathPerSeriesMarkersInRangeAndALegend) {
  LineChart chart{"Sizes", "records", "items", {}, {{50, "tv of labels"}, {1e9, "out of range"}}, false};
  chart.series.push_back({"cat", {{0, 1}, {100, 5}}});
  chart.series.push_back({"dog", {{0, 2}, {std::nan(""), 3}, {100, 4}}});
  const std::string svg = render_line_chart(chart);
  EXPECT_EQ(count(svg, "<path "), 2);
  EXPECT_EQ(count(svg, "class=\"marker\""), 1);
  EXPECT_THAT(svg, HasSubstr("tv of labels"));
  EXPECT_THAT(svg, HasSubstr(">cat</text>"));
  EXPECT_THAT(svg, HasSubstr(">dog</text>"));
}

TEST(SvgChart, HeatmapShadesByRowShareAndLabelsCells) {
  const std::string svg = render_heatmap({{8, 2}, {0, 0}}, {"yes", "no"}, "validation");
  EXPECT_EQ(count(svg, "class=\"cell\""), 4);
  EXPECT_THAT(svg, HasSubstr("yes predicted as no: 2"));
  EXPECT_THAT(svg, HasSubstr("rgb(75,146,195)"));   // 0.8 of the row
  EXPECT_THAT(svg, HasSubstr("rgb(255,255,255)"));  // an empty row stays white
}

TEST(RunReport, BuildsASelfContainedPageFromTheRunsFiles) {
  testing::TempDir run;
  run.write("metrics.jsonl",
            "{\"kind\":\"event\",\"step\":0,\"event\":\"drift\",\"statistic\":\"tv\",\"subject\":\"labels\","
            "\"record\":300,\"value\":0.4,\"threshold\":0.1}\n"
            "{\"kind\":\"train\",\"step\":1,\"loss\":2.3,\"lr\":0.001,\"samples_per_second\":900}\n"
            "not json\n"
            "{\"kind\":\"train\",\"step\":2,\"loss\":1.1,\"lr\":0.002,\"samples_per_second\":950}\n"
            "{\"kind\":\"eval\",\"step\":1,\"split\":\"validation\",\"loss\":2.2,\"accuracy\":0.4}\n"
            "{\"kind\":\"eval\",\"step\":2,\"split\":\"validation\",\"loss\":1.2,\"accuracy\":0.7}\n");
  run.write("eval.json", R"({"step":2,"model":{"parameters":10,"trainable_parameters":10,"peak_rss_bytes":1048576},
    "weights":{"evaluated":"best","step":1,"early_stopping":{"metric":"validation.loss","stopped":true,
      "stopped_at_step":2,"best_step":1,"best":2.2}},
    "class_names":["cat","dog"],
    "splits":{"validation":{"samples":10,"loss":1.2,"accuracy":0.7,"macro_f1":0.69,"macro_precision":0.7,
      "macro_recall":0.7,"expected_calibration_error":0.05,"per_class":{"precision":[0.7,0.7],"recall":[0.6,0.8],
      "f1":[0.65,0.75]},"confusion_matrix":[[3,2],[1,4]],"cost":{"samples_per_second":100}}}})");
  run.write("reservoirs.json", R"({"class_names":["cat","dog"],"sampler":{"offered":600},
    "history":[{"record":100,"sizes":[40,60]},{"record":600,"sizes":[50,50]}]})");
  run.write("config.resolved.yaml", "run:\n  name: <demo>\n");

  const std::string path = write_run_report(run.path());
  EXPECT_EQ(path, run.path() + "/report.html");
  const std::string html = testing::read_file(path);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_THAT(html, HasSubstr("2 steps; training loss 2.3 → 1.1"));
  EXPECT_THAT(html, HasSubstr("1 unreadable line(s) in metrics.jsonl were skipped"));
  EXPECT_THAT(html, HasSubstr("cat predicted as dog: 2"));
  EXPECT_THAT(html, HasSubstr("Peak memory: 1 MiB resident"));
  EXPECT_THAT(html, HasSubstr("tv of labels = 0.4"));  // the drift marker on the reservoir chart
  EXPECT_THAT(html, HasSubstr("name: &lt;demo&gt;"));
  EXPECT_THAT(html, HasSubstr("Scored: the best evaluated weights, from step 1; early stopping ended the run at step 2 "
                              "(validation.loss best 2.2 at step 1)."));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://www.w3.org/1999")));
  EXPECT_EQ(count(html, "<svg "), 7);  // loss, lr, throughput, eval loss, eval accuracy, confusion, reservoirs
}

TEST(RunReport, AStoppedRunWithoutEvaluationStillGetsAReport) {
  testing::TempDir run;
  run.write("metrics.jsonl", "{\"kind\":\"train\",\"step\":1,\"loss\":2.3,\"lr\":0.001,\"samples_per_second\":9}\n");
  run.write("config.resolved.yaml", "run:\n  name: stopped\n");
  const std::string html = testing::read_file(write_run_report(run.path()));
  EXPECT_THAT(html, HasSubstr("No eval.json: the run stopped before its final evaluation."));
  EXPECT_THAT(html, HasSubstr("No reservoirs.json"));
  EXPECT_EQ(count(html, "<svg "), 3);  // loss, learning rate, throughput
  EXPECT_EQ(testing::user_error([&] { write_run_report(run.path() + "/missing"); }),
            run.path() + "/missing: no such run directory");
}

TEST(RunReport, AFolderThatIsNotARunIsRefusedAndLeftAlone) {
  testing::TempDir folder;
  folder.write("notes.txt", "mine\n");
  EXPECT_THAT(testing::user_error([&] { write_run_report(folder.path()); }),
              HasSubstr(": not a Stratum run directory (no config.resolved.yaml)"));
  EXPECT_FALSE(std::filesystem::exists(folder.path() + "/report.html"));
}

}  // namespace
}  // namespace stratum::report
