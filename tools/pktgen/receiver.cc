#include "receiver.h"

#include "base/clock.h"
#include "media_payload.h"
#include "wire/byte_io.h"
#include "wire/rtp_packet.h"

namespace weir::pktgen {
namespace {

constexpr uint32_t kNoConsumer = std::numeric_limits<uint32_t>::max();
// Every socket can hold a burst of weir's fan-out while pktgen is busy elsewhere.
constexpr uint32_t kRxBuffers = 8192;

}  // namespace

std::unique_ptr<Receiver> Receiver::create(const std::string& local_ip, uint32_t count,
                                           std::string* error) {
  std::unique_ptr<Receiver> r(new Receiver(2 * kRxBuffers));
  dp::EngineConfig ec;
  ec.rx_buffers = kRxBuffers;
  ec.queue_depth = 4096;
  r->engine_ = dp::make_udp_engine(r->pool_, ec, /*prefer_mmsg=*/false, error);
  if (!r->engine_) return nullptr;
  const auto local = dp::SocketAddress::parse(local_ip, 0);
  if (!local) {
    *error = "bad local ip " + local_ip;
    return nullptr;
  }
  r->ports_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const int fd = dp::open_udp_socket(*local, error);
    if (fd < 0) return nullptr;
    const uint16_t port = dp::socket_local_port(fd);
    const int index = r->engine_->add_socket(fd, error);
    if (index < 0) return nullptr;
    if (static_cast<size_t>(index) >= r->socket_to_consumer_.size()) {
      r->socket_to_consumer_.resize(static_cast<size_t>(index) + 1, kNoConsumer);
    }
    r->socket_to_consumer_[static_cast<size_t>(index)] = i;
    r->ports_.push_back(port);
  }
  return r;
}

bool Receiver::attach(const std::vector<ConsumerInfo>& consumers,
                      std::optional<dp::SrtpSuite> suite, uint32_t verify_sample,
                      std::string* error) {
  if (consumers.size() != ports_.size()) {
    *error = "consumer count does not match socket count";
    return false;
  }
  verify_sample_ = verify_sample == 0 ? 1 : verify_sample;
  consumers_.clear();
  consumers_.resize(consumers.size());
  for (size_t i = 0; i < consumers.size(); ++i) {
    consumers_[i].ssrc = consumers[i].ssrc;
    if (suite) {
      consumers_[i].srtp = dp::SrtpSession::create(*suite, dp::SrtpSession::Direction::inbound,
                                                   consumers[i].weir_key, error);
      if (!consumers_[i].srtp) {
        *error = "consumer " + consumers[i].consumer_id + ": " + *error;
        return false;
      }
    }
  }
  return true;
}

size_t Receiver::poll(uint32_t timeout_us) {
  dp::RxPacket rx[kBurst];
  const size_t n = engine_->rx_burst(rx, kBurst, timeout_us);
  if (n == 0) return 0;
  // One clock read per burst: packets of a burst arrived together.
  const uint64_t now = now_ns();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t index =
        rx[i].socket < socket_to_consumer_.size() ? socket_to_consumer_[rx[i].socket] : kNoConsumer;
    if (index == kNoConsumer || index >= consumers_.size()) {
      ++stats_.foreign;
    } else {
      handle(consumers_[index], *rx[i].buf, now);
    }
    pool_.release(rx[i].buf);
  }
  return n;
}

void Receiver::handle(Consumer& c, dp::PacketBuffer& buf, uint64_t now) {
  ++stats_.packets;
  uint8_t* data = buf.data();
  size_t len = buf.len;
  if (wire::classify_packet(data, len) != wire::PacketClass::rtp || len < kRtpHeaderSize) {
    ++stats_.not_rtp;
    return;
  }
  if (wire::load_be32(data + 8) != c.ssrc) {
    ++stats_.foreign;
    return;
  }
  const uint16_t seq = wire::load_be16(data + 2);
  // Until a verified packet has tied this consumer's sequence numbers to pktgen's
  // counter, every packet is verified.
  const bool verify = verify_sample_ == 1 || !c.have_offset || seq % verify_sample_ == 0;
  if (verify && c.srtp) {
    switch (c.srtp->unprotect_rtp(data, len)) {
      case dp::SrtpStatus::ok:
        break;
      case dp::SrtpStatus::auth_failed:
        ++stats_.auth_failed;
        return;
      case dp::SrtpStatus::replay:
        ++stats_.replayed;
        return;
      default:
        ++stats_.srtp_other;
        return;
    }
  }
  uint64_t counter = 0;
  uint64_t send_ns = 0;
  if (verify) {
    wire::RtpPacketView view;
    PayloadStamp stamp;
    if (!wire::RtpPacketView::parse(data, len, view) ||
        !read_stamp(view.payload(), view.payload_size(), stamp)) {
      ++stats_.malformed;
      return;
    }
    counter = stamp.counter;
    send_ns = stamp.send_ns;
  }
  uint64_t ext_seq = 0;
  const auto verdict = c.sequence.on_packet(seq, ext_seq);
  if (verify) {
    ++stats_.verified;
    c.counter_offset = static_cast<int64_t>(counter) - static_cast<int64_t>(ext_seq);
    c.have_offset = true;
  } else {
    ++stats_.unverified;
    counter = static_cast<uint64_t>(static_cast<int64_t>(ext_seq) + c.counter_offset);
  }
  if (!c.seen) {
    c.seen = true;
    ++consumers_seen_;
  }
  if (counter > c.highest_counter) c.highest_counter = counter;
  if (verdict == SequenceTracker::Verdict::late) {
    ++stats_.late;
    return;
  }
  if (counter >= window_begin_ && counter < window_end_) {
    ++window_forwarded_;
    if (verify) latency_.record(now > send_ns ? (now - send_ns) / 1000 : 0);
  }
}

bool Receiver::all_reached(uint64_t counter) const {
  for (const Consumer& c : consumers_) {
    if (!c.seen || c.highest_counter < counter) return false;
  }
  return true;
}

uint64_t Receiver::gaps() const {
  uint64_t n = 0;
  for (const Consumer& c : consumers_) n += c.sequence.gaps();
  return n;
}

uint64_t Receiver::missing() const {
  uint64_t n = 0;
  for (const Consumer& c : consumers_) n += c.sequence.missing();
  return n;
}

}  // namespace weir::pktgen
