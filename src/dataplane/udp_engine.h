// Packet I/O for one dataplane worker over kernel UDP sockets. Two implementations share
// this interface: io_uring (multishot recvmsg into a provided-buffer ring, batched sends
// with one submit) and a recvmmsg/sendmmsg fallback for kernels where io_uring cannot be
// set up. The DPDK engine of a later release keeps the same burst shape.
//
// Threading: every method except wake() belongs to the worker thread that owns the engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/packet_pool.h"
#include "dataplane/socket_address.h"
#include "dataplane/udp_port_provider.h"

namespace weir::dp {

struct RxPacket {
  PacketBuffer* buf;    // the caller owns one reference; data()/len hold the datagram
  uint32_t socket;      // index returned by add_socket()
  SocketAddress from;
};

struct TxPacket {
  PacketBuffer* buf;    // the engine takes over one reference and releases it once sent
  uint32_t socket;
  SocketAddress to;
};

struct EngineStats {
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t rx_truncated = 0;    // datagrams larger than a buffer: dropped
  uint64_t rx_no_buffer = 0;    // the kernel found no free buffer (io_uring) or the pool was empty
  uint64_t tx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_errors = 0;       // sends the kernel refused
  uint64_t tx_dropped = 0;      // sends that found no free submission slot
  uint64_t submits = 0;         // io_uring_enter / sendmmsg calls made for sending
  // DPDK only.
  uint64_t rx_unbound = 0;          // datagrams to a UDP port no transport serves
  uint64_t rx_handed_off = 0;       // frames passed to the worker that owns their port
  uint64_t rx_handoff_dropped = 0;  // ... that found its ring full
  uint64_t tx_copies = 0;           // sends of a shared buffer, which had to be copied
};

struct NetStackCounters;  // net_stack.h

struct EngineConfig {
  uint32_t rx_buffers = 4096;   // buffers lent to the kernel for receiving (power of two)
  uint32_t queue_depth = 4096;  // submission queue entries
};

class UdpEngine {
 public:
  virtual ~UdpEngine() = default;
  virtual const char* name() const = 0;  // "io_uring", "recvmmsg" or "dpdk"

  // Starts receiving on a binding: the kernel engines adopt its bound, non-blocking socket;
  // the DPDK engine serves its local port itself. Returns the socket's index (dense, reused
  // after removal) or -1 with *error set.
  virtual int add_socket(const UdpBinding& binding, std::string* error) = 0;
  // Stops receiving and closes the descriptor (kernel engines).
  virtual void remove_socket(uint32_t socket) = 0;

  // Receives up to max datagrams. When none is ready, waits at most timeout_us for one
  // (0: do not wait). Also reaps send completions.
  virtual size_t rx_burst(RxPacket* out, size_t max, uint32_t timeout_us) = 0;
  // Sends n datagrams with one system call (io_uring_submit or sendmmsg per socket).
  virtual void tx_burst(TxPacket* pkts, size_t n) = 0;
  // How many datagrams a caller should gather per tx_burst. The kernel engines want large
  // bursts (one system call each); the DPDK engine writes headers and the UDP checksum
  // over every datagram and the PMD reads every mbuf, which is cheapest while the burst
  // just encrypted is still in the core's cache: one PMD burst.
  virtual size_t preferred_tx_burst() const { return 1024; }
  // Thread-safe: makes a waiting rx_burst return early (commands are pending).
  virtual void wake() = 0;

  virtual const EngineStats& stats() const = 0;
  // The DPDK engine's own network stack (ARP, ICMP, drops by reason); readable from any
  // thread. nullptr for the kernel engines.
  virtual const NetStackCounters* net_stack_counters() const { return nullptr; }
};

std::unique_ptr<UdpEngine> make_uring_engine(PacketPool& pool, const EngineConfig& config,
                                             std::string* error);
std::unique_ptr<UdpEngine> make_mmsg_engine(PacketPool& pool, const EngineConfig& config,
                                            std::string* error);
// io_uring unless it cannot be set up (or prefer_mmsg); says which, and why, in the log.
std::unique_ptr<UdpEngine> make_udp_engine(PacketPool& pool, const EngineConfig& config,
                                           bool prefer_mmsg, std::string* error);

// A bound, non-blocking UDP socket with large kernel buffers. port 0 picks any free port.
int open_udp_socket(const SocketAddress& local, std::string* error);
// Binds the first free port in [min_port, max_port] starting at a rotating offset.
int open_udp_socket_in_range(const std::string& ip, uint16_t min_port, uint16_t max_port,
                             uint16_t* bound_port, std::string* error);
uint16_t socket_local_port(int fd);

}  // namespace weir::dp
