#include "dataplane/socket_address.h"

#include <arpa/inet.h>

namespace weir::dp {

std::optional<SocketAddress> SocketAddress::parse(std::string_view ip, uint16_t port) {
  std::string s(ip);
  SocketAddress a;
  if (inet_pton(AF_INET, s.c_str(), &a.u.v4.sin_addr) == 1) {
    a.u.v4.sin_family = AF_INET;
    a.u.v4.sin_port = htons(port);
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), &a.u.v6.sin6_addr) == 1) {
    a.u.v6.sin6_family = AF_INET6;
    a.u.v6.sin6_port = htons(port);
    return a;
  }
  return std::nullopt;
}

SocketAddress SocketAddress::from_sockaddr(const sockaddr* sa, socklen_t len) {
  SocketAddress a;
  if (sa == nullptr) return a;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&a.u.v4, sa, sizeof(sockaddr_in));
  } else if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(&a.u.v6, sa, sizeof(sockaddr_in6));
  }
  return a;
}

uint16_t SocketAddress::port() const {
  if (u.sa.sa_family == AF_INET) return ntohs(u.v4.sin_port);
  if (u.sa.sa_family == AF_INET6) return ntohs(u.v6.sin6_port);
  return 0;
}

std::string SocketAddress::ip() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (u.sa.sa_family == AF_INET) inet_ntop(AF_INET, &u.v4.sin_addr, buf, sizeof buf);
  else if (u.sa.sa_family == AF_INET6) inet_ntop(AF_INET6, &u.v6.sin6_addr, buf, sizeof buf);
  return buf;
}

std::string SocketAddress::to_string() const {
  if (!valid()) return "(none)";
  if (is_v6()) return "[" + ip() + "]:" + std::to_string(port());
  return ip() + ":" + std::to_string(port());
}

bool SocketAddress::operator==(const SocketAddress& o) const {
  if (u.sa.sa_family != o.u.sa.sa_family) return false;
  if (u.sa.sa_family == AF_INET)
    return u.v4.sin_port == o.u.v4.sin_port && u.v4.sin_addr.s_addr == o.u.v4.sin_addr.s_addr;
  if (u.sa.sa_family == AF_INET6)
    return u.v6.sin6_port == o.u.v6.sin6_port &&
           std::memcmp(&u.v6.sin6_addr, &o.u.v6.sin6_addr, sizeof(in6_addr)) == 0;
  return true;
}

size_t SocketAddressHash::operator()(const SocketAddress& a) const {
  // FNV-1a over the bytes operator== looks at: cheap, and good enough for a table whose
  // keys an attacker can only add by passing an ICE check.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  const sa_family_t family = a.u.sa.sa_family;
  mix(&family, sizeof family);
  if (family == AF_INET) {
    mix(&a.u.v4.sin_port, sizeof a.u.v4.sin_port);
    mix(&a.u.v4.sin_addr, sizeof a.u.v4.sin_addr);
  } else if (family == AF_INET6) {
    mix(&a.u.v6.sin6_port, sizeof a.u.v6.sin6_port);
    mix(&a.u.v6.sin6_addr, sizeof a.u.v6.sin6_addr);
  }
  return static_cast<size_t>(h);
}

}  // namespace weir::dp
