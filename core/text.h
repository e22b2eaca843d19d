#pragma once
// Small string helpers shared by config parsing, the CLI and reports.

#include <string>
#include <vector>

namespace stratum {

std::string join(const std::vector<std::string>& parts, const std::string& separator);
std::vector<std::string> split(const std::string& text, char separator);

/// Edit (Levenshtein) distance between two words.
size_t edit_distance(const std::string& a, const std::string& b);

/// The option closest to `word` when it is close enough to be a likely typo, else "".
std::string nearest(const std::string& word, const std::vector<std::string>& options);

/// "unknown <kind> "x" (did you mean y?); registered: a, b": what a registry says of a name it lacks.
std::string unknown_name_message(const std::string& kind, const std::string& name, const std::vector<std::string>& known);

/// A number as short text: 0.001 -> "0.001", 25 -> "25".
std::string format_number(double value);

/// A byte count in binary units: 512 -> "512 B", 3.5 * 2^20 -> "3.5 MiB".
std::string format_bytes(double bytes);

/// The text before the first newline (library messages often carry a backtrace after it).
std::string first_line(const std::string& text);

/// Byte index of the first byte that is not part of well-formed UTF-8 (overlong forms,
/// surrogates and code points above U+10FFFF included), or std::string::npos when all is.
size_t invalid_utf8_at(const std::string& text);

/// `text` made safe for a one-line message: control bytes (terminal escapes, newlines) and
/// bytes that are not UTF-8 become \xNN, and anything past `max_bytes` becomes
/// "...(N bytes)".
std::string printable(const std::string& text, size_t max_bytes = 120);

/// `words` as one POSIX shell command line: each word single-quoted unless it needs no quoting.
std::string shell_quote(const std::vector<std::string>& words);

/// A duration in seconds as "1h02m", "3m05s" or "12.3s".
std::string format_duration(double seconds);

}  // namespace stratum
