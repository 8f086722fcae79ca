// The fallback engine for hosts where io_uring cannot be set up: epoll tells which sockets
// are readable, recvmmsg drains them into pool buffers and sendmmsg sends each run of
// packets for one socket with one system call.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "base/log.h"
#include "dataplane/udp_engine.h"

namespace weir::dp {
namespace {

constexpr size_t kBatch = 64;  // datagrams per recvmmsg / sendmmsg call
constexpr int kMaxEvents = 64;
constexpr uint64_t kWakeTag = ~uint64_t{0};

std::string step_error(const char* step, int err) {
  return std::string("recvmmsg engine: ") + step + ": " + std::strerror(err);
}

// epoll data: | generation (32) | index (32) |, so an event fetched just before a removal
// cannot be mistaken for one of the socket that reuses the index.
uint64_t make_tag(uint32_t index, uint32_t generation) {
  return static_cast<uint64_t>(index) | (static_cast<uint64_t>(generation) << 32);
}

struct SocketSlot {
  int fd = -1;
  uint32_t generation = 0;
  bool active = false;
  bool queued = false;  // in the ready queue
};

class MmsgEngine final : public UdpEngine {
 public:
  explicit MmsgEngine(PacketPool& pool) : pool_(pool) {}
  ~MmsgEngine() override;

  bool init(std::string* error);

  const char* name() const override { return "recvmmsg"; }
  int add_socket(const UdpBinding& binding, std::string* error) override;
  void remove_socket(uint32_t socket) override;
  size_t rx_burst(RxPacket* out, size_t max, uint32_t timeout_us) override;
  void tx_burst(TxPacket* pkts, size_t n) override;
  void wake() override;
  const EngineStats& stats() const override { return stats_; }

 private:
  void poll_ready(uint32_t timeout_us);
  void wait_for_wake(uint32_t timeout_us);
  void drain_wake();
  void push_ready(uint32_t index);
  uint32_t pop_ready();
  // Receives up to quota datagrams; *drained says the socket had no more.
  size_t receive(uint32_t index, RxPacket* out, size_t quota, bool* drained);
  void send_group(TxPacket* pkts, size_t count);

  PacketPool& pool_;
  EngineStats stats_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool woken_ = false;  // this burst consumed a wake()

  std::vector<SocketSlot> sockets_;
  std::vector<uint32_t> free_socket_indexes_;
  // Readable sockets served round-robin: a socket that still has data after its share goes
  // to the back, so one busy socket cannot starve the others.
  std::vector<uint32_t> ready_;
  size_t ready_head_ = 0;
  size_t ready_count_ = 0;

  epoll_event events_[kMaxEvents] = {};
  mmsghdr msgs_[kBatch] = {};
  iovec iovs_[kBatch] = {};
  sockaddr_in6 names_[kBatch] = {};
  PacketBuffer* bufs_[kBatch] = {};
};

bool MmsgEngine::init(std::string* error) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    *error = step_error("epoll_create1", errno);
    return false;
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    *error = step_error("eventfd", errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    *error = step_error("epoll_ctl(eventfd)", errno);
    return false;
  }
  sockets_.reserve(64);
  free_socket_indexes_.reserve(64);
  ready_.resize(64);
  return true;
}

MmsgEngine::~MmsgEngine() {
  for (SocketSlot& s : sockets_)
    if (s.active) close(s.fd);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

int MmsgEngine::add_socket(const UdpBinding& binding, std::string* error) {
  const int fd = binding.fd;
  if (fd < 0) {
    *error = "recvmmsg: a kernel engine needs a bound socket";
    return -1;
  }
  uint32_t index;
  if (!free_socket_indexes_.empty()) {
    index = free_socket_indexes_.back();
    free_socket_indexes_.pop_back();
  } else {
    index = static_cast<uint32_t>(sockets_.size());
    sockets_.emplace_back();
    free_socket_indexes_.reserve(sockets_.capacity());
    // The ready queue holds each socket at most once; size it so pushes never allocate.
    if (ready_.size() < sockets_.size()) {
      std::vector<uint32_t> bigger(sockets_.capacity());
      for (size_t i = 0; i < ready_count_; ++i) bigger[i] = ready_[(ready_head_ + i) % ready_.size()];
      ready_.swap(bigger);
      ready_head_ = 0;
    }
  }
  SocketSlot& s = sockets_[index];
  ++s.generation;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = make_tag(index, s.generation);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    if (error) *error = step_error("epoll_ctl(add socket)", errno);
    free_socket_indexes_.push_back(index);
    return -1;
  }
  s.fd = fd;
  s.active = true;
  return static_cast<int>(index);
}

void MmsgEngine::remove_socket(uint32_t socket) {
  if (socket >= sockets_.size() || !sockets_[socket].active) return;
  SocketSlot& s = sockets_[socket];
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.fd, nullptr);
  close(s.fd);
  s.fd = -1;
  s.active = false;
  ++s.generation;
  // A queued entry stays in the ready queue and is skipped when popped. queued stays set,
  // so a socket that reuses the index meanwhile is not queued twice.
  free_socket_indexes_.push_back(socket);
}

void MmsgEngine::push_ready(uint32_t index) {
  SocketSlot& s = sockets_[index];
  if (s.queued) return;
  s.queued = true;
  ready_[(ready_head_ + ready_count_) % ready_.size()] = index;
  ++ready_count_;
}

uint32_t MmsgEngine::pop_ready() {
  const uint32_t index = ready_[ready_head_];
  ready_head_ = (ready_head_ + 1) % ready_.size();
  --ready_count_;
  sockets_[index].queued = false;
  return index;
}

void MmsgEngine::drain_wake() {
  uint64_t value;
  [[maybe_unused]] ssize_t r = read(wake_fd_, &value, sizeof value);
  woken_ = true;
}

void MmsgEngine::poll_ready(uint32_t timeout_us) {
  timespec ts{};
  ts.tv_sec = timeout_us / 1000000;
  ts.tv_nsec = static_cast<long>(timeout_us % 1000000) * 1000;
  const int n = epoll_pwait2(epoll_fd_, events_, kMaxEvents, &ts, nullptr);
  for (int i = 0; i < n; ++i) {
    const uint64_t tag = events_[i].data.u64;
    if (tag == kWakeTag) {
      drain_wake();
      continue;
    }
    const auto index = static_cast<uint32_t>(tag);
    if (index < sockets_.size() && sockets_[index].active &&
        sockets_[index].generation == static_cast<uint32_t>(tag >> 32))
      push_ready(index);
  }
}

void MmsgEngine::wait_for_wake(uint32_t timeout_us) {
  // The pool is empty: readable sockets would end an epoll wait at once, so sleep until
  // the timeout or a wake() instead of spinning.
  pollfd p{wake_fd_, POLLIN, 0};
  timespec ts{};
  ts.tv_sec = timeout_us / 1000000;
  ts.tv_nsec = static_cast<long>(timeout_us % 1000000) * 1000;
  if (ppoll(&p, 1, &ts, nullptr) > 0) drain_wake();
}

size_t MmsgEngine::receive(uint32_t index, RxPacket* out, size_t quota, bool* drained) {
  size_t k = 0;
  for (; k < quota; ++k) {
    PacketBuffer* b = pool_.alloc();
    if (b == nullptr) break;
    bufs_[k] = b;
    iovs_[k].iov_base = b->data();
    iovs_[k].iov_len = b->room();
    msghdr& h = msgs_[k].msg_hdr;
    h = msghdr{};
    h.msg_name = &names_[k];
    h.msg_namelen = sizeof(sockaddr_in6);
    h.msg_iov = &iovs_[k];
    h.msg_iovlen = 1;
    msgs_[k].msg_len = 0;
  }
  if (k == 0) {
    ++stats_.rx_no_buffer;
    *drained = false;
    return 0;
  }
  const int r = recvmmsg(sockets_[index].fd, msgs_, static_cast<unsigned>(k), MSG_DONTWAIT,
                         nullptr);
  const size_t got = r > 0 ? static_cast<size_t>(r) : 0;
  size_t n = 0;
  for (size_t i = 0; i < got; ++i) {
    PacketBuffer* b = bufs_[i];
    const msghdr& h = msgs_[i].msg_hdr;
    if (h.msg_flags & MSG_TRUNC) {
      ++stats_.rx_truncated;
      pool_.release(b);
      continue;
    }
    b->len = static_cast<uint16_t>(msgs_[i].msg_len);
    out[n].buf = b;
    out[n].socket = index;
    out[n].from = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&names_[i]),
                                               h.msg_namelen);
    ++stats_.rx_packets;
    stats_.rx_bytes += b->len;
    ++n;
  }
  for (size_t i = got; i < k; ++i) pool_.release(bufs_[i]);
  *drained = got < k;
  return n;
}

size_t MmsgEngine::rx_burst(RxPacket* out, size_t max, uint32_t timeout_us) {
  if (max == 0) return 0;
  if (pool_.available() == 0) {
    ++stats_.rx_no_buffer;
    if (timeout_us > 0) wait_for_wake(timeout_us);
    return 0;
  }
  // One look at epoll per burst even when sockets are queued, so that sockets that just
  // became readable join the queue behind the busy ones.
  woken_ = false;
  poll_ready(0);
  // A wake() that landed before this burst must not be slept through.
  if (ready_count_ == 0 && timeout_us > 0 && !woken_) poll_ready(timeout_us);
  size_t n = 0;
  size_t turns = ready_count_;
  while (n < max && turns > 0 && ready_count_ > 0) {
    const uint32_t index = pop_ready();
    if (!sockets_[index].active) {
      --turns;
      continue;
    }
    const size_t quota = std::min(kBatch, std::max<size_t>(1, (max - n) / turns));
    bool drained = true;
    n += receive(index, out + n, quota, &drained);
    if (!drained) push_ready(index);
    --turns;
  }
  return n;
}

void MmsgEngine::send_group(TxPacket* pkts, size_t count) {
  const uint32_t socket = pkts[0].socket;
  if (socket >= sockets_.size() || !sockets_[socket].active) {
    stats_.tx_errors += count;
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    iovs_[i].iov_base = pkts[i].buf->data();
    iovs_[i].iov_len = pkts[i].buf->len;
    msghdr& h = msgs_[i].msg_hdr;
    h = msghdr{};
    h.msg_name = pkts[i].to.valid() ? &pkts[i].to.u : nullptr;
    h.msg_namelen = pkts[i].to.valid() ? pkts[i].to.length() : 0;
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = 1;
    msgs_[i].msg_len = 0;
  }
  size_t done = 0;
  while (done < count) {
    const int r = sendmmsg(sockets_[socket].fd, msgs_ + done,
                           static_cast<unsigned>(count - done), MSG_DONTWAIT);
    ++stats_.submits;
    if (r <= 0) {
      // The first remaining message was refused (full buffer, bad address): skip it.
      ++stats_.tx_errors;
      ++done;
      continue;
    }
    for (size_t i = done; i < done + static_cast<size_t>(r); ++i) {
      ++stats_.tx_packets;
      stats_.tx_bytes += msgs_[i].msg_len;
    }
    done += static_cast<size_t>(r);
  }
}

void MmsgEngine::tx_burst(TxPacket* pkts, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && j - i < kBatch && pkts[j].socket == pkts[i].socket) ++j;
    send_group(pkts + i, j - i);
    // sendmmsg copied the payloads: the buffers are free again.
    for (size_t k = i; k < j; ++k) pool_.release(pkts[k].buf);
    i = j;
  }
}

void MmsgEngine::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t r = write(wake_fd_, &one, sizeof one);
}

}  // namespace

std::unique_ptr<UdpEngine> make_mmsg_engine(PacketPool& pool, const EngineConfig& /*config*/,
                                            std::string* error) {
  auto engine = std::make_unique<MmsgEngine>(pool);
  std::string local_error;
  if (!engine->init(error ? error : &local_error)) return nullptr;
  return engine;
}

}  // namespace weir::dp
