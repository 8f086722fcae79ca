#include "sender.h"

#include <ctime>

#include "base/clock.h"

namespace weir::pktgen {

Sender::Sender(const SenderConfig& config)
    : config_(config), packetizer_(config.stream), pool_(1024) {}

Sender::~Sender() { stop(); }

std::unique_ptr<Sender> Sender::create(const SenderConfig& config, std::string* error) {
  std::unique_ptr<Sender> s(new Sender(config));
  if (config.suite) {
    s->srtp_ = dp::SrtpSession::create(*config.suite, dp::SrtpSession::Direction::outbound,
                                       config.key, error);
    if (!s->srtp_) return nullptr;
  }
  return s;
}

bool Sender::setup(std::string* error) {
  dp::EngineConfig ec;
  ec.rx_buffers = 256;  // only weir's occasional RTCP comes back here
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
  const int index = engine_->add_socket(fd, error);
  if (index < 0) return false;
  socket_ = static_cast<uint32_t>(index);
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

void Sender::run() {
  const uint64_t rate = config_.stream.rate_pps;
  const uint64_t start = now_ns();
  auto deadline_of = [&](uint64_t k) { return start + k * 1000000000ull / rate; };
  dp::TxPacket burst[kMaxBurst];
  dp::RxPacket rx[16];
  uint64_t k = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    const uint64_t deadline = deadline_of(k);
    const timespec ts{static_cast<time_t>(deadline / 1000000000ull),
                      static_cast<long>(deadline % 1000000000ull)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
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
    // Reaps send completions and discards whatever weir sends back (RTCP).
    const size_t got = engine_->rx_burst(rx, 16, 0);
    for (size_t i = 0; i < got; ++i) pool_.release(rx[i].buf);
  }
}

}  // namespace weir::pktgen
