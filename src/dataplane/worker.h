// One dataplane worker: a thread that owns an I/O engine, a packet pool and every
// per-packet table of the transports, producers and consumers assigned to it. The control
// thread changes those tables only through post(); the worker applies commands between
// bursts. Loop: apply commands -> RX burst -> classify -> SRTP unprotect -> route ->
// rewrite + protect per consumer -> one TX burst.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "dataplane/counters.h"
#include "dataplane/spsc_ring.h"
#include "dataplane/udp_engine.h"
#include "dataplane/worker_commands.h"

namespace weir::dp {

class DpdkPort;     // dpdk_port.h
class WorkerPipes;  // worker_pipes.h

struct WorkerConfig {
  uint32_t index = 0;
  uint32_t pool_buffers = 65536;
  uint32_t command_ring_size = 4096;
  uint32_t burst = 64;
  bool prefer_mmsg = false;
  EngineConfig engine;
  // WebRtcServer mode: one UDP port on this worker shared by its WebRTC transports
  // (demultiplexed by ICE username, then by 5-tuple). Port 0: no shared port.
  std::string shared_ip = "127.0.0.1";
  uint16_t shared_port = 0;
  uint32_t control_ring_size = 1024;  // control packets going up (power of two)
  uint64_t keyframe_request_interval_ms = 500;
  // DPDK mode: the port whose queue pair `index` this worker polls (its mbufs are the
  // worker's packet buffers). null: kernel sockets through io_uring or recvmmsg.
  DpdkPort* dpdk_port = nullptr;
  // The pipes between all workers (several workers); null: none. Outlives the worker.
  WorkerPipes* pipes = nullptr;
  // The CPU the worker's thread is pinned to; -1: wherever the scheduler puts it.
  int cpu = -1;
};

class ForwardingTables;  // worker-private, defined in forwarding.h

class Worker {
 public:
  explicit Worker(const WorkerConfig& config);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Creates the engine and starts the thread. false with *error if I/O cannot be set up.
  bool start(std::string* error);
  // Stops the thread; remaining sockets are closed.
  void stop();

  // Control thread only. Returns the command's sequence number (1, 2, ...). Waits if the
  // ring is full (the worker drains it between bursts).
  uint64_t post(Command command);
  // Control thread only: blocks until the worker has applied command seq.
  void wait_applied(uint64_t seq) const;
  uint64_t applied() const { return applied_.load(std::memory_order_acquire); }

  // Control thread only: the next STUN/DTLS datagram the worker passed up; false if none.
  bool pop_control_packet(ControlPacket& out);
  // An eventfd that becomes readable when control packets wait; the control thread reads
  // it (8 bytes) to re-arm, then pops until empty.
  int control_event_fd() const { return control_event_fd_; }
  bool control_ring_empty() const { return control_up_.empty(); }
  // The shared WebRTC port, 0 if none.
  uint16_t shared_port() const { return shared_port_; }

  const WorkerCounters& counters() const { return counters_; }
  const char* engine_name() const;
  // The DPDK engine's network stack counters; nullptr in kernel mode.
  const NetStackCounters* net_stack_counters() const;
  uint32_t index() const { return config_.index; }
  // Pool occupancy and engine counters as the worker last published them (once per loop).
  uint32_t pool_available() const;
  EngineStats engine_stats() const;

 private:
  bool pin_thread(std::string* error);
  void run();
  void apply_commands();
  void publish_engine_stats();
  void wake_control();

  // The engine's counters as last published by the worker thread, readable from any thread.
  struct PublishedEngineStats {
    Counter rx_packets, rx_bytes, rx_truncated, rx_no_buffer;
    Counter tx_packets, tx_bytes, tx_errors, tx_dropped, submits;
    Counter rx_unbound, rx_handed_off, rx_handoff_dropped, tx_copies;
    Counter pool_available;
  };
  PublishedEngineStats published_;

  WorkerConfig config_;
  std::unique_ptr<PacketPool> pool_;
  std::unique_ptr<UdpEngine> engine_;
  std::unique_ptr<ForwardingTables> tables_;
  SpscRing<Command> commands_;
  SpscRing<ControlPacket> control_up_;
  int control_event_fd_ = -1;
  UdpBinding shared_;  // the shared port until the worker thread adopts it
  uint16_t shared_port_ = 0;
  std::atomic<uint64_t> posted_{0};
  std::atomic<uint64_t> applied_{0};
  std::atomic<bool> running_{false};
  WorkerCounters counters_;
  std::thread thread_;
};

}  // namespace weir::dp
