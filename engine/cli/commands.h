#pragma once
// The `stratum` subcommands. Each takes its arguments (after the subcommand name) and the
// registry filled at start-up, and returns the process exit code; problems with the user's
// input are thrown as UserError and turned into exit code 2 by main.

#include <string>
#include <vector>

namespace stratum {
class Registry;
}

namespace stratum::cli {

using Args = std::vector<std::string>;

int train_command(const Args& args, Registry& registry);
int info_command(const Args& args, Registry& registry);
int data_command(const Args& args, Registry& registry);
int eval_command(const Args& args, Registry& registry);
int export_command(const Args& args, Registry& registry);
int generate_command(const Args& args, Registry& registry);
int report_command(const Args& args, Registry& registry);
int qa_command(const Args& args, Registry& registry);
int sweep_command(const Args& args, Registry& registry);
int compare_command(const Args& args, Registry& registry);
int lr_find_command(const Args& args, Registry& registry);
int audit_command(const Args& args, Registry& registry);
/// `stratum data diff RUN_A RUN_B` (dispatched by data_command).
int data_diff_command(const Args& args);

/// `stratum launch`: starts and supervises this node's workers (distributed/launcher.h).
int launch_command(const Args& args, Registry& registry);

/// One subcommand: its name, its line in `stratum --help`, and what runs it.
struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args&, Registry&);
};

/// Every subcommand, in `stratum --help` order.
const std::vector<Command>& commands();

/// The subcommand called `name`; a UserError naming the nearest one when there is none.
const Command& find_command(const std::string& name);

}  // namespace stratum::cli
