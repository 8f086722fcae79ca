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

void sleep_until(uint64_t t_ns) {
  const timespec ts{static_cast<time_t>(t_ns / 1000000000ull),
                    static_cast<long>(t_ns % 1000000000ull)};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

}  // namespace

Sender::Sender(const SenderConfig& config)
    : config_(config), packetizer_(config.stream), pool_(1024) {}

Sender::~Sender() { stop(); }

std::unique_ptr<Sender> Sender::create(const SenderConfig& config, std::string* error) {
  std::unique_ptr<Sender> s(new Sender(config));
  if (config.suite && !config.webrtc) {
    s->srtp_ = dp::SrtpSession::create(*config.suite, dp::SrtpSession::Direction::outbound,
                                       config.key, error);
    if (!s->srtp_) return nullptr;
  }
  if (!config.webrtc) s->link_.store(Link::up, std::memory_order_release);
  return s;
}

bool Sender::setup(std::string* error) {
  dp::EngineConfig ec;
  ec.rx_buffers = 256;  // only weir's occasional RTCP (and ICE/DTLS) comes back here
  ec.queue_depth = 256;
  engine_ = dp::make_udp_engine(pool_, ec, /*prefer_mmsg=*/false, error);
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
  if (config_.webrtc) {
    WebRtcEndpointConfig wc = *config_.webrtc;
    wc.local = *dp::SocketAddress::parse(config_.local_ip, port);
    peer_ =
        std::make_unique<WebRtcEndpoint>(std::move(wc), static_cast<WebRtcEndpoint::Owner&>(*this));
  }
  return true;
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
  dp::PacketBuffer* b = pool_.alloc();
  if (b == nullptr) {
    ++stats_.no_buffer;
    return;
  }
  if (len > b->room()) {
    pool_.release(b);
    return;
  }
  std::memcpy(b->data(), data, len);
  b->len = static_cast<uint16_t>(len);
  dp::TxPacket tx{b, socket_, config_.remote};
  engine_->tx_burst(&tx, 1);
}

void Sender::on_srtp_keys(const dp::DtlsSrtpKeys& keys) {
  std::string error;
  srtp_ =
      dp::SrtpSession::create(keys.suite, dp::SrtpSession::Direction::outbound, keys.local, &error);
  if (!srtp_) set_failed("SRTP from the DTLS keys: " + error);
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
    if (peer_->state() == WebRtcEndpoint::State::connected && srtp_) return true;
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
    for (size_t i = 0; i < got; ++i) pool_.release(rx[i].buf);
  }
  return false;
}

void Sender::wait_for_release() {
  dp::RxPacket rx[16];
  while (!released_.load(std::memory_order_acquire) && !stop_.load(std::memory_order_relaxed)) {
    const size_t got = engine_->rx_burst(rx, 16, 10000);
    serve_peer(rx, got);
    for (size_t i = 0; i < got; ++i) pool_.release(rx[i].buf);
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
  const uint64_t rate = config_.stream.rate_pps;
  const uint64_t start = now_ns();
  auto deadline_of = [&](uint64_t k) { return start + k * 1000000000ull / rate; };
  dp::TxPacket burst[kMaxBurst];
  dp::RxPacket rx[16];
  uint64_t k = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    uint64_t wake = deadline_of(k);
    if (peer_) wake = std::min(wake, now_ns() + kPeerWakeNs);
    sleep_until(wake);
    const uint64_t now = now_ns();
    size_t n = 0;
    while (n < kMaxBurst && deadline_of(k) <= now) {
      dp::PacketBuffer* b = pool_.alloc();
      if (b == nullptr) {
        ++stats_.no_buffer;
        ++k;  // the packet counts as sent and lost: the deadline schedule stays exact
        continue;
      }
      size_t len = packetizer_.write(k, now_ns(), b->data(), b->room());
      if (srtp_ && srtp_->protect_rtp(b->data(), len, b->room()) != dp::SrtpStatus::ok) {
        ++stats_.protect_failures;
        pool_.release(b);
        ++k;
        continue;
      }
      b->len = static_cast<uint16_t>(len);
      burst[n++] = dp::TxPacket{b, socket_, config_.remote};
      ++k;
    }
    if (n > 1) ++stats_.late_bursts;
    next_counter_.store(k, std::memory_order_release);
    if (n > 0) engine_->tx_burst(burst, n);
    // Reaps send completions; ICE and DTLS go to the endpoint, weir's RTCP is discarded.
    const size_t got = engine_->rx_burst(rx, 16, 0);
    if (peer_) serve_peer(rx, got);
    for (size_t i = 0; i < got; ++i) pool_.release(rx[i].buf);
  }
}

}  // namespace weir::pktgen
