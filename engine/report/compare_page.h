#pragma once
// compare.html: several runs side by side in one self-contained page (inline SVG and CSS, no
// scripts, no network): overlaid curves, final metrics with differences against the first run
// and bootstrap intervals, the config keys that differ, data differences, throughput and memory.

#include <string>
#include <vector>

namespace stratum::report {

/// One run to compare: its directory and the name the page gives it.
struct ComparedRun {
  std::string dir;
  std::string label;
  std::string setting;  ///< a sweep's setting (runs that differ by seed share it); "" outside sweeps
  /// Earlier attempts of a resumed run, oldest first: their curves up to where `dir` took over
  /// are drawn as part of it.
  std::vector<std::string> earlier_dirs;
};

/// The page's HTML. Runs with settings get a table of each setting's mean and 95% interval over
/// its seeds first. The first run is the reference the others are measured against. A
/// UserError when fewer than two runs are given, one is not a run directory, or the runs have
/// nothing in common to compare (a language model against a classifier, no shared metric).
std::string render_compare_page(const std::vector<ComparedRun>& runs, int64_t bootstrap_resamples = 1000);

}  // namespace stratum::report
