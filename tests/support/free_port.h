#pragma once
// TCP ports for tests that start rendezvous stores, so that tests running side by side never
// share one.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace stratum::testing {

/// A TCP socket bound to 127.0.0.1 at a port the kernel chose, closed on destruction; it
/// listens when asked to. The port is taken while it lives.
class BoundPort {
 public:
  explicit BoundPort(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length);
    if (listening) ::listen(fd_, 4);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~BoundPort() { ::close(fd_); }
  BoundPort(const BoundPort&) = delete;
  BoundPort& operator=(const BoundPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

/// A socket listening on 127.0.0.1 at a port the kernel chose; the port is taken while it lives.
class PortListener : public BoundPort {
 public:
  PortListener() : BoundPort(/*listening=*/true) {}
};

/// A port nobody listens on right now.
inline int free_port() { return PortListener().port(); }

/// A port held bound but not listening while it lives: connecting to it is refused, and no
/// other process (another test's store or Gloo pair) can take it meanwhile and be connected
/// to by mistake.
class RefusingPort : public BoundPort {
 public:
  RefusingPort() : BoundPort(/*listening=*/false) {}
};

}  // namespace stratum::testing
