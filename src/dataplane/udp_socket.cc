// UDP sockets for the engines: bound, non-blocking, close-on-exec, with kernel buffers
// large enough to absorb a burst while the worker is busy forwarding the previous one.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "dataplane/udp_engine.h"

namespace weir::dp {
namespace {

constexpr int kSocketBufferBytes = 4 * 1024 * 1024;

std::string errno_text(const char* step, int err) {
  return std::string(step) + ": " + std::strerror(err);
}

// SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; without it the plain
// option is clamped by the kernel to the sysctl limit, which is the best we can get.
void set_buffer_size(int fd, int force_opt, int opt) {
  int bytes = kSocketBufferBytes;
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) == 0) return;
  bytes = kSocketBufferBytes;
  if (setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes) != 0)
    LOG_DEBUG("io", "setsockopt(%d) failed: %s", opt, std::strerror(errno));
}

// Rotates the first port tried so that consecutive transports do not all probe the same
// (probably taken) low end of the range.
std::atomic<uint32_t> g_next_port_offset{0};

}  // namespace

int open_udp_socket(const SocketAddress& local, std::string* error) {
  if (!local.valid()) {
    if (error) *error = "open_udp_socket: address is not IPv4 or IPv6";
    return -1;
  }
  const int family = local.is_v6() ? AF_INET6 : AF_INET;
  const int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error) *error = errno_text("socket", errno);
    return -1;
  }
  // Two transports must never share a port: a second bind on a used port has to fail.
  int off = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &off, sizeof off);
  if (family == AF_INET6) {
    // Dual-stack sockets would report v4 peers as v4-mapped v6 addresses; keep families apart.
    int on = 1;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) {
      if (error) *error = errno_text("setsockopt(IPV6_V6ONLY)", errno);
      close(fd);
      return -1;
    }
  }
  set_buffer_size(fd, SO_RCVBUFFORCE, SO_RCVBUF);
  set_buffer_size(fd, SO_SNDBUFFORCE, SO_SNDBUF);
  if (bind(fd, local.sockaddr_ptr(), local.length()) != 0) {
    const int err = errno;
    if (error) *error = errno_text(("bind " + local.to_string()).c_str(), err);
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

int open_udp_socket_in_range(const std::string& ip, uint16_t min_port, uint16_t max_port,
                             uint16_t* bound_port, std::string* error) {
  if (min_port == 0 || min_port > max_port) {
    if (error) *error = "open_udp_socket_in_range: bad port range";
    return -1;
  }
  auto base = SocketAddress::parse(ip, 0);
  if (!base) {
    if (error) *error = "open_udp_socket_in_range: bad IP address '" + ip + "'";
    return -1;
  }
  const uint32_t range = static_cast<uint32_t>(max_port) - min_port + 1;
  const uint32_t start = g_next_port_offset.load(std::memory_order_relaxed) % range;
  for (uint32_t i = 0; i < range; ++i) {
    const uint32_t offset = (start + i) % range;
    const auto port = static_cast<uint16_t>(min_port + offset);
    auto local = SocketAddress::parse(ip, port);
    std::string bind_error;
    const int fd = open_udp_socket(*local, &bind_error);
    if (fd >= 0) {
      g_next_port_offset.store(offset + 1, std::memory_order_relaxed);
      if (bound_port) *bound_port = port;
      return fd;
    }
    if (errno != EADDRINUSE) {
      if (error) *error = bind_error;
      return -1;
    }
  }
  if (error)
    *error = "no free UDP port in " + std::to_string(min_port) + "-" + std::to_string(max_port) +
             " on " + ip;
  return -1;
}

uint16_t socket_local_port(int fd) {
  SocketAddress a;
  socklen_t len = sizeof a.u;
  if (getsockname(fd, &a.u.sa, &len) != 0) return 0;
  return a.port();
}

}  // namespace weir::dp
