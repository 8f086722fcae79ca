// The io_uring engine: one ring per worker. Each socket has one multishot recvmsg that picks
// its buffers from a provided-buffer ring stocked with pool buffers, so a datagram lands
// straight in a PacketBuffer at the pool's headroom with no copy. Sends are one sendmsg SQE
// per packet and one io_uring_submit per burst.
#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "base/log.h"
#include "dataplane/udp_engine.h"

namespace weir::dp {
namespace {

// The kernel writes this header and the peer address in front of the payload. Placing the
// ring entry this far before the headroom makes the payload start exactly at data().
constexpr uint32_t kRecvPrefix = sizeof(io_uring_recvmsg_out) + sizeof(sockaddr_in6);
constexpr uint16_t kBufferGroup = 0;
constexpr uint32_t kMaxBufferRingEntries = 32768;  // the kernel's limit for one group
constexpr uint32_t kMaxBufferIds = 65536;          // bids are 16 bits
constexpr unsigned kCqeBatch = 64;
constexpr uint32_t kMaxFixedFiles = 65536;

// user_data: | generation (32) | index (24) | kind (8) |. The generation makes completions of
// a removed socket unmistakable even after its index was handed to a new socket.
enum Kind : uint64_t { kRecv = 1, kSend = 2, kWake = 3, kCancel = 4 };

uint64_t make_user_data(Kind kind, uint32_t index, uint32_t generation) {
  return static_cast<uint64_t>(kind) | (static_cast<uint64_t>(index & 0xffffff) << 8) |
         (static_cast<uint64_t>(generation) << 32);
}
Kind kind_of(uint64_t ud) { return static_cast<Kind>(ud & 0xff); }
uint32_t index_of(uint64_t ud) { return static_cast<uint32_t>((ud >> 8) & 0xffffff); }
uint32_t generation_of(uint64_t ud) { return static_cast<uint32_t>(ud >> 32); }

std::string step_error(const char* step, int err) {
  return std::string("io_uring: ") + step + ": " + std::strerror(err);
}

struct SocketSlot {
  int fd = -1;
  uint32_t generation = 0;
  bool active = false;
  bool armed = false;   // a multishot recvmsg is (or is about to be) in the kernel
  bool failed = false;  // the kernel refused receiving with an unexpected error
  bool fixed = false;   // in the ring's registered file table at its own index
};

// Everything one in-flight sendmsg needs to stay valid until its completion.
struct SendSlot {
  msghdr msg{};
  iovec iov{};
  SocketAddress to;
  PacketBuffer* buf = nullptr;
};

class UringEngine final : public UdpEngine {
 public:
  UringEngine(PacketPool& pool, const EngineConfig& config) : pool_(pool), config_(config) {}
  ~UringEngine() override;

  bool init(std::string* error);

  const char* name() const override { return "io_uring"; }
  int add_socket(const UdpBinding& binding, std::string* error) override;
  void remove_socket(uint32_t socket) override;
  size_t rx_burst(RxPacket* out, size_t max, uint32_t timeout_us) override;
  void tx_burst(TxPacket* pkts, size_t n) override;
  void wake() override;
  const EngineStats& stats() const override { return stats_; }

 private:
  // The ring is created disabled so that the worker thread, not the creating thread,
  // becomes its single issuer on first use.
  bool ensure_enabled();
  void register_file_table();
  // Names socket s (engine index) in sqe by its registered slot when it has one.
  void set_target(io_uring_sqe* sqe, const SocketSlot& s, uint32_t index) const;
  void arm_recv(uint32_t index);
  void arm_wake();
  void refill_buffer_ring();
  void rearm_sockets();
  void submit_pending();
  size_t reap(RxPacket* out, size_t max);
  bool make_send_room();
  bool handle_recv(const io_uring_cqe* cqe, RxPacket* out);
  void handle_send(const io_uring_cqe* cqe);

  PacketPool& pool_;
  EngineConfig config_;
  EngineStats stats_;

  io_uring ring_{};
  bool ring_ready_ = false;
  bool disabled_ = false;  // created with IORING_SETUP_R_DISABLED and not yet enabled

  io_uring_buf_ring* buf_ring_ = nullptr;
  size_t buf_ring_bytes_ = 0;
  uint32_t buf_ring_entries_ = 0;
  uint32_t buf_ring_count_ = 0;  // buffers currently lent to the kernel
  std::vector<uint8_t> lent_;    // per pool index: sits in the buffer ring (or its CQE)

  msghdr recv_msg_{};  // shape of every recvmsg: a v6-sized name, no control
  std::vector<SocketSlot> sockets_;
  std::vector<uint32_t> free_socket_indexes_;
  uint32_t sockets_to_rearm_ = 0;

  std::vector<SendSlot> send_slots_;
  std::vector<uint32_t> free_send_slots_;
  // Datagrams reaped while tx_burst waited for send slots; rx_burst hands them out first.
  std::vector<RxPacket> stash_;
  size_t stash_head_ = 0;
  size_t stash_count_ = 0;

  // Registered files: a request naming a table slot skips the kernel's per-request file
  // lookup and reference count (fget/fput, a few percent of a fan-out's send cost).
  // 0: the kernel refused the table; sockets are then named by descriptor.
  uint32_t fixed_files_ = 0;

  int wake_fd_ = -1;
  uint64_t wake_value_ = 0;
  bool woken_ = false;  // this burst reaped a wake() completion
  io_uring_cqe* cqes_[kCqeBatch] = {};
};

bool UringEngine::init(std::string* error) {
  if (config_.rx_buffers == 0 || (config_.rx_buffers & (config_.rx_buffers - 1)) != 0 ||
      config_.rx_buffers > kMaxBufferRingEntries) {
    *error = "io_uring: rx_buffers must be a power of two <= 32768";
    return false;
  }
  if (pool_.count() > kMaxBufferIds) {
    *error = "io_uring: pool has more buffers than 16-bit buffer ids can name";
    return false;
  }
  if (pool_.headroom() < kRecvPrefix) {
    *error = "io_uring: pool headroom " + std::to_string(pool_.headroom()) +
             " is smaller than the recvmsg prefix " + std::to_string(kRecvPrefix);
    return false;
  }
  const uint32_t depth = config_.queue_depth == 0 ? 256 : config_.queue_depth;

  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN |
                 IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_R_DISABLED | IORING_SETUP_CQSIZE;
  // Multishot receives can post many CQEs per SQE: leave room for a full buffer ring too.
  params.cq_entries = std::max(depth * 2, config_.rx_buffers * 2);
  int rc = io_uring_queue_init_params(depth, &ring_, &params);
  if (rc == -EINVAL) {
    // Kernels before 6.0 do not know SINGLE_ISSUER; COOP_TASKRUN needs 5.19.
    params = io_uring_params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = std::max(depth * 2, config_.rx_buffers * 2);
    rc = io_uring_queue_init_params(depth, &ring_, &params);
  }
  if (rc < 0) {
    *error = step_error("io_uring_queue_init", -rc);
    return false;
  }
  ring_ready_ = true;
  disabled_ = (params.flags & IORING_SETUP_R_DISABLED) != 0;
  if (!(params.features & IORING_FEAT_EXT_ARG)) {
    // Without it a wait timeout costs an extra SQE; the kernel is older than 5.11.
    *error = "io_uring: kernel lacks IORING_FEAT_EXT_ARG (needs Linux >= 5.11)";
    return false;
  }

  // liburing 2.3 has no io_uring_setup_buf_ring(): map and register the ring by hand.
  buf_ring_entries_ = config_.rx_buffers;
  buf_ring_bytes_ = static_cast<size_t>(buf_ring_entries_) * sizeof(io_uring_buf);
  void* mem =
      mmap(nullptr, buf_ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    *error = step_error("mmap provided-buffer ring", errno);
    return false;
  }
  buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(buf_ring_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uintptr_t>(buf_ring_);
  reg.ring_entries = buf_ring_entries_;
  reg.bgid = kBufferGroup;
  rc = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (rc < 0) {
    *error = step_error("io_uring_register_buf_ring (needs Linux >= 5.19)", -rc);
    return false;
  }

  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    *error = step_error("eventfd", errno);
    return false;
  }

  // Everything the packet path touches is sized here, once.
  lent_.assign(pool_.count(), 0);
  send_slots_.resize(depth);
  free_send_slots_.reserve(depth);
  stash_.resize(4096);
  for (uint32_t i = depth; i > 0; --i) free_send_slots_.push_back(i - 1);
  sockets_.reserve(64);
  free_socket_indexes_.reserve(64);
  recv_msg_.msg_namelen = sizeof(sockaddr_in6);
  recv_msg_.msg_controllen = 0;

  refill_buffer_ring();
  if (!disabled_) arm_wake();
  return true;
}

UringEngine::~UringEngine() {
  // Tearing the ring down cancels every request; only then are the buffers ours again.
  if (ring_ready_) io_uring_queue_exit(&ring_);
  if (buf_ring_ != nullptr) munmap(buf_ring_, buf_ring_bytes_);
  for (uint32_t i = 0; i < lent_.size(); ++i)
    if (lent_[i]) pool_.release(pool_.at(i));
  for (SendSlot& s : send_slots_)
    if (s.buf != nullptr) pool_.release(s.buf);
  for (size_t i = 0; i < stash_count_; ++i)
    pool_.release(stash_[(stash_head_ + i) % stash_.size()].buf);
  for (SocketSlot& s : sockets_)
    if (s.active) close(s.fd);
  if (wake_fd_ >= 0) close(wake_fd_);
}

bool UringEngine::ensure_enabled() {
  if (!disabled_) return true;
  // liburing 2.3 declares io_uring_enable_rings() but does not export it: use the syscall.
  if (syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) <
      0) {
    LOG_ERROR("io", "io_uring enable rings: %s", std::strerror(errno));
    return false;
  }
  disabled_ = false;
  // Registered on the worker thread: a single-issuer ring takes registrations only from
  // the thread that submits.
  register_file_table();
  arm_wake();
  return true;
}

void UringEngine::register_file_table() {
  // The table is sized once; the kernel caps it at RLIMIT_NOFILE.
  rlimit limit{};
  uint32_t wanted = kMaxFixedFiles;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < wanted) {
    wanted = static_cast<uint32_t>(limit.rlim_cur);
  }
  const int rc = io_uring_register_files_sparse(&ring_, wanted);
  if (rc < 0) {
    LOG_WARN("io", "io_uring: no registered file table (%s): sockets named by descriptor",
             std::strerror(-rc));
    return;
  }
  fixed_files_ = wanted;
}

void UringEngine::set_target(io_uring_sqe* sqe, const SocketSlot& s, uint32_t index) const {
  if (s.fixed) {
    sqe->fd = static_cast<int32_t>(index);
    sqe->flags |= IOSQE_FIXED_FILE;
  }
}

void UringEngine::arm_wake() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    submit_pending();
    sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return;
  }
  io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof wake_value_, 0);
  io_uring_sqe_set_data64(sqe, make_user_data(kWake, 0, 0));
}

void UringEngine::arm_recv(uint32_t index) {
  SocketSlot& s = sockets_[index];
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    submit_pending();
    sqe = io_uring_get_sqe(&ring_);
  }
  if (sqe == nullptr) {
    // Try again on the next burst.
    s.armed = false;
    ++sockets_to_rearm_;
    return;
  }
  io_uring_prep_recvmsg_multishot(sqe, s.fd, &recv_msg_, 0);
  set_target(sqe, s, index);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(sqe, make_user_data(kRecv, index, s.generation));
  s.armed = true;
}

int UringEngine::add_socket(const UdpBinding& binding, std::string* error) {
  const int fd = binding.fd;
  if (fd < 0) {
    *error = "io_uring: a kernel engine needs a bound socket";
    return -1;
  }
  if (!ensure_enabled()) {
    if (error) *error = "io_uring: ring could not be enabled";
    return -1;
  }
  uint32_t index;
  if (!free_socket_indexes_.empty()) {
    index = free_socket_indexes_.back();
    free_socket_indexes_.pop_back();
  } else {
    if (sockets_.size() >= 0xffffff) {
      if (error) *error = "io_uring: too many sockets";
      return -1;
    }
    index = static_cast<uint32_t>(sockets_.size());
    sockets_.emplace_back();
    free_socket_indexes_.reserve(sockets_.capacity());
  }
  SocketSlot& s = sockets_[index];
  s.fd = fd;
  ++s.generation;
  s.active = true;
  s.armed = false;
  s.failed = false;
  s.fixed = index < fixed_files_ && io_uring_register_files_update(&ring_, index, &s.fd, 1) == 1;
  if (buf_ring_count_ > 0) {
    arm_recv(index);
  } else {
    ++sockets_to_rearm_;
  }
  submit_pending();
  return static_cast<int>(index);
}

void UringEngine::remove_socket(uint32_t socket) {
  if (socket >= sockets_.size() || !sockets_[socket].active) return;
  SocketSlot& s = sockets_[socket];
  if (s.armed) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      submit_pending();
      sqe = io_uring_get_sqe(&ring_);
    }
    if (sqe != nullptr) {
      io_uring_prep_cancel64(sqe, make_user_data(kRecv, socket, s.generation), 0);
      io_uring_sqe_set_data64(sqe, make_user_data(kCancel, socket, s.generation));
    }
  } else if (!s.failed) {
    --sockets_to_rearm_;
  }
  // Completions already posted for this socket now carry a stale generation.
  ++s.generation;
  s.active = false;
  s.armed = false;
  submit_pending();
  if (s.fixed) {
    const int none = -1;
    io_uring_register_files_update(&ring_, socket, &none, 1);
    s.fixed = false;
  }
  // The kernel keeps its own file reference until the cancelled request completes.
  close(s.fd);
  s.fd = -1;
  free_socket_indexes_.push_back(socket);
}

void UringEngine::submit_pending() {
  if (disabled_) return;
  if (io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
}

void UringEngine::refill_buffer_ring() {
  const int mask = io_uring_buf_ring_mask(buf_ring_entries_);
  int added = 0;
  while (buf_ring_count_ < buf_ring_entries_) {
    PacketBuffer* b = pool_.alloc();
    if (b == nullptr) break;
    io_uring_buf_ring_add(buf_ring_, b->base + pool_.headroom() - kRecvPrefix,
                          b->capacity - (pool_.headroom() - kRecvPrefix),
                          static_cast<unsigned short>(b->index), mask, added);
    lent_[b->index] = 1;
    ++added;
    ++buf_ring_count_;
  }
  if (added > 0) io_uring_buf_ring_advance(buf_ring_, added);
}

void UringEngine::rearm_sockets() {
  if (sockets_to_rearm_ == 0 || buf_ring_count_ == 0) return;
  for (uint32_t i = 0; i < sockets_.size() && sockets_to_rearm_ > 0; ++i) {
    SocketSlot& s = sockets_[i];
    if (!s.active || s.armed || s.failed) continue;
    --sockets_to_rearm_;
    arm_recv(static_cast<uint32_t>(i));
  }
}

bool UringEngine::handle_recv(const io_uring_cqe* cqe, RxPacket* out) {
  const uint32_t index = index_of(cqe->user_data);
  const bool current = index < sockets_.size() && sockets_[index].active &&
                       sockets_[index].generation == generation_of(cqe->user_data);
  PacketBuffer* buf = nullptr;
  if (cqe->flags & IORING_CQE_F_BUFFER) {
    const uint32_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    buf = pool_.at(bid);
    lent_[bid] = 0;
    --buf_ring_count_;
  }
  if (current && !(cqe->flags & IORING_CQE_F_MORE)) {
    // The multishot ended (no buffer, CQ overflow, error): receive again once possible.
    SocketSlot& s = sockets_[index];
    s.armed = false;
    if (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED) {
      s.failed = true;
      LOG_WARN("io", "recvmsg on socket %u stopped: %s", index, std::strerror(-cqe->res));
    } else {
      ++sockets_to_rearm_;
    }
  }
  if (cqe->res == -ENOBUFS) ++stats_.rx_no_buffer;
  if (buf == nullptr) return false;
  if (!current || cqe->res <= 0) {
    pool_.release(buf);
    return false;
  }
  uint8_t* start = buf->base + pool_.headroom() - kRecvPrefix;
  io_uring_recvmsg_out* o = io_uring_recvmsg_validate(start, cqe->res, &recv_msg_);
  if (o == nullptr || (o->flags & MSG_TRUNC) != 0) {
    ++stats_.rx_truncated;
    pool_.release(buf);
    return false;
  }
  const uint32_t len = io_uring_recvmsg_payload_length(o, cqe->res, &recv_msg_);
  buf->data_off = static_cast<uint16_t>(pool_.headroom());
  buf->len = static_cast<uint16_t>(len);
  out->buf = buf;
  out->socket = index;
  out->from = SocketAddress::from_sockaddr(static_cast<const sockaddr*>(io_uring_recvmsg_name(o)),
                                           std::min<socklen_t>(o->namelen, sizeof(sockaddr_in6)));
  ++stats_.rx_packets;
  stats_.rx_bytes += len;
  return true;
}

void UringEngine::handle_send(const io_uring_cqe* cqe) {
  const uint32_t slot = index_of(cqe->user_data);
  SendSlot& s = send_slots_[slot];
  if (cqe->res < 0) {
    ++stats_.tx_errors;
  } else {
    ++stats_.tx_packets;
    stats_.tx_bytes += static_cast<uint64_t>(cqe->res);
  }
  pool_.release(s.buf);
  s.buf = nullptr;
  free_send_slots_.push_back(slot);
}

size_t UringEngine::reap(RxPacket* out, size_t max) {
  size_t n = 0;
  // Each CQE yields at most one packet, so never take more CQEs than there is room for.
  for (int round = 0; round < 4 && n < max; ++round) {
    const unsigned want = static_cast<unsigned>(std::min<size_t>(max - n, kCqeBatch));
    const unsigned got = io_uring_peek_batch_cqe(&ring_, cqes_, want);
    if (got == 0) break;
    for (unsigned i = 0; i < got; ++i) {
      const io_uring_cqe* cqe = cqes_[i];
      switch (kind_of(cqe->user_data)) {
        case kRecv:
          if (handle_recv(cqe, &out[n])) ++n;
          break;
        case kSend:
          handle_send(cqe);
          break;
        case kWake:
          woken_ = true;
          arm_wake();
          break;
        case kCancel:
          break;
      }
    }
    io_uring_cq_advance(&ring_, got);
  }
  return n;
}

size_t UringEngine::rx_burst(RxPacket* out, size_t max, uint32_t timeout_us) {
  if (max == 0 || !ensure_enabled()) return 0;
  woken_ = false;
  size_t n = 0;
  while (stash_count_ > 0 && n < max) {
    out[n++] = stash_[stash_head_];
    stash_head_ = (stash_head_ + 1) % stash_.size();
    --stash_count_;
  }
  n += reap(out + n, max - n);
  refill_buffer_ring();
  rearm_sockets();
  // A wake() that landed before this burst must not be slept through.
  if (n == 0 && timeout_us > 0 && !woken_) {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_us / 1000000;
    ts.tv_nsec = static_cast<long long>(timeout_us % 1000000) * 1000;
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    n = reap(out, max);
    refill_buffer_ring();
    rearm_sockets();
  }
  submit_pending();
  return n;
}

// Submits what is queued and collects completions until a send slot is free. Receive
// completions met on the way are kept in the stash, in order, for the next rx_burst.
bool UringEngine::make_send_room() {
  for (int round = 0; round < 1000 && free_send_slots_.empty(); ++round) {
    if (io_uring_sq_ready(&ring_) > 0) {
      io_uring_submit(&ring_);
      ++stats_.submits;
    }
    unsigned got = io_uring_peek_batch_cqe(&ring_, cqes_, kCqeBatch);
    if (got == 0) {
      io_uring_cqe* cqe = nullptr;
      io_uring_wait_cqe(&ring_, &cqe);
      continue;
    }
    unsigned used = 0;
    for (; used < got; ++used) {
      const io_uring_cqe* cqe = cqes_[used];
      const auto kind = kind_of(cqe->user_data);
      if (kind == kSend) {
        handle_send(cqe);
      } else if (kind == kRecv) {
        if (stash_count_ == stash_.size()) break;  // full: leave the rest in the ring
        const size_t at = (stash_head_ + stash_count_) % stash_.size();
        if (handle_recv(cqe, &stash_[at])) ++stash_count_;
      } else if (kind == kWake) {
        woken_ = true;
        arm_wake();
      }
    }
    io_uring_cq_advance(&ring_, used);
    if (used < got && free_send_slots_.empty()) return false;
  }
  return !free_send_slots_.empty();
}

void UringEngine::tx_burst(TxPacket* pkts, size_t n) {
  if (n == 0) return;
  if (!ensure_enabled()) {
    for (size_t i = 0; i < n; ++i) pool_.release(pkts[i].buf);
    stats_.tx_dropped += n;
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    TxPacket& p = pkts[i];
    if (p.socket >= sockets_.size() || !sockets_[p.socket].active || !p.to.valid()) {
      ++stats_.tx_errors;
      pool_.release(p.buf);
      continue;
    }
    // A fan-out burst can queue more sends than there are slots: wait for the kernel to
    // finish some rather than dropping what was already forwarded.
    if (free_send_slots_.empty() && !make_send_room()) {
      ++stats_.tx_dropped;
      pool_.release(p.buf);
      continue;
    }
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      io_uring_submit(&ring_);
      ++stats_.submits;
      sqe = io_uring_get_sqe(&ring_);
    }
    if (sqe == nullptr) {
      ++stats_.tx_dropped;
      pool_.release(p.buf);
      continue;
    }
    const uint32_t slot = free_send_slots_.back();
    free_send_slots_.pop_back();
    SendSlot& s = send_slots_[slot];
    s.buf = p.buf;
    s.to = p.to;
    s.iov.iov_base = p.buf->data();
    s.iov.iov_len = p.buf->len;
    s.msg = msghdr{};
    s.msg.msg_name = &s.to.u;
    s.msg.msg_namelen = s.to.length();
    s.msg.msg_iov = &s.iov;
    s.msg.msg_iovlen = 1;
    io_uring_prep_sendmsg(sqe, sockets_[p.socket].fd, &s.msg, 0);
    set_target(sqe, sockets_[p.socket], p.socket);
    io_uring_sqe_set_data64(sqe, make_user_data(kSend, slot, 0));
  }
  if (io_uring_sq_ready(&ring_) > 0) {
    io_uring_submit(&ring_);
    ++stats_.submits;
  }
}

void UringEngine::wake() {
  const uint64_t one = 1;
  // A full counter (never in practice) still leaves the eventfd readable: nothing to do.
  [[maybe_unused]] ssize_t r = write(wake_fd_, &one, sizeof one);
}

}  // namespace

std::unique_ptr<UdpEngine> make_uring_engine(PacketPool& pool, const EngineConfig& config,
                                             std::string* error) {
  auto engine = std::make_unique<UringEngine>(pool, config);
  std::string local_error;
  if (!engine->init(error ? error : &local_error)) return nullptr;
  return engine;
}

}  // namespace weir::dp
