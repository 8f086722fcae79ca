// IPv4 headers, UDP and ICMP echo: every error path of each parser on hand-built packets,
// the writers' output parsed back, and the in-place echo reply. Kernel-made frames are in
// net_captured_frames_test.cc.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "wire/byte_io.h"
#include "wire/icmp_message.h"
#include "wire/inet_checksum.h"
#include "wire/ipv4_packet.h"
#include "wire/udp_datagram.h"

namespace weir::wire {
namespace {

constexpr uint32_t kSrc = 0xC0000202;  // 192.0.2.2
constexpr uint32_t kDst = 0xC0000201;  // 192.0.2.1

// An IPv4/UDP packet with a 5-byte payload and both checksums, built by the writers.
std::vector<uint8_t> udp_packet() {
  std::vector<uint8_t> p(kIpv4HeaderSize + kUdpHeaderSize + 5);
  write_ipv4_header(p.data(), kSrc, kDst, kIpProtoUdp, kUdpHeaderSize + 5, 0x1aeb, 64, true);
  uint8_t* udp = p.data() + kIpv4HeaderSize;
  write_udp_header(udp, 40000, 5000, 5);
  std::memcpy(udp + kUdpHeaderSize, "hello", 5);
  store_be16(udp + 6, udp_ipv4_checksum(kSrc, kDst, udp, kUdpHeaderSize + 5));
  return p;
}

// The same packet's UDP part alone.
std::vector<uint8_t> udp_datagram() {
  const std::vector<uint8_t> p = udp_packet();
  return std::vector<uint8_t>(p.begin() + kIpv4HeaderSize, p.end());
}

void refill_header_checksum(std::vector<uint8_t>& p) {
  const size_t header_size = static_cast<size_t>(p[0] & 0x0F) * 4;
  store_be16(p.data() + 10, ipv4_header_checksum(p.data(), header_size));
}

TEST(Ipv4, WriterOutputParsesBack) {
  const std::vector<uint8_t> p = udp_packet();
  const uint8_t header[] = {0x45, 0x00, 0x00, 0x21, 0x1a, 0xeb, 0x40, 0x00, 0x40, 0x11};
  EXPECT_EQ(0, std::memcmp(p.data(), header, sizeof header));  // DF, no options
  Ipv4View v;
  ASSERT_EQ(parse_ipv4(p.data(), p.size(), true, &v), Ipv4Error::none);
  EXPECT_EQ(v.src, kSrc);
  EXPECT_EQ(v.dst, kDst);
  EXPECT_EQ(v.protocol, kIpProtoUdp);
  EXPECT_EQ(v.ttl, 64);
  EXPECT_EQ(v.id, 0x1aeb);
  EXPECT_EQ(v.header_size, 20u);
  EXPECT_EQ(v.total_length, p.size());
  // Without the checksum (offload fills it): the field stays 0 and only verification fails.
  std::vector<uint8_t> offload(20);
  write_ipv4_header(offload.data(), kSrc, kDst, kIpProtoUdp, 0, 7, 1, false);
  EXPECT_EQ(load_be16(offload.data() + 10), 0);
  EXPECT_EQ(parse_ipv4(offload.data(), offload.size(), false, &v), Ipv4Error::none);
  EXPECT_EQ(parse_ipv4(offload.data(), offload.size(), true, &v), Ipv4Error::bad_checksum);
}

TEST(Ipv4, EthernetPaddingAfterTheTotalLengthIsAllowed) {
  std::vector<uint8_t> p = udp_packet();
  const size_t total = p.size();
  p.resize(46, 0);  // a 60-byte frame's payload
  Ipv4View v;
  ASSERT_EQ(parse_ipv4(p.data(), p.size(), true, &v), Ipv4Error::none);
  EXPECT_EQ(v.total_length, total);
}

TEST(Ipv4, OptionsAreAcceptedAndSkipped) {
  // IHL 6: one 4-byte option word (router alert, RFC 2113) before the payload.
  std::vector<uint8_t> p = udp_packet();
  p.insert(p.begin() + 20, {0x94, 0x04, 0x00, 0x00});
  p[0] = 0x46;
  store_be16(p.data() + 2, static_cast<uint16_t>(p.size()));
  refill_header_checksum(p);
  Ipv4View v;
  ASSERT_EQ(parse_ipv4(p.data(), p.size(), true, &v), Ipv4Error::none);
  EXPECT_EQ(v.header_size, 24u);
  EXPECT_EQ(load_be16(p.data() + v.header_size), 40000);  // the UDP source port
}

TEST(Ipv4, RefusesEveryMalformation) {
  const std::vector<uint8_t> good = udp_packet();
  Ipv4View v;
  for (size_t n = 0; n < 20; ++n) {
    EXPECT_EQ(parse_ipv4(good.data(), n, true, &v), Ipv4Error::too_short) << n;
  }
  // Truncated inside the payload: the total length no longer fits.
  EXPECT_EQ(parse_ipv4(good.data(), good.size() - 1, true, &v), Ipv4Error::bad_total_length);

  auto check = [&](auto mutate, Ipv4Error want, const char* what) {
    std::vector<uint8_t> p = good;
    mutate(p);
    EXPECT_EQ(parse_ipv4(p.data(), p.size(), true, &v), want) << what;
  };
  check([](auto& p) { p[0] = 0x65; }, Ipv4Error::bad_version, "version 6");
  check([](auto& p) { p[0] = 0x05; }, Ipv4Error::bad_version, "version 0");
  check([](auto& p) { p[0] = 0x44; }, Ipv4Error::bad_header_length, "IHL 4");
  check([](auto& p) { p[0] = 0x40; }, Ipv4Error::bad_header_length, "IHL 0");
  check([](auto& p) { p[0] = 0x4F; }, Ipv4Error::bad_header_length, "IHL 15 (60 bytes) > 33");
  check(
      [](auto& p) {
        p[0] = 0x47;
        store_be16(p.data() + 2, 27);
      },
      Ipv4Error::bad_total_length, "total 27 < IHL 7's 28");
  check([](auto& p) { store_be16(p.data() + 2, 19); }, Ipv4Error::bad_total_length, "total 19");
  check([](auto& p) { store_be16(p.data() + 2, 0); }, Ipv4Error::bad_total_length, "total 0");
  check([](auto& p) { store_be16(p.data() + 2, 34); }, Ipv4Error::bad_total_length,
        "total one past the buffer");
  check([](auto& p) { p[8] ^= 1; }, Ipv4Error::bad_checksum, "TTL changed, checksum not");
  check([](auto& p) { p[10] ^= 0x80; }, Ipv4Error::bad_checksum, "checksum flipped");
  check([](auto& p) { p[16] ^= 0x01; }, Ipv4Error::bad_checksum, "destination changed");
  check(
      [](auto& p) {
        p[6] = 0x20;
        p[7] = 0;
        refill_header_checksum(p);
      },
      Ipv4Error::fragment, "MF (first fragment)");
  check(
      [](auto& p) {
        p[6] = 0x00;
        p[7] = 0x01;
        refill_header_checksum(p);
      },
      Ipv4Error::fragment, "offset 8 (last fragment)");
  check(
      [](auto& p) {
        p[6] = 0x50;
        p[7] = 0;
        refill_header_checksum(p);
      },
      Ipv4Error::fragment, "DF and MF");
  check(
      [](auto& p) {
        p[6] = 0x00;
        p[7] = 0;
        refill_header_checksum(p);
      },
      Ipv4Error::none, "DF clear, not a fragment");
  check(
      [](auto& p) {
        p[6] = 0x80;
        refill_header_checksum(p);
      },
      Ipv4Error::none, "the reserved flag is not a fragment");
}

TEST(Ipv4, LengthChecksComeBeforeFragmentAndChecksumChecks) {
  std::vector<uint8_t> p = udp_packet();
  p[6] = 0x20;    // MF
  p[10] ^= 0xFF;  // and a wrong checksum
  store_be16(p.data() + 2, 200);
  Ipv4View v;
  EXPECT_EQ(parse_ipv4(p.data(), p.size(), true, &v), Ipv4Error::bad_total_length);
  store_be16(p.data() + 2, static_cast<uint16_t>(p.size()));
  EXPECT_EQ(parse_ipv4(p.data(), p.size(), true, &v), Ipv4Error::bad_checksum);
  // Not verifying, the fragment is still refused; and out was filled for it.
  EXPECT_EQ(parse_ipv4(p.data(), p.size(), false, &v), Ipv4Error::fragment);
  EXPECT_EQ(v.src, kSrc);
}

TEST(Ipv4, ErrorNames) {
  EXPECT_STREQ(ipv4_error_name(Ipv4Error::none), "none");
  EXPECT_STREQ(ipv4_error_name(Ipv4Error::too_short), "too_short");
  EXPECT_STREQ(ipv4_error_name(Ipv4Error::bad_version), "bad_version");
  EXPECT_STREQ(ipv4_error_name(Ipv4Error::bad_header_length), "bad_header_length");
  EXPECT_STREQ(ipv4_error_name(Ipv4Error::bad_total_length), "bad_total_length");
  EXPECT_STREQ(ipv4_error_name(Ipv4Error::bad_checksum), "bad_checksum");
  EXPECT_STREQ(ipv4_error_name(Ipv4Error::fragment), "fragment");
  EXPECT_STREQ(ipv4_error_name(static_cast<Ipv4Error>(99)), "unknown");
}

TEST(Ipv4, AddressText) {
  EXPECT_EQ(parse_ipv4_address("192.0.2.1"), 0xC0000201u);
  EXPECT_EQ(parse_ipv4_address("0.0.0.0"), 0u);
  EXPECT_EQ(parse_ipv4_address("255.255.255.255"), 0xFFFFFFFFu);
  EXPECT_EQ(ipv4_address_to_string(0xC0000201), "192.0.2.1");
  EXPECT_EQ(ipv4_address_to_string(0), "0.0.0.0");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.04", "1..2.3", "1.2.3.4 ",
                          "a.b.c.d", "1.2.3.-4", "1234.1.1.1", "1.2.3.4."}) {
    EXPECT_FALSE(parse_ipv4_address(bad)) << bad;
  }
}

TEST(Udp, ParsesAndVerifies) {
  const std::vector<uint8_t> p = udp_packet();
  const uint8_t* udp = p.data() + kIpv4HeaderSize;
  const size_t ip_payload = p.size() - kIpv4HeaderSize;
  UdpView u;
  ASSERT_EQ(parse_udp_ipv4(udp, ip_payload, kSrc, kDst, true, &u), UdpError::none);
  EXPECT_EQ(u.src_port, 40000);
  EXPECT_EQ(u.dst_port, 5000);
  EXPECT_EQ(u.payload_offset, 8u);
  EXPECT_EQ(u.payload_len, 5u);
  EXPECT_EQ(0, std::memcmp(udp + u.payload_offset, "hello", 5));
  // Addresses are part of the checksum: a different source fails verification.
  EXPECT_EQ(parse_udp_ipv4(udp, ip_payload, kSrc + 1, kDst, true, &u), UdpError::bad_checksum);
  EXPECT_EQ(parse_udp_ipv4(udp, ip_payload, kSrc + 1, kDst, false, &u), UdpError::none);
}

TEST(Udp, RefusesEveryMalformation) {
  std::vector<uint8_t> d = udp_datagram();
  UdpView u;
  for (size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(parse_udp_ipv4(d.data(), n, kSrc, kDst, true, &u), UdpError::too_short) << n;
  }
  // The IP payload shorter than the length field says.
  EXPECT_EQ(parse_udp_ipv4(d.data(), d.size() - 1, kSrc, kDst, true, &u), UdpError::bad_length);
  for (uint16_t length : {0, 7, 14}) {
    std::vector<uint8_t> bad = d;
    store_be16(bad.data() + 4, length);
    EXPECT_EQ(parse_udp_ipv4(bad.data(), bad.size(), kSrc, kDst, false, &u), UdpError::bad_length)
        << length;
  }
  std::vector<uint8_t> corrupt = d;
  corrupt[10] ^= 0x01;
  EXPECT_EQ(parse_udp_ipv4(corrupt.data(), corrupt.size(), kSrc, kDst, true, &u),
            UdpError::bad_checksum);
  EXPECT_EQ(parse_udp_ipv4(corrupt.data(), corrupt.size(), kSrc, kDst, false, &u), UdpError::none);
}

TEST(Udp, ZeroChecksumMeansNoneOverIpv4) {
  std::vector<uint8_t> d = udp_datagram();
  d[6] = d[7] = 0;
  d[10] ^= 0xFF;  // even corrupted: nothing to check
  UdpView u;
  EXPECT_EQ(parse_udp_ipv4(d.data(), d.size(), kSrc, kDst, true, &u), UdpError::none);
}

TEST(Udp, LengthShorterThanTheIpPayloadEndsTheDatagram) {
  std::vector<uint8_t> d = udp_datagram();
  d.push_back(0xEE);  // a stray byte after the datagram
  UdpView u;
  ASSERT_EQ(parse_udp_ipv4(d.data(), d.size(), kSrc, kDst, true, &u), UdpError::none);
  EXPECT_EQ(u.payload_len, 5u);
}

TEST(Udp, HeaderOnlyDatagram) {
  uint8_t d[8];
  write_udp_header(d, 1, 2, 0);
  EXPECT_EQ(load_be16(d + 4), 8);
  EXPECT_EQ(load_be16(d + 6), 0);
  store_be16(d + 6, udp_ipv4_checksum(kSrc, kDst, d, 8));
  UdpView u;
  ASSERT_EQ(parse_udp_ipv4(d, 8, kSrc, kDst, true, &u), UdpError::none);
  EXPECT_EQ(u.payload_len, 0u);
}

TEST(Udp, ErrorNames) {
  EXPECT_STREQ(udp_error_name(UdpError::none), "none");
  EXPECT_STREQ(udp_error_name(UdpError::too_short), "too_short");
  EXPECT_STREQ(udp_error_name(UdpError::bad_length), "bad_length");
  EXPECT_STREQ(udp_error_name(UdpError::bad_checksum), "bad_checksum");
  EXPECT_STREQ(udp_error_name(static_cast<UdpError>(42)), "unknown");
}

TEST(IcmpEcho, WriteParseAndReply) {
  const uint8_t data[] = {'p', 'i', 'n', 'g', '!'};  // odd: the checksum pads it
  uint8_t msg[8 + sizeof data];
  write_icmp_echo(msg, kIcmpEchoRequest, 0x1234, 7, data, sizeof data);
  EXPECT_EQ(checksum_finish(checksum_partial(msg, sizeof msg)), 0);
  auto echo = parse_icmp_echo(msg, sizeof msg, true);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->type, kIcmpEchoRequest);
  EXPECT_EQ(echo->identifier, 0x1234);
  EXPECT_EQ(echo->sequence, 7);

  make_icmp_echo_reply(msg, sizeof msg);
  auto reply = parse_icmp_echo(msg, sizeof msg, true);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->type, kIcmpEchoReply);
  EXPECT_EQ(reply->identifier, 0x1234);
  EXPECT_EQ(reply->sequence, 7);
  // The incremental update equals writing the reply from scratch.
  uint8_t fresh[sizeof msg];
  write_icmp_echo(fresh, kIcmpEchoReply, 0x1234, 7, data, sizeof data);
  EXPECT_EQ(0, std::memcmp(msg, fresh, sizeof msg));

  // A reply (or anything else) is left alone.
  uint8_t copy[sizeof msg];
  std::memcpy(copy, msg, sizeof msg);
  make_icmp_echo_reply(msg, sizeof msg);
  EXPECT_EQ(0, std::memcmp(msg, copy, sizeof msg));
  make_icmp_echo_reply(msg, 3);
  EXPECT_EQ(0, std::memcmp(msg, copy, sizeof msg));
}

TEST(IcmpEcho, IncrementalReplyVerifiesOnRandomPayloads) {
  std::mt19937 rng(792);
  for (int round = 0; round < 500; ++round) {
    std::vector<uint8_t> data(rng() % 64);
    for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> msg(8 + data.size());
    write_icmp_echo(msg.data(), kIcmpEchoRequest, static_cast<uint16_t>(rng()),
                    static_cast<uint16_t>(rng()), data.data(), data.size());
    make_icmp_echo_reply(msg.data(), msg.size());
    ASSERT_TRUE(parse_icmp_echo(msg.data(), msg.size(), true)) << round;
    ASSERT_EQ(msg[0], kIcmpEchoReply);
  }
}

TEST(IcmpEcho, RefusesEveryMalformation) {
  uint8_t msg[12];
  const uint8_t data[] = {1, 2, 3, 4};
  write_icmp_echo(msg, kIcmpEchoRequest, 1, 2, data, sizeof data);
  for (size_t n = 0; n < 8; ++n) EXPECT_FALSE(parse_icmp_echo(msg, n, false)) << n;
  // Truncated: the checksum covers every byte.
  EXPECT_FALSE(parse_icmp_echo(msg, 11, true));
  EXPECT_TRUE(parse_icmp_echo(msg, 11, false));
  for (uint8_t type : {3, 5, 11, 13}) {  // unreachable, redirect, time exceeded, timestamp
    uint8_t bad[12];
    std::memcpy(bad, msg, sizeof msg);
    bad[0] = type;
    EXPECT_FALSE(parse_icmp_echo(bad, sizeof bad, false)) << int{type};
  }
  uint8_t coded[12];
  write_icmp_echo(coded, kIcmpEchoRequest, 1, 2, data, sizeof data);
  coded[1] = 1;
  EXPECT_FALSE(parse_icmp_echo(coded, sizeof coded, false));
  uint8_t corrupt[12];
  std::memcpy(corrupt, msg, sizeof msg);
  corrupt[9] ^= 0x40;
  EXPECT_FALSE(parse_icmp_echo(corrupt, sizeof corrupt, true));
  EXPECT_TRUE(parse_icmp_echo(corrupt, sizeof corrupt, false));
}

}  // namespace
}  // namespace weir::wire
