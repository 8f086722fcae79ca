// The several-stream sender against real UDP sockets on loopback: every stream reaches its
// own remote with its SSRC, payload type and unbroken sequence numbers, each stream's
// counter says how many it sent, and the absolute deadlines keep the streams' counts in
// the ratio of their rates (whatever the machine's load: a late wake catches up).
#include "sender.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <thread>

#include "dataplane/udp_engine.h"
#include "wire/rtp_packet.h"

namespace weir::pktgen {
namespace {

class UdpSink {
 public:
  UdpSink() {
    std::string error;
    fd_ = dp::open_udp_socket(*dp::SocketAddress::parse("127.0.0.1", 0), &error);
    EXPECT_GE(fd_, 0) << error;
  }
  ~UdpSink() { close(fd_); }
  uint16_t port() const { return dp::socket_local_port(fd_); }
  // Every datagram waiting (the socket is non-blocking): ssrc -> sequence numbers.
  void drain(std::map<uint32_t, std::vector<uint16_t>>& out, std::map<uint32_t, uint8_t>& pt) {
    uint8_t buf[2048];
    for (;;) {
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return;
      wire::RtpPacketView v;
      ASSERT_TRUE(wire::RtpPacketView::parse(buf, static_cast<size_t>(n), v));
      out[v.ssrc()].push_back(v.sequence_number());
      pt[v.ssrc()] = v.payload_type();
    }
  }

 private:
  int fd_ = -1;
};

VideoStreamConfig stream(MediaKind kind, uint32_t ssrc, uint8_t pt, uint32_t rate) {
  VideoStreamConfig c;
  c.kind = kind;
  c.ssrc = ssrc;
  c.payload_type = pt;
  c.rate_pps = rate;
  c.payload_size = kind == MediaKind::audio ? 160 : 300;
  c.first_sequence = static_cast<uint16_t>(ssrc * 1000);
  return c;
}

TEST(Sender, SeveralStreamsAtTheirRates) {
  UdpSink first, second;
  SenderConfig sc;
  sc.local_ip = "127.0.0.1";
  const auto to_first = *dp::SocketAddress::parse("127.0.0.1", first.port());
  const auto to_second = *dp::SocketAddress::parse("127.0.0.1", second.port());
  sc.streams.push_back({to_first, {}, stream(MediaKind::audio, 11, 100, 50)});
  sc.streams.push_back({to_first, {}, stream(MediaKind::video, 12, 101, 100)});
  sc.streams.push_back({to_second, {}, stream(MediaKind::video, 13, 101, 200)});
  std::string error;
  auto sender = Sender::create(sc, &error);
  ASSERT_TRUE(sender) << error;
  ASSERT_EQ(sender->stream_count(), 3u);
  ASSERT_TRUE(sender->start(&error)) << error;
  std::map<uint32_t, std::vector<uint16_t>> seqs;
  std::map<uint32_t, uint8_t> pts;
  for (int i = 0; i < 30; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    first.drain(seqs, pts);
    second.drain(seqs, pts);
  }
  sender->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  first.drain(seqs, pts);
  second.drain(seqs, pts);

  const uint32_t ssrcs[3] = {11, 12, 13};
  uint64_t counts[3];
  for (size_t i = 0; i < 3; ++i) {
    counts[i] = sender->next_counter(i);
    const auto& got = seqs[ssrcs[i]];
    EXPECT_EQ(got.size(), counts[i]) << "stream " << i;
    for (size_t k = 0; k < got.size(); ++k) {
      ASSERT_EQ(got[k], static_cast<uint16_t>(ssrcs[i] * 1000 + k)) << "stream " << i;
    }
  }
  EXPECT_EQ(pts[11], 100);
  EXPECT_EQ(pts[12], 101);
  EXPECT_GT(counts[0], 0u);
  // Counts are functions of the time of the last wake: in the ratio of the rates, within
  // a packet or two (the phases are spread over an interval).
  EXPECT_LE(std::llabs(static_cast<long long>(counts[1]) - 2 * static_cast<long long>(counts[0])),
            2)
      << counts[0] << " " << counts[1];
  EXPECT_LE(std::llabs(static_cast<long long>(counts[2]) - 2 * static_cast<long long>(counts[1])),
            2)
      << counts[1] << " " << counts[2];
  EXPECT_EQ(sender->stats().no_buffer, 0u);
}

TEST(Sender, RefusesAStreamWithoutRate) {
  SenderConfig sc;
  sc.local_ip = "127.0.0.1";
  sc.streams.push_back(
      {*dp::SocketAddress::parse("127.0.0.1", 9), {}, stream(MediaKind::audio, 1, 100, 0)});
  std::string error;
  EXPECT_FALSE(Sender::create(sc, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace weir::pktgen
