#include "dataplane/worker.h"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/clock.h"
#include "base/log.h"
#include "dataplane/dpdk_port.h"
#include "dataplane/forwarding.h"
#include "dataplane/srtp_ipsec_mb.h"
#include "dataplane/worker_pipes.h"

namespace weir::dp {

namespace {
// How long an idle worker sleeps in the kernel before looking at its command ring again.
// post() wakes it at once; this only bounds the damage of a lost wake-up.
constexpr uint32_t kIdleWaitUs = 100000;
constexpr size_t kMaxBurst = 256;
}  // namespace

Worker::Worker(const WorkerConfig& config)
    : config_(config), commands_(config.command_ring_size), control_up_(config.control_ring_size) {
  if (config_.burst == 0 || config_.burst > kMaxBurst) config_.burst = 64;
  control_event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Worker::~Worker() {
  stop();
  if (control_event_fd_ >= 0) ::close(control_event_fd_);
  if (shared_.fd >= 0) ::close(shared_.fd);  // start() failed before the thread took it
}

bool Worker::start(std::string* error) {
  if (control_event_fd_ < 0) {
    if (error) *error = std::string("eventfd: ") + std::strerror(errno);
    return false;
  }
  if (config_.dpdk_port != nullptr) {
    pool_ = std::make_unique<PacketPool>(config_.dpdk_port->buffer_source(config_.index),
                                         kDpdkHeadroom);
    engine_ = make_dpdk_engine(*config_.dpdk_port, config_.index, *pool_, error);
  } else {
    pool_ = std::make_unique<PacketPool>(config_.pool_buffers);
    engine_ = make_udp_engine(*pool_, config_.engine, config_.prefer_mmsg, error);
  }
  if (!engine_) return false;
  ForwardingOptions options;
  options.keyframe_request_interval_ns = config_.keyframe_request_interval_ms * 1000000ull;
  if (config_.shared_port != 0) {
    auto local = SocketAddress::parse(config_.shared_ip, config_.shared_port);
    if (!local) {
      if (error) *error = "shared WebRTC port: bad IP address " + config_.shared_ip;
      return false;
    }
    shared_.local = *local;
    if (config_.dpdk_port == nullptr) {
      shared_.fd = open_udp_socket(*local, error);
      if (shared_.fd < 0) {
        if (error) *error = "shared WebRTC port " + local->to_string() + ": " + *error;
        return false;
      }
    }
    shared_port_ = config_.shared_port;
  }
  tables_ = std::make_unique<ForwardingTables>(*pool_, *engine_, counters_, &control_up_, options);
  if (config_.pipes != nullptr) {
    tables_->set_pipes(config_.pipes, config_.index);
    config_.pipes->attach(config_.index, engine_.get());
  }
  publish_engine_stats();
  running_.store(true, std::memory_order_release);
  thread_ = std::thread([this] { run(); });
  // Named for top -H and perf: "weir-worker-N" fits the kernel's 15 characters.
  const std::string name = "weir-worker-" + std::to_string(config_.index);
  pthread_setname_np(thread_.native_handle(), name.c_str());
  if (config_.cpu >= 0 && !pin_thread(error)) {
    stop();  // the whole teardown, pipes included
    return false;
  }
  const std::string where = config_.cpu >= 0 ? ", CPU " + std::to_string(config_.cpu) : "";
  if (shared_port_ != 0) {
    LOG_INFO("worker",
             "dataplane worker %u started (%s, %u packet buffers, shared WebRTC port %s:%u%s)",
             config_.index, engine_->name(), config_.pool_buffers, config_.shared_ip.c_str(),
             shared_port_, where.c_str());
  } else {
    LOG_INFO("worker", "dataplane worker %u started (%s, %u packet buffers%s)", config_.index,
             engine_->name(), config_.pool_buffers, where.c_str());
  }
  return true;
}

// Pinned once its thread runs; a CPU outside the process's allowed set (taskset, cgroup
// cpuset) or offline is refused by the kernel, and the worker does not start.
bool Worker::pin_thread(std::string* error) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (config_.cpu >= CPU_SETSIZE) {
    if (error) *error = "CPU " + std::to_string(config_.cpu) + " is beyond CPU_SETSIZE";
    return false;
  }
  CPU_SET(static_cast<size_t>(config_.cpu), &set);
  const int rc = pthread_setaffinity_np(thread_.native_handle(), sizeof set, &set);
  if (rc != 0) {
    if (error) {
      *error = "cannot pin to CPU " + std::to_string(config_.cpu) + ": " + std::strerror(rc) +
               " (is it online and allowed to this process?)";
    }
    return false;
  }
  return true;
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  if (config_.pipes != nullptr) config_.pipes->attach(config_.index, nullptr);
  running_.store(false, std::memory_order_release);
  engine_->wake();
  thread_.join();
  // Commands nobody will apply still own resources (SRTP sessions): apply them so that
  // ownership rules hold, then drop the tables, which closes every socket.
  apply_commands();
  tables_.reset();
  LOG_INFO("worker", "dataplane worker %u stopped", config_.index);
}

uint64_t Worker::post(Command command) {
  while (!commands_.push(std::move(command))) {
    // Full ring: the worker drains it between bursts; give it the core meanwhile.
    if (engine_) engine_->wake();
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  const uint64_t seq = posted_.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (engine_) engine_->wake();
  return seq;
}

bool Worker::pop_control_packet(ControlPacket& out) {
  auto packet = control_up_.pop();
  if (!packet) return false;
  out = std::move(*packet);
  return true;
}

void Worker::wait_applied(uint64_t seq) const {
  while (applied_.load(std::memory_order_acquire) < seq) {
    if (!running_.load(std::memory_order_acquire)) return;  // stop() applies the rest
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

const char* Worker::engine_name() const { return engine_ ? engine_->name() : "none"; }

const NetStackCounters* Worker::net_stack_counters() const {
  return engine_ ? engine_->net_stack_counters() : nullptr;
}

uint32_t Worker::pool_available() const {
  return static_cast<uint32_t>(published_.pool_available.get());
}

EngineStats Worker::engine_stats() const {
  EngineStats s;
  s.rx_packets = published_.rx_packets.get();
  s.rx_bytes = published_.rx_bytes.get();
  s.rx_truncated = published_.rx_truncated.get();
  s.rx_no_buffer = published_.rx_no_buffer.get();
  s.tx_packets = published_.tx_packets.get();
  s.tx_bytes = published_.tx_bytes.get();
  s.tx_errors = published_.tx_errors.get();
  s.tx_dropped = published_.tx_dropped.get();
  s.submits = published_.submits.get();
  s.rx_unbound = published_.rx_unbound.get();
  s.rx_handed_off = published_.rx_handed_off.get();
  s.rx_handoff_dropped = published_.rx_handoff_dropped.get();
  s.tx_copies = published_.tx_copies.get();
  return s;
}

void Worker::publish_engine_stats() {
  const EngineStats& s = engine_->stats();
  published_.rx_packets.set(s.rx_packets);
  published_.rx_bytes.set(s.rx_bytes);
  published_.rx_truncated.set(s.rx_truncated);
  published_.rx_no_buffer.set(s.rx_no_buffer);
  published_.tx_packets.set(s.tx_packets);
  published_.tx_bytes.set(s.tx_bytes);
  published_.tx_errors.set(s.tx_errors);
  published_.tx_dropped.set(s.tx_dropped);
  published_.submits.set(s.submits);
  published_.rx_unbound.set(s.rx_unbound);
  published_.rx_handed_off.set(s.rx_handed_off);
  published_.rx_handoff_dropped.set(s.rx_handoff_dropped);
  published_.tx_copies.set(s.tx_copies);
  published_.pool_available.set(pool_->available());
}

void Worker::apply_commands() {
  while (auto command = commands_.pop()) {
    tables_->apply(*command);
    counters_.commands_applied.add();
    applied_.fetch_add(1, std::memory_order_acq_rel);
  }
  tables_->flush_tx();  // control packets the commands sent
}

void Worker::wake_control() {
  const uint64_t one = 1;
  // A full counter (never in practice) still leaves the fd readable: nothing is lost.
  [[maybe_unused]] const ssize_t n = ::write(control_event_fd_, &one, sizeof one);
}

void Worker::run() {
  // The engine's ring takes submissions from one thread only (io_uring's single issuer):
  // the shared socket joins it here, on the worker, before any command can name it.
  if (shared_.valid()) {
    std::string error;
    const int socket = engine_->add_socket(shared_, &error);
    if (socket < 0) {
      LOG_ERROR("worker", "worker %u: cannot receive on the shared WebRTC port: %s", config_.index,
                error.c_str());
    }
    tables_->set_shared_socket(socket);
    shared_ = {};  // the engine owns it now
  }
  // This thread's ipsec-mb manager (about 200 KiB) is made now rather than by the first
  // batch of SRTP packets, which must not allocate.
  srtp_mb_available();
  RxPacket rx[kMaxBurst];
  while (running_.load(std::memory_order_acquire)) {
    apply_commands();
    // Packets waiting in a pipe from another worker: look at the sockets, do not sleep.
    uint32_t wait_us = tables_->pipes_pending() ? 0 : kIdleWaitUs;
    if (wait_us != 0 && config_.pipes != nullptr) {
      config_.pipes->set_sleeping(config_.index, true);
      if (tables_->pipes_pending()) wait_us = 0;  // piped before it saw us sleeping
    }
    const size_t n = engine_->rx_burst(rx, config_.burst, wait_us);
    if (config_.pipes != nullptr) config_.pipes->set_sleeping(config_.index, false);
    counters_.loop_iterations.add();
    const uint64_t now = now_ns();
    if (n > 0) {
      tables_->process_burst(rx, n, now);
      for (size_t i = 0; i < n; ++i) pool_->release(rx[i].buf);
      if (tables_->take_control_pending()) wake_control();
    }
    tables_->drain_pipes(now);
    tables_->on_tick(now);
    // Once per loop, for every worker this one piped something to, if it waits.
    for (uint64_t wakes = tables_->take_pipe_wakes(); wakes != 0; wakes &= wakes - 1) {
      config_.pipes->wake_if_sleeping(static_cast<uint32_t>(__builtin_ctzll(wakes)));
    }
    publish_engine_stats();
  }
}

}  // namespace weir::dp
