#pragma once
// TCP ports for tests that start rendezvous stores, so that tests running side by side never
// share one.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace stratum::testing {

/// A socket listening on 127.0.0.1 at a port the kernel chose; the port is taken while it lives.
class PortListener {
 public:
  PortListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length);
    ::listen(fd_, 4);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~PortListener() { ::close(fd_); }
  PortListener(const PortListener&) = delete;
  PortListener& operator=(const PortListener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

/// A port nobody listens on right now.
inline int free_port() { return PortListener().port(); }

/// A port held bound but not listening while it lives: connecting to it is refused, and no
/// other process (another test's store or Gloo pair) can take it meanwhile and be connected
/// to by mistake.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace stratum::testing
