#include "receiver.h"

#include <algorithm>
#include <cstring>

#include "base/clock.h"
#include "media_payload.h"
#include "srtp_keys.h"
#include "wire/byte_io.h"
#include "wire/rtcp_receiver_report.h"
#include "wire/rtcp_sdes.h"
#include "wire/rtp_packet.h"

namespace weir::pktgen {
namespace {

constexpr uint32_t kNoConsumer = std::numeric_limits<uint32_t>::max();
// Every socket can hold a burst of weir's fan-out while pktgen is busy elsewhere.
constexpr uint32_t kRxBuffers = 8192;
constexpr char kReportCname[] = "pktgen";

}  // namespace

std::unique_ptr<Receiver> Receiver::create(const std::string& local_ip, uint32_t count,
                                           std::string* error) {
  auto pool = std::make_unique<dp::PacketPool>(2 * kRxBuffers);
  dp::EngineConfig ec;
  ec.rx_buffers = kRxBuffers;
  ec.queue_depth = 4096;
  auto engine = dp::make_udp_engine(*pool, ec, /*prefer_mmsg=*/false, error);
  if (!engine) return nullptr;
  std::unique_ptr<Receiver> r(new Receiver(std::move(pool), std::move(engine)));
  const auto local = dp::SocketAddress::parse(local_ip, 0);
  if (!local) {
    *error = "bad local ip " + local_ip;
    return nullptr;
  }
  r->ports_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const int fd = dp::open_udp_socket(*local, error);
    if (fd < 0) return nullptr;
    if (!r->add_socket(i, dp::UdpBinding{fd, {}}, dp::socket_local_port(fd), error)) {
      return nullptr;
    }
  }
  return r;
}

std::unique_ptr<Receiver> Receiver::create(DpdkMedia& media, uint32_t count, uint16_t first_port,
                                           std::string* error) {
  if (first_port == 0 || first_port + uint64_t{count} - 1 > 65535) {
    *error = "dpdk: " + std::to_string(count) + " ports from " + std::to_string(first_port) +
             " do not fit";
    return nullptr;
  }
  std::unique_ptr<Receiver> r(new Receiver(media.pool(), media.engine()));
  r->sender_socket_ = media.sender_socket();
  r->media_ = &media;
  r->ports_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const auto port = static_cast<uint16_t>(first_port + i);
    if (!r->add_socket(i, media.binding(port), port, error)) return nullptr;
  }
  return r;
}

bool Receiver::add_socket(uint32_t consumer, const dp::UdpBinding& binding, uint16_t port,
                          std::string* error) {
  const int index = engine_->add_socket(binding, error);
  if (index < 0) return false;
  if (static_cast<size_t>(index) >= socket_to_consumer_.size()) {
    socket_to_consumer_.resize(static_cast<size_t>(index) + 1, kNoConsumer);
  }
  socket_to_consumer_[static_cast<size_t>(index)] = consumer;
  consumer_socket_.push_back(static_cast<uint32_t>(index));
  ports_.push_back(port);
  return true;
}

bool Receiver::arm(const std::vector<ConsumerInfo>& consumers, uint32_t verify_sample,
                   std::string* error) {
  const bool own_sockets =
      std::all_of(consumers.begin(), consumers.end(),
                  [](const ConsumerInfo& ci) { return ci.socket == ConsumerInfo::kOwnSocket; });
  if (own_sockets && consumers.size() != ports_.size()) {
    *error = "consumer count does not match socket count";
    return false;
  }
  verify_sample_ = verify_sample == 0 ? 1 : verify_sample;
  consumers_.clear();
  consumers_.resize(consumers.size());
  std::fill(socket_to_consumer_.begin(), socket_to_consumer_.end(), kNoConsumer);
  uint32_t streams = 1;
  // Consumers sharing a socket form a chain from socket_to_consumer_, in the given order.
  std::vector<uint32_t> last_on_socket(socket_to_consumer_.size(), kNoConsumer);
  for (size_t i = 0; i < consumers.size(); ++i) {
    const uint32_t port_index = consumers[i].socket == ConsumerInfo::kOwnSocket
                                    ? static_cast<uint32_t>(i)
                                    : consumers[i].socket;
    if (port_index >= consumer_socket_.size()) {
      *error = "consumer " + consumers[i].consumer_id + " on socket " + std::to_string(port_index) +
               " of " + std::to_string(consumer_socket_.size());
      return false;
    }
    const uint32_t socket = consumer_socket_[port_index];
    Consumer& c = consumers_[i];
    c.ssrc = consumers[i].ssrc;
    c.socket = socket;
    c.stream = consumers[i].stream;
    c.next_on_socket = kNoConsumer;
    streams = std::max(streams, c.stream + 1);
    const uint32_t index = static_cast<uint32_t>(i);
    if (last_on_socket[socket] == kNoConsumer) {
      socket_to_consumer_[socket] = index;
    } else {
      for (uint32_t o = socket_to_consumer_[socket]; o != kNoConsumer;
           o = consumers_[o].next_on_socket) {
        if (consumers_[o].ssrc == c.ssrc) {
          *error = "two consumers with SSRC " + std::to_string(c.ssrc) + " on one socket";
          return false;
        }
      }
      consumers_[last_on_socket[socket]].next_on_socket = index;
    }
    last_on_socket[socket] = index;
  }
  window_begin_.assign(streams, std::numeric_limits<uint64_t>::max());
  window_end_.assign(streams, std::numeric_limits<uint64_t>::max());
  return true;
}

bool Receiver::attach(const std::vector<ConsumerInfo>& consumers,
                      std::optional<dp::SrtpSuite> suite, uint32_t verify_sample,
                      std::string* error) {
  if (!arm(consumers, verify_sample, error)) return false;
  for (size_t i = 0; i < consumers.size(); ++i) {
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

bool Receiver::attach_webrtc(const std::vector<ConsumerInfo>& consumers,
                             const std::vector<dp::SocketAddress>& remotes, uint32_t verify_sample,
                             ControlSink& sink, std::string* error) {
  if (!arm(consumers, verify_sample, error)) return false;
  if (ports_.size() != consumers.size()) {
    *error = "WebRTC consumers each need a socket of their own";
    return false;
  }
  if (remotes.size() != consumers.size()) {
    *error = "remote count does not match consumer count";
    return false;
  }
  control_ = &sink;
  for (size_t i = 0; i < consumers.size(); ++i) {
    consumers_[i].webrtc = true;
    consumers_[i].remote = remotes[i];
    consumers_[i].report_ssrc = random_u32() | 1u;
    consumers_[i].mid = consumers[i].mid;
    consumers_[i].mid_extension_id = consumers[i].mid_extension_id;
  }
  return true;
}

bool Receiver::set_keys(uint32_t consumer, const dp::DtlsSrtpKeys& keys, std::string* error) {
  Consumer& c = consumers_.at(consumer);
  auto in =
      dp::SrtpSession::create(keys.suite, dp::SrtpSession::Direction::inbound, keys.remote, error);
  if (!in) return false;
  auto out =
      dp::SrtpSession::create(keys.suite, dp::SrtpSession::Direction::outbound, keys.local, error);
  if (!out) return false;
  c.srtp = std::move(in);
  c.srtcp_out = std::move(out);
  return true;
}

bool Receiver::send(uint32_t consumer, const uint8_t* data, size_t len) {
  const Consumer& c = consumers_.at(consumer);
  dp::PacketBuffer* b = pool_->alloc();
  if (b == nullptr) return false;
  if (len > b->room()) {
    pool_->release(b);
    return false;
  }
  std::memcpy(b->data(), data, len);
  b->len = static_cast<uint16_t>(len);
  dp::TxPacket tx{b, c.socket, c.remote};
  engine_->tx_burst(&tx, 1);
  return true;
}

void Receiver::set_measured(uint32_t consumer, bool measured) {
  Consumer& c = consumers_.at(consumer);
  if (c.measured == measured) return;
  if (c.seen) measured ? ++consumers_seen_ : --consumers_seen_;
  c.measured = measured;
}

void Receiver::set_ignoring(uint32_t consumer, bool ignoring) {
  consumers_.at(consumer).ignoring = ignoring;
}

size_t Receiver::write_report(Consumer& c, uint8_t* out, size_t capacity) {
  wire::RtcpReceptionReport block;
  block.ssrc = c.ssrc;
  block.cumulative_lost = static_cast<int32_t>(std::min<uint64_t>(c.sequence.missing(), 0x7FFFFF));
  block.extended_highest_sequence = static_cast<uint32_t>(c.sequence.highest());
  // Capacity minus the SRTCP trailer: protect needs the room.
  const size_t room = capacity - dp::SrtpSession::kMaxTrailer;
  size_t len = wire::write_rtcp_receiver_report(out, room, c.report_ssrc, std::span(&block, 1));
  if (len == 0) return 0;
  const size_t sdes =
      wire::write_rtcp_sdes_cname(out + len, room - len, c.report_ssrc, kReportCname);
  if (sdes == 0) return 0;
  len += sdes;
  if (c.srtcp_out->protect_rtcp(out, len, capacity) != dp::SrtpStatus::ok) return 0;
  return len;
}

void Receiver::send_due_reports(uint64_t now_ns) {
  if (report_interval_ns_ == 0 || now_ns < next_report_ns_) return;
  next_report_ns_ = now_ns + report_interval_ns_;
  dp::TxPacket batch[kBurst];
  size_t n = 0;
  for (Consumer& c : consumers_) {
    if (!c.srtcp_out || c.ignoring || !c.sequence.started()) continue;
    dp::PacketBuffer* b = pool_->alloc();
    if (b == nullptr) {
      ++stats_.report_failures;
      continue;
    }
    const size_t len = write_report(c, b->data(), b->room());
    if (len == 0) {
      ++stats_.report_failures;
      pool_->release(b);
      continue;
    }
    b->len = static_cast<uint16_t>(len);
    batch[n++] = dp::TxPacket{b, c.socket, c.remote};
    ++stats_.reports_sent;
    if (n == kBurst) {
      engine_->tx_burst(batch, n);
      n = 0;
    }
  }
  if (n > 0) engine_->tx_burst(batch, n);
}

size_t Receiver::poll(uint32_t timeout_us) {
  dp::RxPacket rx[kBurst];
  const size_t n = engine_->rx_burst(rx, kBurst, timeout_us);
  if (n == 0) return 0;
  // One clock read per burst: packets of a burst arrived together.
  const uint64_t now = now_ns();
  for (size_t i = 0; i < n; ++i) {
    uint32_t index =
        rx[i].socket < socket_to_consumer_.size() ? socket_to_consumer_[rx[i].socket] : kNoConsumer;
    if (index < consumers_.size() && consumers_[index].next_on_socket != kNoConsumer) {
      index = consumer_by_ssrc(index, *rx[i].buf);
    }
    if (rx[i].socket == sender_socket_) {
      const DatagramKind kind = classify_datagram(rx[i].buf->data(), rx[i].buf->len);
      if (kind == DatagramKind::stun || kind == DatagramKind::dtls) {
        media_->return_to_sender(rx[i]);
      } else {
        ++stats_.to_sender;
      }
    } else if (index == kNoConsumer || index >= consumers_.size()) {
      ++stats_.foreign;
    } else {
      handle(index, consumers_[index], *rx[i].buf, now);
    }
    pool_->release(rx[i].buf);
  }
  return n;
}

// The consumer of the chain from `first` whose SSRC the packet has; `first` when none has
// (handle() then counts it as foreign or not RTP).
uint32_t Receiver::consumer_by_ssrc(uint32_t first, const dp::PacketBuffer& buf) const {
  if (buf.len < kRtpHeaderSize) return first;
  const uint32_t ssrc = wire::load_be32(buf.data() + 8);
  for (uint32_t i = first; i != kNoConsumer; i = consumers_[i].next_on_socket) {
    if (consumers_[i].ssrc == ssrc) return i;
  }
  return first;
}

void Receiver::handle(uint32_t index, Consumer& c, dp::PacketBuffer& buf, uint64_t now) {
  ++stats_.packets;
  uint8_t* data = buf.data();
  size_t len = buf.len;
  if (c.webrtc) {
    if (c.ignoring) {
      ++stats_.ignored;
      return;
    }
    const DatagramKind kind = classify_datagram(data, len);
    if (kind == DatagramKind::stun || kind == DatagramKind::dtls) {
      ++stats_.control;
      control_->on_control_datagram(index, kind, data, len);
      return;
    }
    if (kind == DatagramKind::srtp && !c.srtp) {
      ++stats_.before_keys;
      return;
    }
  }
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
    if (c.mid_extension_id != 0) {
      // A browser routes by MID: a WebRTC packet without the right one is as good as lost.
      const uint8_t* value = nullptr;
      size_t value_len = 0;
      if (!view.find_extension(c.mid_extension_id, value, value_len) ||
          std::string_view(reinterpret_cast<const char*>(value), value_len) != c.mid) {
        ++stats_.mid_mismatch;
        return;
      }
    }
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
    if (c.measured) ++consumers_seen_;
  }
  if (counter > c.highest_counter) c.highest_counter = counter;
  if (verdict == SequenceTracker::Verdict::late) {
    ++stats_.late;
    return;
  }
  ++c.received;
  if (counter >= window_begin_[c.stream] && counter < window_end_[c.stream]) {
    ++c.window_forwarded;
    if (!c.measured) return;
    ++window_forwarded_;
    if (verify) latency_.record(now > send_ns ? (now - send_ns) / 1000 : 0);
  }
}

bool Receiver::all_reached(uint64_t counter) const {
  for (const Consumer& c : consumers_) {
    if (c.measured && (!c.seen || c.highest_counter < counter)) return false;
  }
  return true;
}

bool Receiver::all_reached_ends(const std::vector<uint64_t>& ends) const {
  for (const Consumer& c : consumers_) {
    const uint64_t end = ends.at(c.stream);
    if (c.measured && end > 0 && (!c.seen || c.highest_counter + 1 < end)) return false;
  }
  return true;
}

uint64_t Receiver::gaps() const {
  uint64_t n = 0;
  for (const Consumer& c : consumers_) {
    if (c.measured) n += c.sequence.gaps();
  }
  return n;
}

uint64_t Receiver::missing() const {
  uint64_t n = 0;
  for (const Consumer& c : consumers_) {
    if (c.measured) n += c.sequence.missing();
  }
  return n;
}

}  // namespace weir::pktgen
