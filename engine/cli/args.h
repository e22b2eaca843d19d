#pragma once
// A small command-line parser: each option is declared once (name, value name, help), and
// parsing, errors and `--help` text all come from that declaration.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace stratum::cli {

/// Options of one subcommand.
class ArgParser {
 public:
  /// `command` is how errors name it ("stratum train"); `usage` follows it in `--help`.
  ArgParser(std::string command, std::string usage, std::string summary);

  /// `--name VALUE` (or `--name=VALUE`) stored in `*out`; `required` options must be given.
  void option(const std::string& name, const std::string& value_name, const std::string& help, std::string* out,
              bool required = false);

  /// `--name VALUE`, repeatable; every value is appended to `*out`.
  void repeated(const std::string& name, const std::string& value_name, const std::string& help,
                std::vector<std::string>* out);

  /// `--name` with no value.
  void flag(const std::string& name, const std::string& help, bool* out);

  /// Words that are not options (do not start with '-') go to `*out`, in order; without this
  /// they are an error.
  void positionals(std::vector<std::string>* out) { positionals_ = out; }

  /// Extra text printed after the options in `--help`.
  void epilog(std::string text) { epilog_ = std::move(text); }

  /// Parses `args` (without the program and subcommand names). Returns false when `--help`
  /// was asked for (the help text is then in `help()`); throws UserError on a bad flag,
  /// a missing value or a missing required option.
  bool parse(const std::vector<std::string>& args);

  std::string help() const;

 private:
  struct Spec {
    std::string name;
    std::string value_name;  // empty for flags
    std::string help;
    std::string* single = nullptr;
    std::vector<std::string>* many = nullptr;
    bool* flag = nullptr;
    bool required = false;
    bool seen = false;
  };
  Spec* find(const std::string& name);

  std::string command_;
  std::string usage_;
  std::string summary_;
  std::string epilog_;
  std::vector<Spec> specs_;
  std::vector<std::string>* positionals_ = nullptr;
};

/// `text`, the value of `flag`, as a number in [lo, hi]; otherwise a UserError naming the flag.
double parse_number_flag(const std::string& flag, const std::string& text, double lo, double hi);

/// `text`, the value of `flag`, as an integer in [lo, hi]; otherwise a UserError naming the flag.
int64_t parse_count_flag(const std::string& flag, const std::string& text, int64_t lo,
                         int64_t hi = std::numeric_limits<int64_t>::max());

}  // namespace stratum::cli
