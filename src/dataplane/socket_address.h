// An IPv4 or IPv6 UDP endpoint, stored as the sockaddr the kernel reads and writes.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace weir::dp {

struct SocketAddress {
  union {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } u{};

  SocketAddress() { u.sa.sa_family = AF_UNSPEC; }
  static std::optional<SocketAddress> parse(std::string_view ip, uint16_t port);
  static SocketAddress from_sockaddr(const sockaddr* sa, socklen_t len);

  bool valid() const { return u.sa.sa_family == AF_INET || u.sa.sa_family == AF_INET6; }
  bool is_v6() const { return u.sa.sa_family == AF_INET6; }
  socklen_t length() const {
    return is_v6() ? sizeof(sockaddr_in6) : static_cast<socklen_t>(sizeof(sockaddr_in));
  }
  const sockaddr* sockaddr_ptr() const { return &u.sa; }
  uint16_t port() const;
  std::string ip() const;
  std::string to_string() const;  // "1.2.3.4:5" or "[::1]:5"

  bool operator==(const SocketAddress& o) const;
  bool operator!=(const SocketAddress& o) const { return !(*this == o); }
};

// For hash tables keyed by a remote endpoint (the shared port's 5-tuple demultiplexer):
// family, port and address bytes, as operator== compares them.
struct SocketAddressHash {
  size_t operator()(const SocketAddress& a) const;
};

}  // namespace weir::dp
