#include "data/continuous/live_input.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace stratum::data {

std::unique_ptr<LiveInput> open_live_input(const DataOptions& options, const StreamPosition* resume) {
  const ContinuousOptions& c = options.continuous;
  const auto max_line = static_cast<size_t>(c.max_line_bytes);
  if (!c.listen.empty()) {
    if (!options.path.empty()) {
      throw UserError("data.continuous.listen: data.path (" + options.path + ") names an input too; give one of them");
    }
    return open_tcp_input(c.listen, max_line, resume);
  }
  if (options.path.empty()) throw UserError("data.path: a continuous run needs an input: a file, a folder, - (standard input) or data.continuous.listen");
  if (options.path == "-") return open_pipe_input("-", max_line, resume);
  struct stat st {};
  if (::stat(options.path.c_str(), &st) != 0) {
    throw UserError("data.path: " + options.path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return open_watched_folder(options.path, max_line, c.poll_seconds, resume);
  if (S_ISFIFO(st.st_mode)) return open_pipe_input(options.path, max_line, resume);
  return open_file_input(options.path, c.follow, max_line, c.poll_seconds, resume);
}

}  // namespace stratum::data
