#pragma once
// Errors and checks. Only `main` (and the launcher) catch these and turn them into exit codes:
// UserError -> 2 (the user's input is wrong), anything else -> 1 (Stratum is wrong).

#include <stdexcept>
#include <string>

namespace stratum {

/// The user's input (config, data, flags, files) is wrong; the message is one line naming
/// the file, key or line. Exit code 2.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A broken invariant inside Stratum itself. Exit code 1.
class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] void internal_check_failed(const char* file, int line, const char* condition,
                                        const std::string& message);
}  // namespace detail

/// Exit codes shared by every subcommand.
enum ExitCode : int { kExitOk = 0, kExitInternal = 1, kExitUsage = 2 };

}  // namespace stratum

/// Checks an internal invariant; on failure throws InternalError with file:line, the failed
/// condition and `message` (what was expected, what was found, and a hint where one helps).
#define STRATUM_CHECK(condition, message)                                                  \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      ::stratum::detail::internal_check_failed(__FILE__, __LINE__, #condition, (message)); \
    }                                                                                      \
  } while (false)

/// Checks the user's input; on failure throws UserError carrying `message` verbatim, which
/// must already name the file, key or line at fault.
#define STRATUM_USER_CHECK(condition, message)        \
  do {                                                \
    if (!(condition)) {                               \
      throw ::stratum::UserError(message);            \
    }                                                 \
  } while (false)
