// Both UDP engines against real sockets on 127.0.0.1 and ::1.
#include "dataplane/udp_engine.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "io_test_support.h"

namespace weir::dp {
namespace {

using testing::io_uring_usable;
using testing::local_address;
using testing::loopback;
using testing::make_packet;
using testing::reap_sends;
using testing::receive;
using testing::recv_one;
using testing::send_to;

EngineConfig small_config() {
  EngineConfig c;
  c.rx_buffers = 256;
  c.queue_depth = 256;
  return c;
}

class EngineTest : public ::testing::TestWithParam<const char*> {
 protected:
  bool uring() const { return std::string(GetParam()) == "io_uring"; }

  void SetUp() override {
    if (uring() && !io_uring_usable()) GTEST_SKIP() << "this kernel refuses io_uring";
  }

  std::unique_ptr<UdpEngine> make(PacketPool& pool, const EngineConfig& config = small_config()) {
    std::string error;
    auto e = uring() ? make_uring_engine(pool, config, &error)
                     : make_mmsg_engine(pool, config, &error);
    EXPECT_NE(e, nullptr) << error;
    if (e) {
      EXPECT_STREQ(e->name(), GetParam());
    }
    return e;
  }

  // Opens a loopback socket, hands it to the engine, and returns its index and address.
  uint32_t add(UdpEngine& engine, bool v6, SocketAddress* addr) {
    std::string error;
    const int fd = open_udp_socket(loopback(v6), &error);
    EXPECT_GE(fd, 0) << error;
    *addr = local_address(fd);
    const int index = engine.add_socket(UdpBinding{fd, {}}, &error);
    EXPECT_GE(index, 0) << error;
    return static_cast<uint32_t>(index);
  }

  // A sender outside the engine; closed by the test.
  static int plain_socket(bool v6) {
    std::string error;
    const int fd = open_udp_socket(loopback(v6), &error);
    EXPECT_GE(fd, 0) << error;
    return fd;
  }
};

std::string payload_for(int sender, int receiver, int seq) {
  std::string p = "s" + std::to_string(sender) + " r" + std::to_string(receiver) + " #" +
                  std::to_string(seq) + " ";
  // Lengths from 12 to ~1200 bytes, with content that depends on every field.
  const size_t pad = static_cast<size_t>((seq * 37 + sender * 11 + receiver * 5) % 1190);
  for (size_t i = 0; i < pad; ++i) p.push_back(static_cast<char>('a' + (i + seq + sender) % 26));
  return p;
}

TEST_P(EngineTest, ManySendersAllDatagramsArriveIntact) {
  for (bool v6 : {false, true}) {
    SCOPED_TRACE(v6 ? "IPv6" : "IPv4");
    PacketPool pool(1024);
    auto engine = make(pool);
    ASSERT_NE(engine, nullptr);
    constexpr int kReceivers = 2, kSenders = 4, kRounds = 10, kPerRound = 20;
    uint32_t index[kReceivers];
    SocketAddress addr[kReceivers];
    for (int r = 0; r < kReceivers; ++r) index[r] = add(*engine, v6, &addr[r]);
    int senders[kSenders];
    SocketAddress sender_addr[kSenders];
    for (int s = 0; s < kSenders; ++s) {
      senders[s] = plain_socket(v6);
      sender_addr[s] = local_address(senders[s]);
    }
    const uint32_t start_available = pool.available();

    std::map<std::string, std::pair<uint32_t, SocketAddress>> expected;  // payload -> where
    size_t received = 0;
    for (int round = 0; round < kRounds; ++round) {
      // Rounds keep the socket queues short so the kernel never has to drop.
      for (int s = 0; s < kSenders; ++s)
        for (int r = 0; r < kReceivers; ++r)
          for (int i = 0; i < kPerRound; ++i) {
            const std::string p = payload_for(s, r, round * kPerRound + i);
            expected[p] = {index[r], sender_addr[s]};
            ASSERT_TRUE(send_to(senders[s], addr[r], p));
          }
      const size_t want = static_cast<size_t>(kSenders) * kReceivers * kPerRound;
      auto got = receive(*engine, pool, want);
      ASSERT_EQ(got.size(), want) << "round " << round;
      for (const auto& g : got) {
        auto it = expected.find(g.payload);
        ASSERT_NE(it, expected.end()) << "unexpected or corrupted payload of " << g.payload.size()
                                      << " bytes";
        EXPECT_EQ(g.socket, it->second.first);
        EXPECT_EQ(g.from, it->second.second) << g.from.to_string();
        EXPECT_EQ(g.headroom, pool.headroom());
        expected.erase(it);
        ++received;
      }
    }
    EXPECT_TRUE(expected.empty());
    EXPECT_EQ(engine->stats().rx_packets, received);
    EXPECT_EQ(engine->stats().rx_truncated, 0u);
    EXPECT_EQ(pool.available(), start_available);
    for (int fd : senders) close(fd);
    engine.reset();
    EXPECT_EQ(pool.available(), pool.count());
  }
}

TEST_P(EngineTest, BurstOf64IsOneSubmit) {
  PacketPool pool(1024);
  auto engine = make(pool);
  ASSERT_NE(engine, nullptr);
  SocketAddress a;
  const uint32_t sock = add(*engine, false, &a);
  const int peer = plain_socket(false);
  const SocketAddress peer_addr = local_address(peer);
  const uint32_t start_available = pool.available();

  TxPacket tx[64];
  for (int i = 0; i < 64; ++i) {
    tx[i].buf = make_packet(pool, "burst " + std::to_string(i));
    ASSERT_NE(tx[i].buf, nullptr);
    tx[i].socket = sock;
    tx[i].to = peer_addr;
  }
  const uint64_t submits_before = engine->stats().submits;
  engine->tx_burst(tx, 64);
  EXPECT_EQ(engine->stats().submits - submits_before, 1u);

  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    const std::string p = recv_one(peer);
    ASSERT_FALSE(p.empty()) << "only " << i << " of 64 arrived";
    seen.insert(p);
  }
  for (int i = 0; i < 64; ++i) EXPECT_TRUE(seen.count("burst " + std::to_string(i)));
  reap_sends(*engine, pool, 64);
  EXPECT_EQ(engine->stats().tx_packets, 64u);
  EXPECT_EQ(engine->stats().tx_errors, 0u);
  EXPECT_EQ(pool.available(), start_available);
  close(peer);
  engine.reset();
  EXPECT_EQ(pool.available(), pool.count());
}

TEST_P(EngineTest, SendsAreGroupedPerSocket) {
  PacketPool pool(1024);
  auto engine = make(pool);
  ASSERT_NE(engine, nullptr);
  SocketAddress a, b;
  const uint32_t sa = add(*engine, false, &a);
  const uint32_t sb = add(*engine, false, &b);
  const int peer = plain_socket(false);
  const SocketAddress peer_addr = local_address(peer);

  // Runs: 10 via a, 10 via b, 10 via a.
  TxPacket tx[30];
  for (int i = 0; i < 30; ++i) {
    tx[i].buf = make_packet(pool, "group " + std::to_string(i));
    ASSERT_NE(tx[i].buf, nullptr);
    tx[i].socket = (i / 10 == 1) ? sb : sa;
    tx[i].to = peer_addr;
  }
  engine->tx_burst(tx, 30);
  EXPECT_EQ(engine->stats().submits, uring() ? 1u : 3u);
  std::map<uint16_t, int> by_port;
  for (int i = 0; i < 30; ++i) {
    pollfd p{peer, POLLIN, 0};
    ASSERT_GT(testing::poll_retrying(&p, 1, 2000), 0);
    char buf[64];
    SocketAddress from;
    socklen_t len = sizeof from.u;
    ASSERT_GT(recvfrom(peer, buf, sizeof buf, 0, &from.u.sa, &len), 0);
    ++by_port[from.port()];
  }
  EXPECT_EQ(by_port[a.port()], 20);
  EXPECT_EQ(by_port[b.port()], 10);
  reap_sends(*engine, pool, 30);
  EXPECT_EQ(engine->stats().tx_packets, 30u);
  close(peer);
  engine.reset();
  EXPECT_EQ(pool.available(), pool.count());
}

TEST_P(EngineTest, RemovedSocketStopsAndReusedIndexGetsNoStaleData) {
  PacketPool pool(1024);
  auto engine = make(pool);
  ASSERT_NE(engine, nullptr);
  SocketAddress old_addr;
  const uint32_t old_index = add(*engine, false, &old_addr);
  SocketAddress keep_addr;
  const uint32_t keep_index = add(*engine, false, &keep_addr);
  const int sender = plain_socket(false);

  // Datagrams that reach the old socket but are not collected before it goes away.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(send_to(sender, old_addr, "old " + std::to_string(i)));
  engine->remove_socket(old_index);
  for (int i = 0; i < 5; ++i) send_to(sender, old_addr, "after removal");

  SocketAddress new_addr;
  const uint32_t new_index = add(*engine, false, &new_addr);
  EXPECT_EQ(new_index, old_index) << "indexes are dense and reused";
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(send_to(sender, new_addr, "new " + std::to_string(i)));
  ASSERT_TRUE(send_to(sender, keep_addr, "keep"));

  auto got = receive(*engine, pool, 11);
  // A few more calls: anything stale still in flight would show up here.
  auto extra = receive(*engine, pool, 1000, 10);
  got.insert(got.end(), extra.begin(), extra.end());
  ASSERT_EQ(got.size(), 11u);
  int fresh = 0;
  for (const auto& g : got) {
    if (g.payload == "keep") {
      EXPECT_EQ(g.socket, keep_index);
      continue;
    }
    EXPECT_EQ(g.payload.rfind("new ", 0), 0u) << "stale datagram delivered: " << g.payload;
    EXPECT_EQ(g.socket, new_index);
    ++fresh;
  }
  EXPECT_EQ(fresh, 10);
  close(sender);
  reap_sends(*engine, pool, 0);
  engine.reset();
  EXPECT_EQ(pool.available(), pool.count()) << "buffers of the removed socket leaked";
}

TEST_P(EngineTest, WakeInterruptsLongWait) {
  PacketPool pool(512);
  auto engine = make(pool);
  ASSERT_NE(engine, nullptr);
  SocketAddress a;
  add(*engine, false, &a);
  RxPacket rx[8];
  // Drain whatever setup produced (nothing is expected) before the real wait.
  engine->rx_burst(rx, 8, 0);

  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    engine->wake();
  });
  const auto start = std::chrono::steady_clock::now();
  const size_t n = engine->rx_burst(rx, 8, 5'000'000);
  const auto waited = std::chrono::steady_clock::now() - start;
  waker.join();
  EXPECT_EQ(n, 0u);
  EXPECT_LT(waited, std::chrono::seconds(5)) << "wake() did not end the wait";

  // A wake that comes before the wait also ends it.
  engine->wake();
  const auto start2 = std::chrono::steady_clock::now();
  engine->rx_burst(rx, 8, 5'000'000);
  EXPECT_LT(std::chrono::steady_clock::now() - start2, std::chrono::seconds(5));
}

TEST_P(EngineTest, SurvivesRxBufferExhaustion) {
  PacketPool pool(16, 2048, 128);
  EngineConfig config;
  config.rx_buffers = 8;
  config.queue_depth = 64;
  auto engine = make(pool, config);
  ASSERT_NE(engine, nullptr);
  SocketAddress a;
  add(*engine, false, &a);
  const int sender = plain_socket(false);
  constexpr int kCount = 100;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(send_to(sender, a, "x" + std::to_string(i)));

  // Hold on to every buffer: the pool (16) runs dry long before 100 datagrams are read.
  std::vector<PacketBuffer*> held;
  std::set<std::string> payloads;
  RxPacket rx[64];
  for (int call = 0; call < 20; ++call) {
    const size_t n = engine->rx_burst(rx, 64, 10000);
    for (size_t i = 0; i < n; ++i) {
      payloads.insert(std::string(reinterpret_cast<char*>(rx[i].buf->data()), rx[i].buf->len));
      held.push_back(rx[i].buf);
    }
  }
  EXPECT_LE(held.size(), 16u);
  EXPECT_GT(held.size(), 0u);
  EXPECT_GT(engine->stats().rx_no_buffer, 0u);
  EXPECT_EQ(pool.available(), 0u);

  for (PacketBuffer* b : held) pool.release(b);
  auto rest = receive(*engine, pool, kCount - held.size());
  for (const auto& g : rest) payloads.insert(g.payload);
  EXPECT_EQ(payloads.size(), static_cast<size_t>(kCount)) << "receiving did not resume";
  for (int i = 0; i < kCount; ++i) EXPECT_TRUE(payloads.count("x" + std::to_string(i)));
  close(sender);
  engine.reset();
  EXPECT_EQ(pool.available(), pool.count());
}

TEST_P(EngineTest, OversizedDatagramIsCountedAsTruncated) {
  PacketPool pool(64, 512, 128);  // 384 bytes of room after the headroom
  EngineConfig config;
  config.rx_buffers = 16;
  config.queue_depth = 64;
  auto engine = make(pool, config);
  ASSERT_NE(engine, nullptr);
  SocketAddress a;
  add(*engine, false, &a);
  const int sender = plain_socket(false);
  ASSERT_TRUE(send_to(sender, a, std::string(1000, 'L')));
  ASSERT_TRUE(send_to(sender, a, std::string(384, 'F')));  // exactly fits
  ASSERT_TRUE(send_to(sender, a, std::string(385, 'O')));
  ASSERT_TRUE(send_to(sender, a, "small"));
  auto got = receive(*engine, pool, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, std::string(384, 'F'));
  EXPECT_EQ(got[1].payload, "small");
  EXPECT_EQ(engine->stats().rx_truncated, 2u);
  close(sender);
  engine.reset();
  EXPECT_EQ(pool.available(), pool.count());
}

TEST_P(EngineTest, SocketIndexesAreDenseAndReused) {
  PacketPool pool(512);
  auto engine = make(pool);
  ASSERT_NE(engine, nullptr);
  SocketAddress a;
  EXPECT_EQ(add(*engine, false, &a), 0u);
  EXPECT_EQ(add(*engine, true, &a), 1u);
  EXPECT_EQ(add(*engine, false, &a), 2u);
  engine->remove_socket(1);
  engine->remove_socket(1);  // twice is harmless
  engine->remove_socket(99);
  EXPECT_EQ(add(*engine, false, &a), 1u);
  EXPECT_EQ(add(*engine, false, &a), 3u);
}

// The worker creates its engine on the control thread and runs it on its own thread
// (io_uring's single-issuer ring must bind to the latter).
TEST_P(EngineTest, RunsOnAThreadOtherThanItsCreator) {
  PacketPool pool(512);
  auto engine = make(pool);
  ASSERT_NE(engine, nullptr);
  std::vector<testing::Received> got;
  uint64_t tx_packets = 0;
  std::thread worker([&] {
    std::string error;
    SocketAddress a, b;
    int fa = open_udp_socket(loopback(true), &error);
    int fb = open_udp_socket(loopback(true), &error);
    if (fa < 0 || fb < 0) return;
    a = local_address(fa);
    b = local_address(fb);
    const int ia = engine->add_socket(UdpBinding{fa, {}}, &error);
    if (engine->add_socket(UdpBinding{fb, {}}, &error) < 0 || ia < 0) return;
    TxPacket tx{make_packet(pool, "across threads"), static_cast<uint32_t>(ia), b};
    engine->tx_burst(&tx, 1);
    got = receive(*engine, pool, 1);
    reap_sends(*engine, pool, 1);
    tx_packets = engine->stats().tx_packets;
  });
  worker.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "across threads");
  EXPECT_EQ(got[0].socket, 1u);
  EXPECT_EQ(tx_packets, 1u);
  engine.reset();
  EXPECT_EQ(pool.available(), pool.count());
}

INSTANTIATE_TEST_SUITE_P(Engines, EngineTest, ::testing::Values("io_uring", "recvmmsg"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           return std::string(p.param) == "io_uring" ? "uring" : "mmsg";
                         });

TEST(MmsgEngine, BusySocketDoesNotStarveOthers) {
  PacketPool pool(1024);
  std::string error;
  auto engine = make_mmsg_engine(pool, small_config(), &error);
  ASSERT_NE(engine, nullptr) << error;
  int fds[2];
  SocketAddress addr[2];
  for (int i = 0; i < 2; ++i) {
    fds[i] = open_udp_socket(loopback(false), &error);
    ASSERT_GE(fds[i], 0) << error;
    addr[i] = local_address(fds[i]);
    ASSERT_EQ(engine->add_socket(UdpBinding{fds[i], {}}, &error), i);
  }
  const int sender = open_udp_socket(loopback(false), &error);
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(send_to(sender, addr[0], "busy"));
  ASSERT_TRUE(send_to(sender, addr[1], "quiet"));
  RxPacket rx[32];
  bool quiet_seen = false;
  size_t total = 0;
  // Two bursts of 32 cannot drain the busy socket; the quiet one must still get its turn.
  for (int call = 0; call < 2; ++call) {
    const size_t n = engine->rx_burst(rx, 32, 100000);
    for (size_t i = 0; i < n; ++i) {
      if (rx[i].socket == 1) quiet_seen = true;
      pool.release(rx[i].buf);
    }
    total += n;
  }
  EXPECT_TRUE(quiet_seen) << "after " << total << " datagrams";
  close(sender);
}

TEST(EngineChoice, EnvironmentVariableForcesFallback) {
  PacketPool pool(512);
  std::string error;
  ASSERT_EQ(setenv("WEIR_DISABLE_IO_URING", "1", 1), 0);
  auto engine = make_udp_engine(pool, small_config(), false, &error);
  unsetenv("WEIR_DISABLE_IO_URING");
  ASSERT_NE(engine, nullptr) << error;
  EXPECT_STREQ(engine->name(), "recvmmsg");

  // The fallback really carries traffic both ways.
  const int fd = open_udp_socket(loopback(false), &error);
  ASSERT_GE(fd, 0) << error;
  const SocketAddress addr = local_address(fd);
  const int index = engine->add_socket(UdpBinding{fd, {}}, &error);
  ASSERT_GE(index, 0) << error;
  const int peer = open_udp_socket(loopback(false), &error);
  ASSERT_TRUE(send_to(peer, addr, "ping"));
  auto got = receive(*engine, pool, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "ping");
  TxPacket tx{make_packet(pool, "pong"), static_cast<uint32_t>(index), local_address(peer)};
  engine->tx_burst(&tx, 1);
  EXPECT_EQ(recv_one(peer), "pong");
  close(peer);
}

TEST(EngineChoice, PrefersIoUringAndHonoursPreferMmsg) {
  PacketPool pool(512);
  std::string error;
  auto preferred = make_udp_engine(pool, small_config(), true, &error);
  ASSERT_NE(preferred, nullptr) << error;
  EXPECT_STREQ(preferred->name(), "recvmmsg");
  if (!io_uring_usable()) GTEST_SKIP() << "this kernel refuses io_uring";
  auto engine = make_udp_engine(pool, small_config(), false, &error);
  ASSERT_NE(engine, nullptr) << error;
  EXPECT_STREQ(engine->name(), "io_uring");
}

TEST(EngineChoice, UringRejectsBadConfiguration) {
  std::string error;
  PacketPool pool(64);
  EngineConfig config;
  config.rx_buffers = 100;  // not a power of two
  EXPECT_EQ(make_uring_engine(pool, config, &error), nullptr);
  EXPECT_NE(error.find("power of two"), std::string::npos) << error;
  PacketPool tight(64, 2048, 16);  // headroom cannot hold the recvmsg header + address
  error.clear();
  EXPECT_EQ(make_uring_engine(tight, small_config(), &error), nullptr);
  EXPECT_NE(error.find("headroom"), std::string::npos) << error;
}

TEST(UdpSocket, BindsV4AndV6) {
  std::string error;
  for (bool v6 : {false, true}) {
    const int fd = open_udp_socket(loopback(v6), &error);
    ASSERT_GE(fd, 0) << error;
    EXPECT_NE(socket_local_port(fd), 0);
    EXPECT_EQ(local_address(fd).is_v6(), v6);
    const int flags = fcntl(fd, F_GETFL);
    EXPECT_TRUE(flags & O_NONBLOCK);
    int value = 0;
    socklen_t len = sizeof value;
    ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &len), 0);
    EXPECT_GT(value, 200000);  // at least the usual default; 4 MiB (doubled) when allowed
    if (v6) {
      ASSERT_EQ(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &value, &len), 0);
      EXPECT_EQ(value, 1);
    }
    close(fd);
  }
}

TEST(UdpSocket, SecondBindOnSamePortFails) {
  std::string error;
  const int fd = open_udp_socket(loopback(false), &error);
  ASSERT_GE(fd, 0) << error;
  const int again = open_udp_socket(loopback(false, socket_local_port(fd)), &error);
  EXPECT_LT(again, 0);
  EXPECT_NE(error.find("Address already in use"), std::string::npos) << error;
  if (again >= 0) close(again);
  close(fd);
  EXPECT_LT(open_udp_socket(SocketAddress{}, &error), 0);
}

TEST(UdpSocket, RangeSkipsTakenPortsAndReportsExhaustion) {
  std::string error;
  // A range specific to this process keeps parallel test runs apart.
  const auto min_port = static_cast<uint16_t>(30000 + (getpid() % 2000) * 10);
  const auto max_port = static_cast<uint16_t>(min_port + 3);
  const int blocker = open_udp_socket(loopback(false, min_port + 1), &error);
  ASSERT_GE(blocker, 0) << error;
  std::set<uint16_t> ports;
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    uint16_t port = 0;
    const int fd = open_udp_socket_in_range("127.0.0.1", min_port, max_port, &port, &error);
    ASSERT_GE(fd, 0) << error;
    EXPECT_EQ(socket_local_port(fd), port);
    EXPECT_GE(port, min_port);
    EXPECT_LE(port, max_port);
    EXPECT_NE(port, min_port + 1);
    ports.insert(port);
    fds.push_back(fd);
  }
  EXPECT_EQ(ports.size(), 3u);
  uint16_t port = 0;
  EXPECT_LT(open_udp_socket_in_range("127.0.0.1", min_port, max_port, &port, &error), 0);
  EXPECT_NE(error.find("no free UDP port"), std::string::npos) << error;
  EXPECT_LT(open_udp_socket_in_range("not an ip", min_port, max_port, &port, &error), 0);
  EXPECT_LT(open_udp_socket_in_range("127.0.0.1", max_port, min_port, &port, &error), 0);
  for (int fd : fds) close(fd);
  close(blocker);
}

TEST(UdpSocket, RangeRotatesItsStartingPort) {
  std::string error;
  const auto min_port = static_cast<uint16_t>(52000 + (getpid() % 500) * 20);
  const auto max_port = static_cast<uint16_t>(min_port + 15);
  uint16_t first = 0, second = 0;
  const int a = open_udp_socket_in_range("::1", min_port, max_port, &first, &error);
  ASSERT_GE(a, 0) << error;
  close(a);
  // The first port is free again, yet the next socket starts further on.
  const int b = open_udp_socket_in_range("::1", min_port, max_port, &second, &error);
  ASSERT_GE(b, 0) << error;
  close(b);
  EXPECT_NE(first, second);
}

}  // namespace
}  // namespace weir::dp

namespace weir::dp {
namespace {

// The forwarder hands a fan-out burst to tx_burst in batches without receiving in between;
// with fewer send slots than packets the engine must wait for completions, keep receive
// completions it meets on the way for the next rx_burst, and drop nothing.
TEST(UringEngine, BurstLargerThanItsSendSlotsIsSentWholeAndReceivesAreKept) {
  if (!io_uring_usable()) GTEST_SKIP() << "io_uring is not usable here";
  PacketPool pool(1024);
  EngineConfig config;
  config.rx_buffers = 256;
  config.queue_depth = 32;
  std::string error;
  auto engine = make_uring_engine(pool, config, &error);
  ASSERT_NE(engine, nullptr) << error;
  const int fd = open_udp_socket(loopback(false), &error);
  ASSERT_GE(fd, 0) << error;
  const SocketAddress engine_addr = local_address(fd);
  const int sock = engine->add_socket(UdpBinding{fd, {}}, &error);
  ASSERT_GE(sock, 0) << error;
  const int peer = open_udp_socket(loopback(false), &error);
  const SocketAddress peer_addr = local_address(peer);

  // Arm the receive, then queue datagrams for the engine before the big send.
  RxPacket rx[64];
  EXPECT_EQ(engine->rx_burst(rx, 64, 0), 0u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(send_to(peer, engine_addr, "in " + std::to_string(i)));

  constexpr int kSends = 200;
  std::vector<TxPacket> tx(kSends);
  for (int i = 0; i < kSends; ++i) {
    PacketBuffer* b = pool.alloc();
    ASSERT_NE(b, nullptr);
    const std::string p = "out " + std::to_string(i);
    std::memcpy(b->data(), p.data(), p.size());
    b->len = static_cast<uint16_t>(p.size());
    tx[static_cast<size_t>(i)] = TxPacket{b, static_cast<uint32_t>(sock), peer_addr};
  }
  engine->tx_burst(tx.data(), kSends);
  EXPECT_EQ(engine->stats().tx_dropped, 0u);

  std::set<std::string> seen;
  for (int i = 0; i < kSends; ++i) {
    const std::string p = recv_one(peer);
    ASSERT_FALSE(p.empty()) << "only " << i << " of " << kSends << " arrived";
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kSends));

  std::vector<std::string> inbound;
  for (int round = 0; round < 50 && inbound.size() < 10; ++round) {
    const size_t n = engine->rx_burst(rx, 64, 100000);
    for (size_t i = 0; i < n; ++i) {
      inbound.emplace_back(reinterpret_cast<const char*>(rx[i].buf->data()), rx[i].buf->len);
      pool.release(rx[i].buf);
    }
  }
  ASSERT_EQ(inbound.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(inbound[static_cast<size_t>(i)], "in " + std::to_string(i));
  close(peer);
  engine.reset();
  EXPECT_EQ(pool.available(), pool.count());
}

}  // namespace
}  // namespace weir::dp
