#pragma once
// The run's visual report: one self-contained report.html (inline SVG and CSS, no scripts,
// no network) built from the files a run leaves behind, so it can be regenerated later.

#include <string>

namespace stratum::report {

/// Reads `run_dir`'s metrics.jsonl, eval.json, reservoirs.json and config.resolved.yaml
/// (any of them may be missing: a stopped run has no eval.json) and writes
/// `run_dir/report.html`: loss, learning-rate and throughput curves, evaluation curves,
/// per-split metrics, confusion matrices, per-label reservoir sizes along the stream and
/// drift events. Returns the report's path. A missing run directory is a UserError.
std::string write_run_report(const std::string& run_dir);

}  // namespace stratum::report
