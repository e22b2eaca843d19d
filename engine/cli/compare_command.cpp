// `stratum compare RUN_DIR... [--out compare.html]` or `stratum compare SWEEP_DIR`: runs side by
// side in one self-contained HTML page.

#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/experiments/sweep_state.h"
#include "engine/report/compare_page.h"

namespace fs = std::filesystem;

namespace stratum::cli {
namespace {

// A run directory's name as a label, made unique among the labels so far.
std::string label_for(const std::string& dir, const std::vector<report::ComparedRun>& so_far) {
  std::string base = fs::path(dir).lexically_normal().filename().string();
  if (base.empty()) base = fs::path(dir).lexically_normal().parent_path().filename().string();
  std::string label = base;
  for (int n = 2;; ++n) {
    bool taken = false;
    for (const auto& r : so_far) taken = taken || r.label == label;
    if (!taken) return label;
    label = base + " (" + std::to_string(n) + ")";
  }
}

}  // namespace

int compare_command(const Args& args, Registry&) {
  std::vector<std::string> dirs;
  std::string out, resamples_text = "1000";
  ArgParser parser("stratum compare", "RUN_DIR RUN_DIR... [--out FILE] | SWEEP_DIR [--out FILE]",
                   "Compare runs side by side in one HTML page: curves, final metrics with bootstrap intervals, "
                   "config and data differences. The first run is the reference.");
  parser.repeated("--run", "DIR", "a run directory (the same as naming it without --run)", &dirs);
  parser.option("--out", "FILE", "the page to write (default: compare.html here, or SWEEP_DIR/compare.html)", &out);
  parser.option("--bootstrap", "N", "resamples for the confidence intervals", &resamples_text);
  parser.positionals(&dirs);  // bare words are run directories
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  const int64_t resamples = parse_count_flag("--bootstrap", resamples_text, 0, 100000);
  std::vector<report::ComparedRun> runs;
  if (dirs.size() == 1 && fs::is_regular_file(fs::path(dirs[0]) / "sweep.json")) {
    const experiments::SweepState sweep = experiments::read_sweep_state(dirs[0] + "/sweep.json");
    for (const experiments::SweepRun& r : sweep.runs) {
      if (r.state != experiments::RunState::finished || r.run_dir().empty()) continue;
      std::vector<std::string> earlier;
      for (size_t a = 0; a + 1 < r.attempts.size(); ++a) {
        if (!r.attempts[a].run_dir.empty() && r.attempts[a].run_dir != r.run_dir()) earlier.push_back(r.attempts[a].run_dir);
      }
      runs.push_back({r.run_dir(), r.plan.id, r.plan.setting, earlier});
    }
    if (out.empty()) out = dirs[0] + "/compare.html";
    if (runs.size() < 2) {
      throw UserError(dirs[0] + "/sweep.json: " + std::to_string(runs.size()) + " finished run(s); compare needs two");
    }
  } else {
    for (const std::string& d : dirs) {
      std::error_code ec;
      if (!fs::is_directory(d, ec)) throw UserError(d + ": no such run directory");
      runs.push_back({d, label_for(d, runs), "", {}});
    }
    if (out.empty()) out = "compare.html";
  }
  const std::string html = report::render_compare_page(runs, resamples);
  write_file_atomically(out, html);
  std::printf("compared %zu runs -> %s\n", runs.size(), out.c_str());
  return kExitOk;
}

}  // namespace stratum::cli
