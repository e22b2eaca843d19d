// A line-delimited TCP listener (live_input.h). Lines of several clients interleave whole;
// a client is only read while the run takes lines, so a full queue pushes back on the senders
// through TCP flow control.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "data/continuous/line_splitter.h"
#include "data/continuous/live_input.h"

namespace stratum::data {
namespace {

struct Endpoint {
  in_addr host{};
  uint16_t port = 0;
};

Endpoint parse_listen(const std::string& listen) {
  const std::string key = "data.continuous.listen";
  const size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? "127.0.0.1" : listen.substr(0, colon);
  const std::string port = colon == std::string::npos ? listen : listen.substr(colon + 1);
  if (host == "localhost") host = "127.0.0.1";
  Endpoint e;
  if (::inet_pton(AF_INET, host.c_str(), &e.host) != 1) {
    throw UserError(key + ": \"" + listen + "\": the host must be an IPv4 address (127.0.0.1 by default)");
  }
  char* end = nullptr;
  const long number = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || number < 1 || number > 65535) {
    throw UserError(key + ": \"" + listen + "\": the port must be a number from 1 to 65535");
  }
  e.port = static_cast<uint16_t>(number);
  return e;
}

class TcpInput final : public LiveInput {
 public:
  TcpInput(const std::string& listen, size_t max_line_bytes, const StreamPosition* resume)
      : listen_(listen), max_(max_line_bytes) {
    const Endpoint e = parse_listen(listen);
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener_ < 0) throw UserError("data.continuous.listen: cannot create a socket: " + std::string(std::strerror(errno)));
    const int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr = e.host;
    address.sin_port = htons(e.port);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 16) != 0) {
      const int error = errno;
      ::close(listener_);
      throw UserError("data.continuous.listen: cannot listen on " + listen + ": " +
                      (error == EADDRINUSE ? std::string("the port is already in use") : std::strerror(error)));
    }
    if (resume) {
      sequence_ = resume->sequence;
      log::warn("tcp:" + listen_ + " cannot be read again: lines the previous run received after its last checkpoint "
                                   "are lost; senders should resend from there");
    }
  }
  ~TcpInput() override {
    for (const Client& c : clients_) ::close(c.fd);
    ::close(listener_);
  }

  InputStatus next(InputLine& line, double timeout_seconds) override {
    if (ready_.empty()) receive(timeout_seconds);
    if (ready_.empty()) return InputStatus::idle;
    line = std::move(ready_.front());
    ready_.pop_front();
    line.after.sequence = ++sequence_;
    return InputStatus::line;
  }

  bool replayable() const override { return false; }
  std::string describe() const override { return "listening on " + listen_; }

 private:
  struct Client {
    int fd;
    std::string name;
    LineSplitter splitter;
    uint64_t lines = 0;
  };

  // One poll: new connections, and at most one read per client (the lines it completes wait in ready_).
  void receive(double timeout_seconds) {
    std::vector<pollfd> fds{{listener_, POLLIN, 0}};
    for (const Client& c : clients_) fds.push_back({c.fd, POLLIN, 0});
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(timeout_seconds * 1000));
    if (ready <= 0) return;
    for (size_t i = fds.size(); i-- > 1;) {
      if (fds[i].revents != 0) read_client(i - 1);
    }
    if (fds[0].revents & POLLIN) accept_clients();
  }

  void accept_clients() {
    for (;;) {
      sockaddr_in peer{};
      socklen_t size = sizeof peer;
      const int fd = ::accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
      const std::string name = "tcp:" + std::string(text) + ":" + std::to_string(ntohs(peer.sin_port));
      if (static_cast<int>(clients_.size()) >= kMaxTcpClients) {
        log::warn(name + " refused: " + std::to_string(kMaxTcpClients) + " clients are connected already");
        ::close(fd);
        continue;
      }
      clients_.push_back(Client{fd, name, LineSplitter(max_), 0});
    }
  }

  void read_client(size_t index) {
    Client& c = clients_[index];
    char buffer[1 << 16];
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n > 0) {
      c.splitter.feed(buffer, static_cast<size_t>(n));
      SplitLine piece;
      while (c.splitter.pop(piece)) queue(c, piece, "");
      return;
    }
    // Closed (or reset): a line without its newline was cut off.
    SplitLine piece;
    if (c.splitter.pop_rest(piece)) {
      queue(c, piece, "connection closed mid-line");
    }
    ::close(c.fd);
    clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(index));
  }

  void queue(Client& c, const SplitLine& piece, const std::string& problem) {
    InputLine line;
    line.text = piece.text;
    line.problem = problem.empty() ? piece.problem : problem;
    line.source = c.name;
    line.line = ++c.lines;
    ready_.push_back(std::move(line));
  }

  std::string listen_;
  size_t max_;
  int listener_ = -1;
  std::vector<Client> clients_;
  std::deque<InputLine> ready_;
  uint64_t sequence_ = 0;
};

}  // namespace

std::unique_ptr<LiveInput> open_tcp_input(const std::string& listen, size_t max_line_bytes, const StreamPosition* resume) {
  return std::make_unique<TcpInput>(listen, max_line_bytes, resume);
}

}  // namespace stratum::data
