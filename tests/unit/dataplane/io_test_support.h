// Loopback helpers shared by the I/O engine tests: plain sender/receiver sockets outside
// any engine, and a bounded receive loop that copies what an engine delivered.
#pragma once

#include <liburing.h>
#include <poll.h>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/udp_engine.h"

namespace weir::dp::testing {

// Whether this kernel lets us create any io_uring at all (sysctl, seccomp, ENOSYS). Only
// then may an io_uring engine test be skipped; a failure of the engine itself must fail.
inline bool io_uring_usable() {
  io_uring ring{};
  if (io_uring_queue_init(4, &ring, 0) < 0) return false;
  io_uring_queue_exit(&ring);
  return true;
}

inline SocketAddress loopback(bool v6, uint16_t port = 0) {
  return *SocketAddress::parse(v6 ? "::1" : "127.0.0.1", port);
}

// A bound socket's own address, as the peer will see it in `from`.
inline SocketAddress local_address(int fd) {
  SocketAddress a;
  socklen_t len = sizeof a.u;
  getsockname(fd, &a.u.sa, &len);
  return a;
}

inline bool send_to(int fd, const SocketAddress& to, const std::string& payload) {
  return sendto(fd, payload.data(), payload.size(), 0, to.sockaddr_ptr(), to.length()) ==
         static_cast<ssize_t>(payload.size());
}

// poll that treats an interruption (io_uring task-work notifications can interrupt any
// thread of the process) as "try again", not as a timeout.
inline int poll_retrying(pollfd* fds, nfds_t n, int timeout_ms) {
  int r;
  do {
    r = poll(fds, n, timeout_ms);
  } while (r < 0 && errno == EINTR);
  return r;
}

// Waits (poll, bounded) for one datagram on a plain socket; empty string if none came.
inline std::string recv_one(int fd, int timeout_ms = 2000) {
  pollfd p{fd, POLLIN, 0};
  if (poll_retrying(&p, 1, timeout_ms) <= 0) return {};
  char buf[65536];
  const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

struct Received {
  uint32_t socket;
  SocketAddress from;
  std::string payload;
  size_t headroom;
};

// Calls rx_burst until `want` datagrams arrived or `max_calls` calls (each waiting at most
// 20 ms) passed. Buffers are copied out and released at once.
inline std::vector<Received> receive(UdpEngine& engine, PacketPool& pool, size_t want,
                                     int max_calls = 250) {
  std::vector<Received> got;
  RxPacket rx[64];
  for (int call = 0; call < max_calls && got.size() < want; ++call) {
    const size_t n = engine.rx_burst(rx, 64, 20000);
    for (size_t i = 0; i < n; ++i) {
      got.push_back({rx[i].socket, rx[i].from,
                     std::string(reinterpret_cast<const char*>(rx[i].buf->data()), rx[i].buf->len),
                     rx[i].buf->headroom()});
      pool.release(rx[i].buf);
    }
  }
  return got;
}

// Reaps send completions until the engine has accounted for `sent` sends.
inline void reap_sends(UdpEngine& engine, PacketPool& pool, uint64_t sent) {
  RxPacket rx[64];
  for (int call = 0; call < 250; ++call) {
    const EngineStats& s = engine.stats();
    if (s.tx_packets + s.tx_errors + s.tx_dropped >= sent) return;
    const size_t n = engine.rx_burst(rx, 64, 20000);
    for (size_t i = 0; i < n; ++i) pool.release(rx[i].buf);
  }
}

inline PacketBuffer* make_packet(PacketPool& pool, const std::string& payload) {
  PacketBuffer* b = pool.alloc();
  if (b == nullptr) return nullptr;
  std::memcpy(b->data(), payload.data(), payload.size());
  b->len = static_cast<uint16_t>(payload.size());
  return b;
}

}  // namespace weir::dp::testing
