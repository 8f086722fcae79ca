// The frames of the dataplane benchmark: what the producer's endpoint sends the worker
// (Ethernet/IPv4/UDP with valid checksums around SRTP-protected VP8), and the check of
// what the worker sends its consumers (headers, checksums, SRTP with the consumer's key,
// SSRC and payload).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/srtp_session.h"
#include "wire/ethernet_frame.h"

namespace weir::bench {

// One subnet, two hosts: the worker's media address and the peer that is both the
// producer's endpoint and every consumer's.
constexpr uint32_t kServerIp = 0x0a000001;  // 10.0.0.1
constexpr uint32_t kPeerIp = 0x0a000002;    // 10.0.0.2
constexpr uint8_t kPrefixLength = 24;
const wire::MacAddress kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
constexpr uint16_t kProducerServerPort = 40000;  // consumer i: 40001 + i
constexpr uint16_t kProducerPeerPort = 5000;
constexpr uint16_t kConsumerPeerPort = 20000;  // consumer i: 20000 + i
constexpr uint32_t kProducerSsrc = 1111;
constexpr uint32_t kConsumerSsrcBase = 50000;  // consumer i: 50000 + i
constexpr uint8_t kPayloadType = 96;
constexpr size_t kPayloadSize = 1100;  // VP8 descriptor and frame included
constexpr size_t kRtpHeaderSize = 12;
constexpr size_t kHeadersSize = 14 + 20 + 8;  // Ethernet, IPv4, UDP

inline uint16_t consumer_server_port(uint32_t i) { return static_cast<uint16_t>(40001 + i); }
inline uint16_t consumer_peer_port(uint32_t i) { return static_cast<uint16_t>(20000 + i); }

// key || salt for a suite, different for every seed (producer: 0, consumer i: 1 + i), so
// that a packet protected for the wrong consumer fails its check.
std::vector<uint8_t> master_key(dp::SrtpSuite suite, uint32_t seed);

// Builds the producer's frames in sequence: packet n has RTP sequence number n (mod 2^16),
// timestamp 3000 n, the marker set (one packet per frame) and a key frame every 100.
class ProducerFrames {
 public:
  ProducerFrames(dp::SrtpSuite suite, const wire::MacAddress& server_mac);
  // Writes the next frame at out (room bytes). Returns its length, 0 if protect failed.
  size_t build(uint8_t* out, size_t room);
  uint64_t built() const { return n_; }

 private:
  std::unique_ptr<dp::SrtpSession> srtp_;
  std::array<uint8_t, 14> ethernet_{};
  std::vector<uint8_t> rtp_;  // the plaintext packet, header + payload
  uint64_t n_ = 0;
};

// What the generator makes of a frame the worker sent.
enum class TxKind : uint8_t { consumer_rtp, other };

class ForwardedFrames {
 public:
  ForwardedFrames(dp::SrtpSuite suite, uint32_t consumers, const wire::MacAddress& server_mac);
  // A cheap look at fixed offsets: an RTP packet to one of the consumers, or anything else
  // (RTCP, ARP, the producer's receiver reports).
  TxKind classify(const uint8_t* frame, size_t len) const;
  // The full check of a consumer_rtp frame; false with *why when anything is wrong. Uses
  // the consumer's receiving SRTP session, so per consumer calls go in sequence order.
  bool verify(const uint8_t* frame, size_t len, std::string* why);

 private:
  uint32_t consumers_;
  wire::MacAddress server_mac_;
  std::vector<std::unique_ptr<dp::SrtpSession>> srtp_;  // by consumer
  std::vector<uint8_t> scratch_;
  std::vector<uint8_t> payload_;  // what every payload holds after the VP8 frame tag's P bit
};

}  // namespace weir::bench
