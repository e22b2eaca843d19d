// The `stratum` executable: registers the built-ins, dispatches to a subcommand, and is the
// one place (with the launcher) that turns errors into exit codes.

#include <c10/util/Exception.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "adapters/builtin_adapters.h"
#include "engine/cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/registry.h"
#include "core/text.h"
#include "core/thread_environment.h"
#include "core/version.h"
#include "data/builtin_sources.h"
#include "models/builtin_models.h"

namespace {

using stratum::cli::commands;

std::string usage() {
  std::string out = "usage: stratum <command> [options]   (stratum <command> --help for details)\n\ncommands:\n";
  for (const auto& c : commands()) {
    std::string name = c.name;
    name.resize(10, ' ');
    out += "  " + name + c.summary + "\n";
  }
  out += "\n  --version   print the version\n  --help      show this help\n";
  return out;
}

int run(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::vector<std::string> names;
    for (const auto& c : commands()) names.push_back(c.name);
    throw stratum::UserError("no command given (one of: " + stratum::join(names, ", ") + "); see stratum --help");
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(usage().c_str(), stdout);
    return stratum::kExitOk;
  }
  if (args[0] == "--version") {
    std::printf("stratum %s\n", stratum::stratum_version());
    return stratum::kExitOk;
  }
  stratum::Registry registry;
  stratum::data::register_builtin_sources(registry.data_sources);
  stratum::models::register_builtin_models(registry.models);
  stratum::adapters::register_builtin_adapters(registry.transforms);
  return stratum::cli::find_command(args[0]).run({args.begin() + 1, args.end()}, registry);
}

// One line, whatever the message holds (a path with a newline, a name with terminal escapes).
void print_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", stratum::printable(message, 4000).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  stratum::settle_thread_environment(argv);
  int code = stratum::kExitInternal;
  try {
    code = run(argc, argv);
  } catch (const stratum::UserError& e) {
    stratum::log::end_status();
    print_error(e.what());
    code = stratum::kExitUsage;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the user gave that the system refuses (too long, a symlink loop, no permission).
    stratum::log::end_status();
    const std::string path = e.path1().empty() ? "" : e.path1().string() + ": ";
    print_error(path + e.code().message());
    code = stratum::kExitUsage;
  } catch (const c10::Error& e) {
    stratum::log::end_status();
    print_error(std::string("internal (LibTorch): ") + stratum::first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    stratum::log::end_status();
    print_error(std::string("internal: ") + e.what());
  }
  stratum::log::flush();
  return code;
}
