// `stratum report --run DIR`: (re)writes the run's self-contained report.html from the files the
// run left behind (training writes it at the end of every run; this redraws it later, e.g.
// for a run that was killed).

#include <cstdio>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "core/error.h"
#include "engine/report/run_report.h"

namespace stratum::cli {

int report_command(const Args& args, Registry&) {
  std::string run;
  ArgParser parser("stratum report", "--run DIR", "Write DIR/report.html: curves, per-split metrics, confusion "
                                                  "matrices, reservoir sizes and drift events (no network needed).");
  parser.option("--run", "DIR", "a run directory (runs/NAME-TIMESTAMP)", &run, /*required=*/true);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  std::printf("%s\n", report::write_run_report(run).c_str());
  return kExitOk;
}

}  // namespace stratum::cli
