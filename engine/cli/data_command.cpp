// `stratum data inspect|manifest|tokenizer|prepare|preview --config F.yaml`: read the configured
// data exactly as training would, without training; turn a text source into token shards; or
// draw image examples as training and evaluation see them.

#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/cli/data_preview.h"
#include "engine/config.h"
#include "core/error.h"
#include "engine/metrics_writer.h"
#include "engine/preflight.h"
#include "engine/registry.h"
#include "engine/run_dir.h"
#include "core/text.h"
#include "data/token_shards/prepare_shards.h"
#include "data/tokenizer/byte_bpe.h"
#include "data/mixing/read_sources.h"

namespace stratum::cli {
namespace {

// Reads the configured data as training would; with `seen_text`, the tokenizer is the
// configured one being trained, so records are read as bytes and their text collected.
data::SplitData read_data(const std::string& config_path, const std::vector<std::string>& overrides,
                          const Registry& registry, std::vector<std::string>* seen_text = nullptr,
                          RunConfig* used = nullptr) {
  RunConfig config = load_config(config_path, overrides);
  if (seen_text) config.data.tokenizer.path.clear();
  preflight(config, registry);
  data::DataContext context;
  context.seed = static_cast<uint64_t>(config.run.seed);
  context.seen_text = seen_text;
  if (used) *used = config;
  return data::read_sources(registry.data_sources, config.data, context);
}

// Trains the tokenizer on the seen split's text and checks it on that text before writing.
void train_tokenizer(const std::string& config_path, const std::vector<std::string>& overrides,
                     const Registry& registry, std::string out) {
  std::vector<std::string> texts;
  RunConfig config;
  read_data(config_path, overrides, registry, &texts, &config);
  if (texts.empty()) {
    throw UserError("data.source: " + config.data.source + " gave no text to learn from (the tokenizer needs a text source)");
  }
  const data::TokenizerOptions& options = config.data.tokenizer;
  if (out.empty()) out = options.path.empty() ? "tokenizer.json" : options.path;
  const double start = monotonic_seconds();
  const data::BytePairTokenizer tokenizer =
      data::BytePairTokenizer::train(texts, options.vocab_size, options.min_frequency);
  int64_t bytes = 0, tokens = 0;
  for (const std::string& text : texts) {
    const std::vector<int32_t> ids = tokenizer.encode(text);
    STRATUM_CHECK(tokenizer.decode(ids) == text, "tokenizer round trip failed");
    bytes += static_cast<int64_t>(text.size());
    tokens += static_cast<int64_t>(ids.size());
  }
  write_file_atomically(out, tokenizer.to_json());
  std::printf("tokenizer: %lld ids (%zu merges) from %zu seen records, %lld bytes, in %s\n",
              static_cast<long long>(tokenizer.vocab_size()), tokenizer.merges().size(), texts.size(),
              static_cast<long long>(bytes), format_duration(monotonic_seconds() - start).c_str());
  std::printf("compression: %.2f bytes per token on the training text (byte-level: 1.00)\n",
              tokens ? static_cast<double>(bytes) / static_cast<double>(tokens) : 0.0);
  std::printf("tokenizer: %s (use it with data.tokenizer.path: %s)\n", out.c_str(), out.c_str());
}

// Tokenizes the configured text source into token shards.
void prepare_shards(const std::string& config_path, const std::vector<std::string>& overrides, const Registry& registry,
                    const std::string& out, const std::string& workers, const std::string& shard_tokens,
                    const std::string& per_label) {
  const RunConfig config = load_config(config_path, overrides);
  preflight(config, registry);
  data::PrepareOptions prepare;
  prepare.out_dir = out;
  prepare.seed = static_cast<uint64_t>(config.run.seed);
  if (!workers.empty()) prepare.workers = static_cast<int>(parse_count_flag("--workers", workers, 1, 256));
  if (!per_label.empty()) prepare.per_label = parse_count_flag("--per-label", per_label, 1);
  if (!shard_tokens.empty()) prepare.shard_tokens = static_cast<uint64_t>(parse_count_flag("--shard-tokens", shard_tokens, 1));
  const double start = monotonic_seconds();
  const data::ShardManifest m = data::prepare_token_shards(config.data, prepare);
  const double seconds = monotonic_seconds() - start;
  std::printf("%-11s %10s %14s %7s\n", "split", "documents", "tokens", "shards");
  uint64_t tokens = 0;
  for (size_t s = 0; s < m.splits.size(); ++s) {
    std::printf("%-11s %10llu %14llu %7zu\n", data::ShardManifest::kSplitNames[s],
                static_cast<unsigned long long>(m.splits[s].documents), static_cast<unsigned long long>(m.splits[s].tokens),
                m.splits[s].shards.size());
    tokens += m.splits[s].tokens;
  }
  std::printf("records read %lld = accepted %lld + rejected %lld (see %s/rejects.jsonl)\n",
              static_cast<long long>(m.records_read), static_cast<long long>(m.records_accepted),
              static_cast<long long>(m.records_rejected), out.c_str());
  std::printf("tokenizer: %s, %llu ids, end-of-text %lld; %llu tokens in %s (%.0f tokens/s, %d workers)\n",
              m.tokenizer.c_str(), static_cast<unsigned long long>(m.vocab_size), static_cast<long long>(m.end_of_text),
              static_cast<unsigned long long>(tokens), format_duration(seconds).c_str(),
              static_cast<double>(tokens) / std::max(1e-9, seconds), prepare.workers);
  std::printf("shards: %s/shards.json (train with data.source: token_shards, data.path: %s)\n", out.c_str(), out.c_str());
}

int64_t at(const std::vector<int64_t>& counts, size_t i) { return i < counts.size() ? counts[i] : 0; }

// Token shards have windows, not labeled records: what each split holds of the token stream.
void print_token_windows(const data::SplitData& data) {
  const nlohmann::json shards = nlohmann::json::parse(data.manifest).at("token_shards");
  std::printf("%-11s %10s %14s %10s %12s\n", "split", "documents", "tokens", "windows", "unused tail");
  for (const char* split : {"seen", "validation", "unseen"}) {
    const nlohmann::json& s = shards["splits"][split];
    std::printf("%-11s %10lld %14lld %10lld %12lld\n", split, s["documents"].get<long long>(), s["tokens"].get<long long>(),
                s["windows"].get<long long>(), s["unused_tail_tokens"].get<long long>());
  }
  std::printf("windows of %lld tokens (+1 target), packing %s, tokenizer %s (%lld ids); padding share 0\n",
              shards["window_tokens"].get<long long>(), shards["pack"].get<std::string>().c_str(),
              shards["tokenizer"].get<std::string>().c_str(), shards["vocab_size"].get<long long>());
  std::printf("unseen: %s\n", data.unseen_description.c_str());
}

// A mix: one row per source, the share it is meant to get and the one its first epoch gets.
void print_sources(const data::SplitData& data) {
  const auto manifest = nlohmann::json::parse(data.manifest);
  std::printf("%-16s %7s %7s %11s %9s %11s %9s %9s %9s\n", "source", "weight", "share", "first epoch", "seen",
              "validation", "unseen", "read", "rejected");
  for (const auto& s : manifest["sources"]) {
    std::printf("%-16s %7s %6.1f%% %10.1f%% %9lld %11lld %9lld %9lld %9lld\n", s["name"].get<std::string>().c_str(),
                format_number(s["weight"].get<double>()).c_str(), 100 * s["target_share"].get<double>(),
                100 * s["first_epoch_share"].get<double>(), s["examples"]["seen"].get<long long>(),
                s["examples"]["validation"].get<long long>(), s["examples"]["unseen"].get<long long>(),
                s["records_read"].get<long long>(), s["records_rejected"].get<long long>());
  }
  std::printf("\n");
}

void print_inspection(const data::SplitData& data) {
  if (data.seen.store && data.spec.kind == data::InputKind::tokens) {
    print_token_windows(data);
    return;
  }
  if (!data.mix.empty()) print_sources(data);
  const auto& seen = data.label_counts.at("seen");
  const auto& validation = data.label_counts.at("validation");
  const auto& unseen = data.label_counts.at("unseen");
  int64_t seen_total = 0;
  for (int64_t c : seen) seen_total += c;
  std::printf("%-4s %-16s %9s %7s %11s %9s\n", "id", "label", "seen", "share", "validation", "unseen");
  int64_t largest = 0, smallest = std::numeric_limits<int64_t>::max();
  for (size_t c = 0; c < data.spec.class_names.size(); ++c) {
    const int64_t s = at(seen, c);
    if (s > 0) {
      largest = std::max(largest, s);
      smallest = std::min(smallest, s);
    }
    std::printf("%-4zu %-16s %9lld %6.1f%% %11lld %9lld\n", c, data.spec.class_names[c].c_str(),
                static_cast<long long>(s), seen_total ? 100.0 * static_cast<double>(s) / seen_total : 0.0,
                static_cast<long long>(at(validation, c)), static_cast<long long>(at(unseen, c)));
  }
  std::printf("\nbalance ratio (largest / smallest label in the seen sample): %s\n",
              largest > 0 ? format_number(static_cast<double>(largest) / static_cast<double>(smallest)).c_str() : "n/a");
  std::printf("records read %lld = accepted %lld + rejected %lld%s; reservoirs: offered %lld, entered %lld, "
              "evicted %lld, duplicates %lld, rebalances %lld\n",
              static_cast<long long>(data.records_read), static_cast<long long>(data.records_accepted),
              static_cast<long long>(data.records_rejected),
              data.blank_lines > 0 ? ("; " + std::to_string(data.blank_lines) + " blank lines skipped").c_str() : "",
              static_cast<long long>(data.sampler.offered), static_cast<long long>(data.sampler.entered),
              static_cast<long long>(data.sampler.evicted), static_cast<long long>(data.sampler.duplicates),
              static_cast<long long>(data.sampler.rebalances));
  std::printf("unseen: %s\n", data.unseen_description.c_str());
  if (data.drift_windows.empty()) {
    std::printf("\ndrift: no windows compared (data.drift.window is 0 or the stream is shorter than two windows)\n");
    return;
  }
  std::printf("\n%12s %8s %8s %8s %12s   (each window against the first)\n", "window end", "TV", "PSI", "max KS",
              "max W1");
  for (const auto& w : data.drift_windows) {
    std::printf("%12lld %8.4f %8.4f %8.4f %12.4f\n", static_cast<long long>(w.end_record), w.tv, w.psi, w.max_ks,
                w.max_wasserstein);
  }
  std::printf("drift alerts: %zu\n", data.drift_events.size());
  const auto manifest = nlohmann::json::parse(data.manifest, nullptr, false);
  if (manifest.is_object() && manifest.contains("dataset_version")) {
    std::printf("dataset version: %s\n", manifest["dataset_version"].get<std::string>().c_str());
  }
  if (!data.redaction.findings.empty() || data.redaction.records_changed > 0) {
    std::string found;
    for (const auto& [kind, n] : data.redaction.findings) found += (found.empty() ? "" : ", ") + kind + " " + std::to_string(n);
    std::printf("redacted: %lld records changed, %lld dropped (%s)\n", static_cast<long long>(data.redaction.records_changed),
                static_cast<long long>(data.redaction.records_dropped), found.c_str());
  }
}

}  // namespace

int data_command(const Args& args, Registry& registry) {
  const std::string usage =
      "inspect|manifest|tokenizer|prepare|preview --config FILE [--set KEY=VALUE]... [--out FILE|DIR] | diff RUN_A RUN_B";
  if (args.empty()) {
    throw UserError(
        "stratum data: no action given (inspect, manifest, tokenizer, prepare, preview or diff); see stratum data --help");
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::printf("usage: stratum data %s\n\n"
                "  inspect    per-label counts per split, balance ratio, sampler figures and drift statistics\n"
                "  manifest   write manifest.json (files with sha256, counts, reservoir parameters) without training\n"
                "  tokenizer  learn a byte-level BPE vocabulary from the seen split's text; write it as JSON\n"
                "  prepare    tokenize a text or fortunes source into token shards (data.source: token_shards)\n"
                "  preview    image examples as training (augmented, mixed) and evaluation see them, as PNG grids\n"
                "  diff       stratum data diff RUN_A RUN_B: dataset versions, files, labels and counts that differ\n",
                usage.c_str());
    return kExitOk;
  }
  const std::string action = args[0];
  if (action == "diff") return data_diff_command(Args(args.begin() + 1, args.end()));
  if (action != "inspect" && action != "manifest" && action != "tokenizer" && action != "prepare" && action != "preview") {
    throw UserError("stratum data: unknown action \"" + action +
                    "\" (expected inspect, manifest, tokenizer, prepare, preview or diff)");
  }
  std::string config_path, out = action == "manifest" ? "manifest.json" : "", workers, shard_tokens, per_label;
  std::string count = "32", epoch = "0";
  std::vector<std::string> overrides;
  const char* summary = action == "inspect"    ? "Read the configured data as training would and print what it holds."
                        : action == "manifest" ? "Write the data manifest without training."
                        : action == "prepare"  ? "Tokenize the configured text or fortunes source into token shards "
                                                 "(seen / validation / unseen) and shards.json."
                        : action == "preview"  ? "Write PNG grids of seen image examples as training (augmented, and "
                                                 "mixed with trainer.mixup) and evaluation see them."
                                               : "Learn a byte-level BPE vocabulary (data.tokenizer.vocab_size ids) "
                                                 "from the seen split's text.";
  ArgParser parser("stratum data " + action, "--config FILE [--set KEY=VALUE]...", summary);
  parser.option("--config", "FILE", "run configuration (YAML)", &config_path, /*required=*/true);
  parser.repeated("--set", "KEY=VALUE", "override one config key", &overrides);
  if (action == "manifest") parser.option("--out", "FILE", "where to write the manifest (default manifest.json)", &out);
  if (action == "tokenizer") {
    parser.option("--out", "FILE", "where to write the tokenizer (default data.tokenizer.path, else tokenizer.json)", &out);
  }
  if (action == "prepare") {
    parser.option("--out", "DIR", "the shard folder to write (new, empty, or a previous prepare's)", &out, /*required=*/true);
    parser.option("--workers", "N", "tokenizing threads (default 1; the shards' bytes do not depend on it)", &workers);
    parser.option("--shard-tokens", "N", "tokens per shard before the next one starts (default 100000000)",
                  &shard_tokens);
    parser.option("--per-label", "N", "seen split: a uniform sample of at most N documents per label (default: all)",
                  &per_label);
  }
  if (action == "preview") {
    parser.option("--out", "DIR", "where to write training.png, evaluation.png and preview.json", &out, /*required=*/true);
    parser.option("--count", "N", "examples to draw, evenly spaced over the seen split (default 32)", &count);
    parser.option("--epoch", "E", "the epoch whose augmentations to draw (default 0)", &epoch);
  }
  if (!parser.parse({args.begin() + 1, args.end()})) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  if (action == "prepare") {
    prepare_shards(config_path, overrides, registry, out, workers, shard_tokens, per_label);
    return kExitOk;
  }
  if (action == "tokenizer") {
    train_tokenizer(config_path, overrides, registry, out);
    return kExitOk;
  }
  if (action == "preview") {
    const int64_t examples = parse_count_flag("--count", count, 1, 1024);
    const int64_t which = parse_count_flag("--epoch", epoch, 0, int64_t{1} << 40);
    RunConfig config;
    const data::SplitData data = read_data(config_path, overrides, registry, nullptr, &config);
    std::printf("preview: %s\n", write_preview(config, data, out, examples, which).c_str());
    return kExitOk;
  }
  const data::SplitData data = read_data(config_path, overrides, registry);
  if (action == "inspect") {
    print_inspection(data);
  } else {
    write_file_atomically(out, data.manifest);
    std::printf("manifest: %s\n", out.c_str());
  }
  return kExitOk;
}

}  // namespace stratum::cli
