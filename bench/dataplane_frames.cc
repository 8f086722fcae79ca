#include "dataplane_frames.h"

#include <cstring>

#include "wire/byte_io.h"
#include "wire/inet_checksum.h"
#include "wire/ipv4_packet.h"
#include "wire/rtp_packet.h"
#include "wire/udp_datagram.h"

namespace weir::bench {
namespace {

// The VP8 payload (RFC 7741): descriptor S=1 PID 0, then a frame whose tag's P bit
// (byte 1, bit 0) says key frame (0) or not; the key frame start code follows, then a
// pattern. Only the P bit changes between packets.
std::vector<uint8_t> vp8_payload() {
  std::vector<uint8_t> p(kPayloadSize);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 13 + 7);
  p[0] = 0x10;
  p[1] = 0x00;
  p[4] = 0x9d, p[5] = 0x01, p[6] = 0x2a;
  return p;
}

}  // namespace

std::vector<uint8_t> master_key(dp::SrtpSuite suite, uint32_t seed) {
  std::vector<uint8_t> key(dp::srtp_master_length(suite));
  for (size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<uint8_t>((seed * 131 + i * 29 + (seed >> 8)) ^ 0x5a);
  return key;
}

ProducerFrames::ProducerFrames(dp::SrtpSuite suite, const wire::MacAddress& server_mac)
    : srtp_(dp::SrtpSession::create(suite, dp::SrtpSession::Direction::outbound,
                                    master_key(suite, 0), nullptr)) {
  wire::write_ethernet_header(ethernet_.data(), server_mac, kPeerMac, wire::kEtherTypeIpv4);
  const std::vector<uint8_t> payload = vp8_payload();
  rtp_.resize(kRtpHeaderSize);
  rtp_[0] = 0x80;
  rtp_[1] = 0x80 | kPayloadType;  // marker: the last (only) packet of its frame
  wire::store_be32(&rtp_[8], kProducerSsrc);
  rtp_.insert(rtp_.end(), payload.begin(), payload.end());
}

size_t ProducerFrames::build(uint8_t* out, size_t room) {
  if (!srtp_ || room < kHeadersSize + rtp_.size() + dp::SrtpSession::kMaxTrailer) return 0;
  uint8_t* rtp = out + kHeadersSize;
  std::memcpy(rtp, rtp_.data(), rtp_.size());
  wire::store_be16(rtp + 2, static_cast<uint16_t>(n_));
  wire::store_be32(rtp + 4, static_cast<uint32_t>(n_ * 3000));
  rtp[kRtpHeaderSize + 1] = n_ % 100 == 0 ? 0x00 : 0x01;  // P bit: key frame or not
  ++n_;
  size_t len = rtp_.size();
  if (srtp_->protect_rtp(rtp, len, room - kHeadersSize) != dp::SrtpStatus::ok) return 0;
  const auto udp_len = static_cast<uint16_t>(8 + len);
  std::memcpy(out, ethernet_.data(), ethernet_.size());
  wire::write_ipv4_header(out + 14, kPeerIp, kServerIp, wire::kIpProtoUdp, udp_len,
                          static_cast<uint16_t>(n_), 64, true);
  wire::write_udp_header(out + 34, kProducerPeerPort, kProducerServerPort,
                         static_cast<uint16_t>(len));
  wire::store_be16(out + 40, wire::udp_ipv4_checksum(kPeerIp, kServerIp, out + 34, udp_len));
  return kHeadersSize + len;
}

ForwardedFrames::ForwardedFrames(dp::SrtpSuite suite, uint32_t consumers,
                                 const wire::MacAddress& server_mac)
    : consumers_(consumers), server_mac_(server_mac), scratch_(2048), payload_(vp8_payload()) {
  srtp_.reserve(consumers);
  for (uint32_t i = 0; i < consumers; ++i)
    srtp_.push_back(dp::SrtpSession::create(suite, dp::SrtpSession::Direction::inbound,
                                            master_key(suite, 1 + i), nullptr));
}

TxKind ForwardedFrames::classify(const uint8_t* f, size_t len) const {
  if (len < kHeadersSize + kRtpHeaderSize || wire::load_be16(f + 12) != wire::kEtherTypeIpv4 ||
      f[14] != 0x45 || f[23] != wire::kIpProtoUdp)
    return TxKind::other;
  const uint16_t src_port = wire::load_be16(f + 34);
  if (src_port < consumer_server_port(0) || src_port >= consumer_server_port(consumers_))
    return TxKind::other;
  // RTP version 2 with the media PT; RTCP's packet types (200..206) never match it.
  if ((f[42] >> 6) != 2 || (f[43] & 0x7f) != kPayloadType) return TxKind::other;
  return TxKind::consumer_rtp;
}

bool ForwardedFrames::verify(const uint8_t* f, size_t len, std::string* why) {
  const auto eth = wire::parse_ethernet(f, len);
  if (!eth || eth->dst != kPeerMac || eth->src != server_mac_ ||
      eth->ether_type != wire::kEtherTypeIpv4) {
    *why = "Ethernet header: wrong addresses or type";
    return false;
  }
  wire::Ipv4View ip;
  const wire::Ipv4Error ip_error = wire::parse_ipv4(f + 14, len - 14, true, &ip);
  if (ip_error != wire::Ipv4Error::none) {
    *why = std::string("IPv4: ") + wire::ipv4_error_name(ip_error);
    return false;
  }
  if (ip.src != kServerIp || ip.dst != kPeerIp || ip.protocol != wire::kIpProtoUdp) {
    *why = "IPv4: wrong addresses or protocol";
    return false;
  }
  const uint8_t* l4 = f + 14 + ip.header_size;
  wire::UdpView udp;
  const wire::UdpError udp_error =
      wire::parse_udp_ipv4(l4, ip.total_length - ip.header_size, ip.src, ip.dst, true, &udp);
  if (udp_error != wire::UdpError::none) {
    *why = std::string("UDP: ") + wire::udp_error_name(udp_error);
    return false;
  }
  const uint32_t consumer = static_cast<uint32_t>(udp.src_port - consumer_server_port(0));
  if (udp.src_port < consumer_server_port(0) || consumer >= consumers_ ||
      udp.dst_port != consumer_peer_port(consumer)) {
    *why = "UDP: ports " + std::to_string(udp.src_port) + " -> " + std::to_string(udp.dst_port) +
           " are no consumer's";
    return false;
  }
  if (udp.payload_len > scratch_.size()) {
    *why = "UDP: datagram too long";
    return false;
  }
  std::memcpy(scratch_.data(), l4 + udp.payload_offset, udp.payload_len);
  size_t rtp_len = udp.payload_len;
  const dp::SrtpStatus s = srtp_[consumer]->unprotect_rtp(scratch_.data(), rtp_len);
  if (s != dp::SrtpStatus::ok) {
    *why = "SRTP unprotect with consumer " + std::to_string(consumer) +
           "'s key: " + dp::srtp_status_name(s);
    return false;
  }
  wire::RtpPacketView rtp;
  if (!wire::RtpPacketView::parse(scratch_.data(), rtp_len, rtp)) {
    *why = "RTP: does not parse";
    return false;
  }
  if (rtp.ssrc() != kConsumerSsrcBase + consumer || rtp.payload_type() != kPayloadType) {
    *why = "RTP: SSRC " + std::to_string(rtp.ssrc()) + " / PT " +
           std::to_string(rtp.payload_type()) + " for consumer " + std::to_string(consumer);
    return false;
  }
  if (rtp.payload_size() != payload_.size() || rtp.payload()[0] != payload_[0] ||
      std::memcmp(rtp.payload() + 2, payload_.data() + 2, payload_.size() - 2) != 0) {
    *why = "RTP: the payload is not the producer's";
    return false;
  }
  return true;
}

}  // namespace weir::bench
