#include "engine/cli/args.h"

#include <cerrno>
#include <cstdlib>
#include <limits>

#include "core/error.h"
#include "core/text.h"

namespace stratum::cli {

ArgParser::ArgParser(std::string command, std::string usage, std::string summary)
    : command_(std::move(command)), usage_(std::move(usage)), summary_(std::move(summary)) {}

void ArgParser::option(const std::string& name, const std::string& value_name, const std::string& help,
                       std::string* out, bool required) {
  Spec s;
  s.name = name;
  s.value_name = value_name;
  s.help = help;
  s.single = out;
  s.required = required;
  specs_.push_back(s);
}

void ArgParser::repeated(const std::string& name, const std::string& value_name, const std::string& help,
                         std::vector<std::string>* out) {
  Spec s;
  s.name = name;
  s.value_name = value_name;
  s.help = help + " (repeatable)";
  s.many = out;
  specs_.push_back(s);
}

void ArgParser::flag(const std::string& name, const std::string& help, bool* out) {
  Spec s;
  s.name = name;
  s.help = help;
  s.flag = out;
  specs_.push_back(s);
}

ArgParser::Spec* ArgParser::find(const std::string& name) {
  for (auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool ArgParser::parse(const std::vector<std::string>& args) {
  const std::string& command = command_;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") return false;
    if (positionals_ && (arg.empty() || arg[0] != '-')) {
      positionals_->push_back(arg);
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      throw UserError(command + ": unexpected argument \"" + printable(arg, 80) + "\" (see --help)");
    }
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    Spec* spec = find(name);
    if (!spec) {
      std::vector<std::string> names;
      for (const auto& s : specs_) names.push_back(s.name);
      const std::string guess = nearest(name, names);
      throw UserError(command + ": unknown option " + printable(name, 80) +
                      (guess.empty() ? "" : " (did you mean " + guess + "?)") + " (see --help)");
    }
    if (spec->flag) {
      if (eq != std::string::npos) throw UserError(command + ": " + name + " takes no value");
      *spec->flag = true;
      spec->seen = true;
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw UserError(command + ": " + name + " needs a value (" + name + " " + spec->value_name + ")");
    }
    if (spec->single) {
      if (spec->seen) throw UserError(command + ": " + name + " given twice");
      *spec->single = value;
    } else {
      spec->many->push_back(value);
    }
    spec->seen = true;
  }
  for (const auto& s : specs_) {
    if (s.required && !s.seen) {
      throw UserError(command + ": missing required option " + s.name + " " + s.value_name + " (see --help)");
    }
  }
  return true;
}

std::string ArgParser::help() const {
  std::string out = "usage: " + command_ + (usage_.empty() ? "" : " " + usage_) + "\n\n" + summary_ + "\n\noptions:\n";
  for (const auto& s : specs_) {
    std::string left = "  " + s.name + (s.value_name.empty() ? "" : " " + s.value_name);
    if (left.size() < 28) left.resize(28, ' ');
    out += left + " " + s.help + (s.required ? " (required)" : "") + "\n";
  }
  out += "  --help                     show this help\n";
  if (!epilog_.empty()) out += "\n" + epilog_;
  return out;
}

double parse_number_flag(const std::string& flag, const std::string& text, double lo, double hi) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= lo && v <= hi)) {
    throw UserError(flag + ": expected a number in [" + format_number(lo) + ", " + format_number(hi) + "], got \"" +
                    printable(text, 40) + "\"");
  }
  return v;
}

int64_t parse_count_flag(const std::string& flag, const std::string& text, int64_t lo, int64_t hi) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi) {
    const std::string range = hi == std::numeric_limits<int64_t>::max()
                                  ? ">= " + std::to_string(lo)
                                  : "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    throw UserError(flag + ": expected an integer " + range + ", got \"" + printable(text, 40) + "\"");
  }
  return v;
}

}  // namespace stratum::cli
