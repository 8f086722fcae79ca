// A real dataplane worker on loopback with real UDP endpoints around it, for tests of the
// forwarding core: the test plays the producing and consuming endpoints with plain
// blocking sockets and drives the worker only through its command ring.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/srtp_session.h"
#include "dataplane/udp_engine.h"
#include "dataplane/worker.h"
#include "wire/byte_io.h"

namespace weir::dp::testing {

// A blocking UDP endpoint on 127.0.0.1 with a receive timeout.
class Endpoint {
 public:
  explicit Endpoint(int timeout_ms = 1000) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    set_timeout(timeout_ms);
    int big = 4 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  }
  ~Endpoint() { ::close(fd_); }
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  void set_timeout(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  SocketAddress address() const {
    return *SocketAddress::parse("127.0.0.1", socket_local_port(fd_));
  }
  void send_to(const SocketAddress& to, const std::vector<uint8_t>& data) const {
    ::sendto(fd_, data.data(), data.size(), 0, to.sockaddr_ptr(), to.length());
  }
  // Empty when nothing arrived within the timeout.
  std::vector<uint8_t> receive() const {
    std::vector<uint8_t> buf(2048);
    ssize_t n;
    // io_uring's task-work notifications can interrupt a blocking call in any thread of
    // the process: an interruption is not a timeout.
    do {
      n = ::recv(fd_, buf.data(), buf.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return {};
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct RtpSpec {
  uint8_t pt = 96;
  uint16_t seq = 1;
  uint32_t ts = 1000;
  uint32_t ssrc = 1111;
  bool marker = false;
  std::vector<std::pair<uint8_t, std::vector<uint8_t>>> extensions;  // one-byte form
  std::vector<uint8_t> payload = std::vector<uint8_t>(100, 0xAB);
};

inline std::vector<uint8_t> make_rtp(const RtpSpec& s) {
  std::vector<uint8_t> p(12);
  p[0] = 0x80;
  p[1] = static_cast<uint8_t>((s.marker ? 0x80 : 0) | s.pt);
  wire::store_be16(&p[2], s.seq);
  wire::store_be32(&p[4], s.ts);
  wire::store_be32(&p[8], s.ssrc);
  if (!s.extensions.empty()) {
    p[0] |= 0x10;
    std::vector<uint8_t> ext;
    for (const auto& [id, value] : s.extensions) {
      ext.push_back(static_cast<uint8_t>((id << 4) | (value.size() - 1)));
      ext.insert(ext.end(), value.begin(), value.end());
    }
    while (ext.size() % 4 != 0) ext.push_back(0);
    const size_t at = p.size();
    p.resize(at + 4);
    wire::store_be16(&p[at], 0xBEDE);
    wire::store_be16(&p[at + 2], static_cast<uint16_t>(ext.size() / 4));
    p.insert(p.end(), ext.begin(), ext.end());
  }
  p.insert(p.end(), s.payload.begin(), s.payload.end());
  return p;
}

// VP8 payload (RFC 7741): descriptor with S=1, PID 0, then a frame header whose P bit
// says key frame (0) or inter frame (1).
inline std::vector<uint8_t> vp8_payload(bool keyframe, size_t size = 100) {
  std::vector<uint8_t> p(size, 0x55);
  p[0] = 0x10;                    // S=1, PID=0
  p[1] = keyframe ? 0x00 : 0x01;  // frame tag: P bit
  if (keyframe) {                 // RFC 6386 key frame start code after the 3-byte tag
    p[4] = 0x9d;
    p[5] = 0x01;
    p[6] = 0x2a;
  }
  return p;
}

inline PayloadTypeMap identity_pt_map() {
  PayloadTypeMap m;
  m.fill(kNoMapping);
  for (int i = 0; i < 128; ++i) m[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  return m;
}

inline ExtensionIdMap no_extensions() {
  ExtensionIdMap m;
  m.fill(0);
  return m;
}

// Owns a started worker and the counters the control plane would own.
class WorkerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(srtp_library_init(nullptr));
    WorkerConfig config;
    config.pool_buffers = 8192;
    worker_ = std::make_unique<Worker>(config);
    std::string error;
    ASSERT_TRUE(worker_->start(&error)) << error;
  }
  void TearDown() override { worker_->stop(); }

  void run(Command c) { worker_->wait_applied(worker_->post(std::move(c))); }

  // Polls pred until it holds or ms pass. Datagrams on loopback reach the worker's socket
  // independently of its command ring, so a test that changes state after sending must
  // first see the worker count what it sent.
  static bool wait_for(const std::function<bool()>& pred, int ms = 2000) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return pred();
  }

  // A plain transport bound on loopback; returns the address weir listens on.
  SocketAddress add_transport(TransportId id, bool comedia, SocketAddress remote = {},
                              bool srtp = false) {
    std::string error;
    int fd = open_udp_socket(*SocketAddress::parse("127.0.0.1", 0), &error);
    EXPECT_GE(fd, 0) << error;
    SocketAddress local = *SocketAddress::parse("127.0.0.1", socket_local_port(fd));
    transports_.push_back(std::make_unique<TransportCounters>());
    run(AddPlainTransport{id, UdpBinding{fd, {}}, {}, comedia, srtp, remote, {}, transports_.back().get()});
    return local;
  }
  TransportCounters& transport_counters(size_t i) { return *transports_[i]; }

  // The AddProducer/AddConsumer the helpers below post, for tests that set more fields.
  static AddProducer producer_command(ProducerId id, TransportId t, uint32_t ssrc,
                                      wire::CodecKind codec, PayloadTypeMap pt_map,
                                      ExtensionIdMap ext_map, bool paused = false) {
    AddProducer c{};
    c.id = id;
    c.transport = t;
    c.ssrc = ssrc;
    c.clock_rate = 90000;
    c.codec = codec;
    c.paused = paused;
    c.keyframe_request = KeyFrameRequest::none;
    c.rtx_apt.fill(kNoMapping);
    c.pt_map = pt_map;
    c.ext_map = ext_map;
    return c;
  }
  static AddConsumer consumer_command(ConsumerId id, ProducerId p, TransportId t, uint32_t ssrc,
                                      bool keyframe_sync, PayloadTypeMap pt_map,
                                      ExtensionIdMap ext_map, bool paused = false) {
    AddConsumer c{};
    c.id = id;
    c.producer = p;
    c.transport = t;
    c.ssrc = ssrc;
    c.clock_rate = 90000;
    c.paused = paused;
    c.keyframe_sync = keyframe_sync;
    c.pt_map = pt_map;
    c.ext_map = ext_map;
    return c;
  }

  ProducerCounters& add_producer(AddProducer c) {
    producers_.push_back(std::make_unique<ProducerCounters>());
    c.counters = producers_.back().get();
    run(c);
    return *producers_.back();
  }
  ConsumerCounters& add_consumer(AddConsumer c) {
    consumers_.push_back(std::make_unique<ConsumerCounters>());
    c.counters = consumers_.back().get();
    run(c);
    return *consumers_.back();
  }

  ProducerCounters& add_producer(ProducerId id, TransportId t, uint32_t ssrc,
                                 wire::CodecKind codec, PayloadTypeMap pt_map,
                                 ExtensionIdMap ext_map, bool paused = false) {
    return add_producer(producer_command(id, t, ssrc, codec, pt_map, ext_map, paused));
  }

  ConsumerCounters& add_consumer(ConsumerId id, ProducerId p, TransportId t, uint32_t ssrc,
                                 bool keyframe_sync, PayloadTypeMap pt_map,
                                 ExtensionIdMap ext_map, bool paused = false) {
    return add_consumer(consumer_command(id, p, t, ssrc, keyframe_sync, pt_map, ext_map, paused));
  }

  std::unique_ptr<Worker> worker_;
  std::vector<std::unique_ptr<TransportCounters>> transports_;
  std::vector<std::unique_ptr<ProducerCounters>> producers_;
  std::vector<std::unique_ptr<ConsumerCounters>> consumers_;
};

}  // namespace weir::dp::testing
