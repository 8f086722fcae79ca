#include "sender.h"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "base/clock.h"

namespace weir::pktgen {
namespace {

constexpr uint64_t kMsNs = 1000000ull;
// In WebRTC mode the thread wakes at least this often between packets, so that ICE and
// DTLS are served promptly at any packet rate.
constexpr uint64_t kPeerWakeNs = 20 * kMsNs;
// The longest the ICE + DTLS setup may take before the producer counts as failed.
constexpr uint64_t kHandshakeTimeoutNs = 40000 * kMsNs;

uint64_t now_ms() { return now_ns() / kMsNs; }

// Each wake of a several-stream sender may find a packet of every stream due.
uint32_t pool_size(const SenderConfig& config) {
  return static_cast<uint32_t>(std::max<size_t>(1024, 4 * config.streams.size()));
}

void sleep_until(uint64_t t_ns) {
  const timespec ts{static_cast<time_t>(t_ns / 1000000000ull),
                    static_cast<long>(t_ns % 1000000000ull)};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

}  // namespace

Sender::Sender(const SenderConfig& config) : config_(config) {
  if (config_.streams.empty()) {
    streams_.push_back(
        std::make_unique<Stream>(SenderStream{config_.remote, config_.key, config_.stream}));
  } else {
    for (const SenderStream& st : config_.streams) streams_.push_back(std::make_unique<Stream>(st));
  }
}

Sender::~Sender() { stop(); }

std::unique_ptr<Sender> Sender::create(const SenderConfig& config, std::string* error) {
  if (config.webrtc && !config.streams.empty()) {
    *error = "a WebRTC sender has one stream";
    return nullptr;
  }
  std::unique_ptr<Sender> s(new Sender(config));
  if (config.dpdk) {
    // The engine posts to the receiving thread's: made here, on that thread.
    s->pool_ = config.dpdk->make_sender_pool();
    s->engine_ = config.dpdk->make_sender_engine(*s->pool_, error);
    if (!s->engine_) return nullptr;
  } else {
    s->pool_ = std::make_unique<dp::PacketPool>(pool_size(config));
  }
  for (auto& st : s->streams_) {
    if (st->config.stream.rate_pps == 0) {
      *error = "a stream needs a rate";
      return nullptr;
    }
    if (config.suite && !config.webrtc) {
      st->srtp = dp::SrtpSession::create(*config.suite, dp::SrtpSession::Direction::outbound,
                                         st->config.key, error);
      if (!st->srtp) return nullptr;
    }
  }
  if (!config.webrtc) s->link_.store(Link::up, std::memory_order_release);
  return s;
}

bool Sender::setup(std::string* error) {
  if (config_.dpdk) {
    const int index = engine_->add_socket(config_.dpdk->sender_binding(), error);
    if (index < 0) return false;
    socket_ = static_cast<uint32_t>(index);
    if (config_.webrtc) make_peer(config_.dpdk->sender_binding().local);
    return true;
  }
  dp::EngineConfig ec;
  ec.rx_buffers = 256;  // only weir's occasional RTCP (and ICE/DTLS) comes back here
  ec.queue_depth = 256;
  engine_ = dp::make_udp_engine(*pool_, ec, /*prefer_mmsg=*/false, error);
  if (!engine_) return false;
  const auto local = dp::SocketAddress::parse(config_.local_ip, 0);
  if (!local) {
    *error = "bad local ip " + config_.local_ip;
    return false;
  }
  const int fd = dp::open_udp_socket(*local, error);
  if (fd < 0) return false;
  const uint16_t port = dp::socket_local_port(fd);
  const int index = engine_->add_socket(dp::UdpBinding{fd, {}}, error);
  if (index < 0) return false;
  socket_ = static_cast<uint32_t>(index);
  if (config_.webrtc) make_peer(*dp::SocketAddress::parse(config_.local_ip, port));
  return true;
}

void Sender::make_peer(const dp::SocketAddress& local) {
  WebRtcEndpointConfig wc = *config_.webrtc;
  wc.local = local;
  peer_ =
      std::make_unique<WebRtcEndpoint>(std::move(wc), static_cast<WebRtcEndpoint::Owner&>(*this));
}

bool Sender::start(std::string* error) {
  std::promise<std::string> ready;
  auto setup_result = ready.get_future();
  thread_ = std::thread([this, &ready] {
    std::string setup_error;
    const bool ok = setup(&setup_error);
    ready.set_value(ok ? std::string() : "sending socket: " + setup_error);
    if (ok) run();
  });
  *error = setup_result.get();
  if (error->empty()) return true;
  thread_.join();
  return false;
}

void Sender::stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

std::string Sender::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

void Sender::restart_ice(IceCredentials remote) {
  std::lock_guard lock(mutex_);
  restart_ = std::move(remote);
  restart_waiting_.store(true, std::memory_order_release);
}

void Sender::set_failed(std::string reason) {
  {
    std::lock_guard lock(mutex_);
    failure_ = std::move(reason);
  }
  link_.store(Link::failed, std::memory_order_release);
}

void Sender::send_datagram(const uint8_t* data, size_t len) {
  dp::PacketBuffer* b = pool_->alloc();
  if (b == nullptr) {
    ++stats_.no_buffer;
    return;
  }
  if (len > b->room()) {
    pool_->release(b);
    return;
  }
  std::memcpy(b->data(), data, len);
  b->len = static_cast<uint16_t>(len);
  dp::TxPacket tx{b, socket_, config_.remote};
  engine_->tx_burst(&tx, 1);
}

void Sender::on_srtp_keys(const dp::DtlsSrtpKeys& keys) {
  std::string error;
  auto& srtp = streams_.front()->srtp;
  srtp =
      dp::SrtpSession::create(keys.suite, dp::SrtpSession::Direction::outbound, keys.local, &error);
  if (!srtp) set_failed("SRTP from the DTLS keys: " + error);
}

// Hands ICE and DTLS to the endpoint, runs its timers and a restart the main thread asked
// for; weir's RTCP is discarded.
void Sender::serve_peer(const dp::RxPacket* rx, size_t n) {
  const uint64_t now = now_ms();
  for (size_t i = 0; i < n; ++i) {
    const DatagramKind kind = classify_datagram(rx[i].buf->data(), rx[i].buf->len);
    if (kind == DatagramKind::stun || kind == DatagramKind::dtls) {
      peer_->on_datagram(kind, rx[i].buf->data(), rx[i].buf->len, now);
    }
  }
  if (restart_waiting_.load(std::memory_order_acquire)) {
    std::optional<IceCredentials> credentials;
    {
      std::lock_guard lock(mutex_);
      credentials = std::move(restart_);
      restart_.reset();
      restart_waiting_.store(false, std::memory_order_relaxed);
    }
    if (credentials) peer_->restart_ice(std::move(*credentials), now);
  }
  if (peer_->next_due_ms() <= now) peer_->on_timer(now);
  restarts_completed_.store(peer_->stats().restarts_completed, std::memory_order_release);
}

bool Sender::handshake() {
  peer_->start(now_ms());
  const uint64_t give_up = now_ns() + kHandshakeTimeoutNs;
  dp::RxPacket rx[16];
  while (!stop_.load(std::memory_order_relaxed)) {
    if (peer_->state() == WebRtcEndpoint::State::connected && streams_.front()->srtp) return true;
    if (peer_->state() == WebRtcEndpoint::State::failed) {
      set_failed(peer_->failure());
      return false;
    }
    if (link_.load(std::memory_order_acquire) == Link::failed) return false;
    const uint64_t now = now_ns();
    if (now >= give_up) {
      set_failed(std::string("no DTLS-SRTP within the setup time (endpoint ") +
                 endpoint_state_name(peer_->state()) + ")");
      return false;
    }
    uint64_t wait_us = 10000;
    if (const uint64_t due = peer_->next_due_ms(); due != WebRtcEndpoint::kNever) {
      const uint64_t due_ns = due * kMsNs;
      wait_us = due_ns <= now ? 0 : std::min<uint64_t>((due_ns - now) / 1000 + 1, wait_us);
    }
    const size_t got = engine_->rx_burst(rx, 16, static_cast<uint32_t>(wait_us));
    serve_peer(rx, got);
    for (size_t i = 0; i < got; ++i) pool_->release(rx[i].buf);
  }
  return false;
}

void Sender::wait_for_release() {
  dp::RxPacket rx[16];
  while (!released_.load(std::memory_order_acquire) && !stop_.load(std::memory_order_relaxed)) {
    const size_t got = engine_->rx_burst(rx, 16, 10000);
    serve_peer(rx, got);
    for (size_t i = 0; i < got; ++i) pool_->release(rx[i].buf);
  }
}

void Sender::run() {
  if (peer_) {
    if (!handshake()) return;
    link_.store(Link::up, std::memory_order_release);
    wait_for_release();
  }
  pace();
}

void Sender::pace() {
  const uint64_t start = now_ns();
  // Stream i starts i/S of its packet interval late: S streams do not all fire at once.
  const uint64_t count = streams_.size();
  due_.clear();
  due_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Stream& st = *streams_[i];
    st.start_ns = start + i * (1000000000ull / st.config.stream.rate_pps) / count;
    due_.push_back(i);
  }
  const DueLater later{&streams_};
  std::make_heap(due_.begin(), due_.end(), later);
  dp::TxPacket burst[kMaxBurst];
  dp::RxPacket rx[16];
  while (!stop_.load(std::memory_order_relaxed)) {
    uint64_t wake = streams_[due_.front()]->deadline();
    if (peer_) wake = std::min(wake, now_ns() + kPeerWakeNs);
    sleep_until(wake);
    const uint64_t now = now_ns();
    size_t n = 0;
    while (streams_[due_.front()]->deadline() <= now) {
      std::pop_heap(due_.begin(), due_.end(), later);
      Stream& st = *streams_[due_.back()];
      const uint64_t k_before = st.k;
      n = write_due(st, now, burst, n);
      if (st.k - k_before > 1) ++stats_.late_bursts;
      std::push_heap(due_.begin(), due_.end(), later);
      if (n == kMaxBurst) {
        // A wake with every stream due may send many bursts: completions reaped in between.
        engine_->tx_burst(burst, n);
        n = 0;
        drain(rx, 16);
      }
    }
    if (n > 0) engine_->tx_burst(burst, n);
    drain(rx, 16);
  }
}

// Reaps send completions; ICE and DTLS go to the endpoint, weir's RTCP is discarded.
void Sender::drain(dp::RxPacket* rx, size_t max) {
  const size_t got = engine_->rx_burst(rx, max, 0);
  if (peer_) serve_peer(rx, got);
  for (size_t i = 0; i < got; ++i) pool_->release(rx[i].buf);
}

// Writes stream st's packets due by `now` into burst from index n, up to a full burst;
// returns the new fill. Its counter is published before the packets are handed over.
size_t Sender::write_due(Stream& st, uint64_t now, dp::TxPacket* burst, size_t n) {
  while (n < kMaxBurst && st.deadline() <= now) {
    dp::PacketBuffer* b = pool_->alloc();
    if (b == nullptr) {
      ++stats_.no_buffer;
      ++st.k;  // the packet counts as sent and lost: the deadline schedule stays exact
      continue;
    }
    size_t len = st.packetizer.write(st.k, now_ns(), b->data(), b->room());
    if (st.srtp && st.srtp->protect_rtp(b->data(), len, b->room()) != dp::SrtpStatus::ok) {
      ++stats_.protect_failures;
      pool_->release(b);
      ++st.k;
      continue;
    }
    b->len = static_cast<uint16_t>(len);
    burst[n++] = dp::TxPacket{b, socket_, st.config.remote};
    ++st.k;
  }
  st.next_counter.store(st.k, std::memory_order_release);
  return n;
}

}  // namespace weir::pktgen
