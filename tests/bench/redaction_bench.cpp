// What data.redact costs, with Google Benchmark, on one core: the redactor alone on the records
// of tests/data/governance (support tickets, about half holding an e-mail address, phone number,
// IP address, IBAN or card number) as tab-separated lines and as JSONL with a customer object,
// and whole ingestion (read, redact, parse, reservoirs, splits) of configs/governance.yaml and
// of the fortunes corpus (clean text: the cost of looking) with the policy on and off.
// scripts/bench_redaction.sh runs it.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>

#include "core/log.h"
#include "data/builtin_sources.h"
#include "data/mixing/read_sources.h"
#include "data/redaction/redactor.h"
#include "engine/config.h"
#include "engine/registry.h"

namespace stratum {
namespace {

std::vector<std::string> lines_of(const std::string& name) {
  std::ifstream in(std::string(STRATUM_SOURCE_DIR) + "/tests/data/governance/" + name);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

data::RedactOptions every_detector() {
  data::RedactOptions o;
  o.email = o.phone = o.ipv4 = o.ipv6 = o.iban = o.card = data::RedactAction::mask;
  o.patterns = {{"ticket_id", "TCK-[0-9]{6}", data::RedactAction::mask}};
  return o;
}

// Every line of `file` through `redact` (a fresh copy each time), per iteration.
template <class Redact>
void redact_lines(benchmark::State& state, const std::string& file, Redact redact) {
  const std::vector<std::string> lines = lines_of(file);
  int64_t records = 0, bytes = 0;
  for (auto _ : state) {
    for (std::string line : lines) {
      redact(line);
      benchmark::DoNotOptimize(line);
      bytes += static_cast<int64_t>(line.size());
    }
    records += static_cast<int64_t>(lines.size());
  }
  state.counters["records_per_second"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(bytes);
}

void BM_RedactorTicketLines(benchmark::State& state) {
  data::Redactor redactor(every_detector());
  redact_lines(state, "tickets.tsv", [&](std::string& line) { redactor.redact_text(line); });
}

void BM_RedactorChatJson(benchmark::State& state) {
  data::RedactOptions options = every_detector();
  options.fields = {"customer.email", "customer.ip"};
  data::Redactor redactor(options);
  redact_lines(state, "chats.jsonl", [&](std::string& line) { redactor.redact_json(line); });
}

// Compiling a policy (every built-in detector, one pattern of your own, the RE2::Set): paid
// once per source read.
void BM_CompilePolicy(benchmark::State& state) {
  for (auto _ : state) {
    data::Redactor redactor(every_detector());
    benchmark::DoNotOptimize(redactor.active());
  }
}

// Whole ingestion of a config, redaction on (range 1) or off (range 0).
void ingest(benchmark::State& state, const std::string& config, std::vector<std::string> overrides) {
  const bool redact = state.range(0) != 0;
  ::setenv("STRATUM_REDACT_KEY", "benchmark-key-0123456789", 0);
  if (!redact) {
    for (const char* key : {"email", "phone", "ipv4", "ipv6", "iban", "card"}) overrides.push_back(std::string("data.redact.") + key + "=off");
    overrides.push_back("data.redact.patterns=[]");
    overrides.push_back("data.redact.fields=[]");
  }
  const RunConfig cfg = load_config(std::string(STRATUM_SOURCE_DIR) + "/configs/" + config, overrides);
  log::set_level(log::Level::warn);
  Registry registry;
  data::register_builtin_sources(registry.data_sources);
  int64_t records = 0;
  for (auto _ : state) {
    data::DataContext context;
    context.seed = 1;
    const data::SplitData data = data::read_sources(registry.data_sources, cfg.data, context);
    records += data.records_read;
  }
  state.counters["records_per_second"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.SetLabel(redact ? "redaction on" : "redaction off");
}

void BM_IngestGovernance(benchmark::State& state) { ingest(state, "governance.yaml", {}); }

void BM_IngestFortunes(benchmark::State& state) {
  ingest(state, "text-classifier-fortunes.yaml",
         {"data.redact.email=mask", "data.redact.phone=mask", "data.redact.ipv4=mask", "data.redact.ipv6=mask",
          "data.redact.iban=mask", "data.redact.card=mask"});
}

BENCHMARK(BM_RedactorTicketLines)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RedactorChatJson)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompilePolicy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IngestGovernance)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IngestFortunes)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stratum

BENCHMARK_MAIN();
