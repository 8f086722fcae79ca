// A WebRtcTransport of the real Control on a real worker, driven by a small in-test peer
// on a UDP socket (its own ICE checks and a DTLS client): ICE and DTLS states as the stats
// show them, the selected tuple, keys installed (media forwarded needs them: checked by
// the integration tests), a fingerprint mismatch failing only that transport, consent
// lost, and restartIce with the old credentials kept until the new ones are used. Both
// the per-transport port and the shared port (WebRtcServer mode).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>

#include "base/clock.h"
#include "control/control.h"
#include "dataplane/dtls_transport.h"
#include "dataplane/socket_address.h"
#include "dataplane/udp_engine.h"
#include "dataplane/worker.h"
#include "wire/rtp_packet.h"
#include "wire/stun_message.h"

namespace weir::control {
namespace {

using nlohmann::json;

uint64_t now_ms() { return weir::now_ns() / 1000000; }

// The browser's side, minimal: ICE checks with USE-CANDIDATE and a DTLS client.
class Peer : public dp::DtlsTransport::Listener {
 public:
  Peer(std::shared_ptr<const dp::DtlsCertificate> cert, const json& transport)
      : dtls_(cert, *this) {
    fd_ = dp::open_udp_socket(*dp::SocketAddress::parse("127.0.0.1", 0), nullptr);
    const json& candidate = transport["iceCandidates"][0];
    weir_ = *dp::SocketAddress::parse(candidate["ip"].get<std::string>(),
                                      candidate["port"].get<uint16_t>());
    set_credentials(transport["iceParameters"]);
  }
  ~Peer() override { ::close(fd_); }

  void set_credentials(const json& ice) {
    ufrag_ = ice["usernameFragment"];
    password_ = ice["password"];
  }
  void send_check(bool use_candidate = true) {
    uint8_t tid[12];
    for (auto& b : tid) b = static_cast<uint8_t>(++tid_seed_);
    uint8_t msg[256];
    wire::StunWriter w(msg, sizeof msg, wire::kStunMethodBinding, wire::StunClass::request, tid);
    w.add_username(ufrag_ + ":peer");
    w.add_priority(1845501695);
    w.add_ice_controlling(0x1122334455667788ull);
    if (use_candidate) w.add_use_candidate();
    w.add_message_integrity(password_);
    w.add_fingerprint();
    ::sendto(fd_, msg, w.size(), 0, weir_.sockaddr_ptr(), weir_.length());
  }
  void start_dtls(const json& transport) {
    std::vector<dp::DtlsFingerprint> remote;
    for (const json& fp : transport["dtlsParameters"]["fingerprints"]) {
      remote.push_back({fp["algorithm"], fp["value"]});
    }
    std::string error;
    ASSERT_TRUE(dtls_.start(dp::DtlsRole::client, remote, now_ms(), &error)) << error;
  }
  // Reads what arrived; STUN successes counted, DTLS to the client, RTP/RTCP ignored.
  void poll() {
    uint8_t buf[2048];
    while (true) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      const auto len = static_cast<size_t>(n);
      ++received;
      switch (wire::classify_packet(buf, len)) {
        case wire::PacketClass::stun: {
          wire::StunMessageView v;
          if (wire::StunMessageView::parse(buf, len, v) && v.check_integrity(password_) &&
              v.message_class() == wire::StunClass::success) {
            ++stun_successes;
          }
          break;
        }
        case wire::PacketClass::dtls:
          dtls_.on_packet(buf, len, now_ms());
          break;
        default:
          break;
      }
    }
    if (auto due = dtls_.next_timeout_ms(); due && *due <= now_ms()) dtls_.on_timeout(now_ms());
  }
  void send_raw(const std::vector<uint8_t>& bytes) {
    ::sendto(fd_, bytes.data(), bytes.size(), 0, weir_.sockaddr_ptr(), weir_.length());
  }
  dp::DtlsState dtls_state() const { return dtls_.state(); }
  int stun_successes = 0;
  int received = 0;

 private:
  void on_dtls_send(const uint8_t* data, size_t len) override {
    ::sendto(fd_, data, len, 0, weir_.sockaddr_ptr(), weir_.length());
  }
  void on_dtls_connected(const dp::DtlsSrtpKeys&) override {}
  void on_dtls_failed(const std::string&) override {}
  void on_dtls_closed() override { closed = true; }

 public:
  bool closed = false;

 private:
  dp::DtlsTransport dtls_;
  int fd_ = -1;
  dp::SocketAddress weir_;
  std::string ufrag_, password_;
  uint8_t tid_seed_ = 0;
};

class WebRtcTransportTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dp::WorkerConfig wc;
    wc.pool_buffers = 8192;  // 4096 of them are lent to the kernel for receiving
    if (GetParam()) {
      wc.shared_port = 0;
      // A free port for the shared socket: bind one, release it, hand it over.
      const int probe = dp::open_udp_socket(*dp::SocketAddress::parse("127.0.0.1", 0), nullptr);
      wc.shared_port = dp::socket_local_port(probe);
      ::close(probe);
    }
    worker_ = std::make_unique<dp::Worker>(wc);
    std::string error;
    ASSERT_TRUE(worker_->start(&error)) << error;
    std::string cert_error;
    peer_cert_ = dp::DtlsCertificate::generate(&cert_error);
    ASSERT_TRUE(peer_cert_) << cert_error;
    ControlConfig config;
    config.rtc_min_port = 44000;
    config.rtc_max_port = 44999;
    config.webrtc_shared_port = GetParam();
    config.ice_consent_timeout_ms = 1500;
    control_ = std::make_unique<Control>(config, std::vector<dp::Worker*>{worker_.get()}, &io_);
    ASSERT_EQ(control_
                  ->create_broadcaster(
                      "r", {{"id", "b"}, {"displayName", "B"}, {"device", {{"name", "test"}}}})
                  .status,
              200);
  }
  void TearDown() override {
    control_.reset();
    worker_->stop();
  }

  json create() {
    ApiResult r = control_->create_transport("r", "b", {{"type", "webrtc"}});
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body;
  }
  json stats(const json& t) {
    ApiResult r = control_->transport_stats("r", t["id"]);
    EXPECT_EQ(r.status, 200);
    return r.body[0];
  }
  // Runs the control loop and the peers until done() or timeout_ms; false on timeout.
  bool pump(std::vector<Peer*> peers, const std::function<bool()>& done, int timeout_ms) {
    const uint64_t end = now_ms() + static_cast<uint64_t>(timeout_ms);
    while (now_ms() < end) {
      io_.run_for(std::chrono::milliseconds(5));
      for (Peer* p : peers) p->poll();
      if (done()) return true;
    }
    return false;
  }
  json connect_body(const std::string& fingerprint) {
    return {
        {"dtlsParameters",
         {{"role", "client"},
          {"fingerprints", json::array({{{"algorithm", "sha-256"}, {"value", fingerprint}}})}}}};
  }

  boost::asio::io_context io_;
  std::unique_ptr<dp::Worker> worker_;
  std::unique_ptr<Control> control_;
  std::shared_ptr<dp::DtlsCertificate> peer_cert_;
};

TEST_P(WebRtcTransportTest, IceAndDtlsConnectAndAWrongFingerprintFailsOnlyItsTransport) {
  const json good = create();
  const json bad = create();
  if (GetParam()) {
    EXPECT_EQ(good["iceCandidates"][0]["port"], bad["iceCandidates"][0]["port"]);
  }
  EXPECT_EQ(stats(good)["iceState"], "new");
  EXPECT_EQ(stats(good)["dtlsState"], "new");
  Peer p1(peer_cert_, good), p2(peer_cert_, bad);
  const std::string real_fp = peer_cert_->fingerprints().back().value;
  ASSERT_EQ(control_->connect_transport("r", "b", good["id"], connect_body(real_fp)).status, 200);
  std::string wrong = real_fp;
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  ASSERT_EQ(control_->connect_transport("r", "b", bad["id"], connect_body(wrong)).status, 200);
  p1.send_check();
  p2.send_check();
  ASSERT_TRUE(pump(
      {&p1, &p2}, [&] { return p1.stun_successes > 0 && p2.stun_successes > 0; }, 3000));
  EXPECT_EQ(stats(good)["iceState"], "completed");
  EXPECT_EQ(stats(good)["iceSelectedTuple"]["remoteIp"], "127.0.0.1");
  p1.start_dtls(good);
  p2.start_dtls(bad);
  ASSERT_TRUE(pump(
      {&p1, &p2},
      [&] {
        return stats(good)["dtlsState"] == "connected" && stats(bad)["dtlsState"] == "failed";
      },
      8000))
      << stats(good).dump() << "\n"
      << stats(bad).dump();
  EXPECT_EQ(p1.dtls_state(), dp::DtlsState::connected);
  EXPECT_NE(p2.dtls_state(), dp::DtlsState::connected);
  EXPECT_EQ(stats(good)["dtlsRole"], "server");  // the peer said "client"
  EXPECT_TRUE(stats(good).contains("srtpCryptoSuite"));
  EXPECT_FALSE(stats(bad).contains("srtpCryptoSuite"));  // no keys for the impostor
  // Closing sends close_notify.
  ASSERT_EQ(control_->delete_broadcaster("r", "b").status, 200);
  ASSERT_TRUE(pump(
      {&p1}, [&] { return p1.closed; }, 3000));
}

TEST_P(WebRtcTransportTest, ConsentIsLostWithoutChecksAndRestartIceKeepsTheTuple) {
  const json t = create();
  Peer peer(peer_cert_, t);
  peer.send_check();
  ASSERT_TRUE(pump(
      {&peer}, [&] { return peer.stun_successes > 0; }, 3000))
      << peer.received << " " << stats(t).dump();
  const json tuple = stats(t)["iceSelectedTuple"];

  // restartIce: the old credentials still work until the new ones are used.
  ApiResult r = control_->restart_ice("r", "b", t["id"]);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body["usernameFragment"], t["iceParameters"]["usernameFragment"]);
  peer.send_check();  // old ones
  ASSERT_TRUE(pump(
      {&peer}, [&] { return peer.stun_successes > 1; }, 3000));
  peer.set_credentials(r.body);
  peer.send_check();  // new ones
  ASSERT_TRUE(pump(
      {&peer}, [&] { return peer.stun_successes > 2; }, 3000));
  EXPECT_EQ(stats(t)["iceSelectedTuple"], tuple);
  EXPECT_EQ(stats(t)["iceState"], "completed");

  // Silence: consent (1.5 s here) runs out.
  ASSERT_TRUE(pump(
      {&peer}, [&] { return stats(t)["iceState"] == "disconnected"; }, 5000));
  EXPECT_FALSE(stats(t).contains("iceSelectedTuple"));
  // A check brings it back.
  peer.send_check();
  ASSERT_TRUE(pump(
      {&peer}, [&] { return stats(t)["iceState"] == "completed"; }, 3000));
}

TEST_P(WebRtcTransportTest, BadChecksAreRefusedAndCountedAndChangeNothing) {
  const json t = create();
  Peer peer(peer_cert_, t);
  peer.set_credentials({{"usernameFragment", t["iceParameters"]["usernameFragment"]},
                        {"password", "not-the-password-at-all"}});
  peer.send_check();
  // A STUN header whose length lies: the worker passes it up (first byte 0), control
  // refuses to parse it.
  std::vector<uint8_t> garbage(28, 0);
  garbage[3] = 0x40;  // says 64 bytes of attributes
  wire::store_be32(&garbage[4], wire::kStunMagicCookie);
  peer.send_raw(garbage);
  ASSERT_TRUE(pump(
      {&peer},
      [&] {
        const json s = stats(t);
        // On the shared port a message without a username reaches no
        // transport: the server counts it instead.
        const bool malformed_counted =
            GetParam() ? control_->server_stats().body["unroutableControlPackets"] == 1
                       : s["stunMalformed"] == 1;
        return s["iceChecksRefused"] == 1 && malformed_counted;
      },
      3000))
      << stats(t).dump();
  EXPECT_EQ(peer.stun_successes, 0);  // a 401 is no success
  EXPECT_EQ(stats(t)["iceState"], "new");
  EXPECT_FALSE(stats(t).contains("iceSelectedTuple"));
}

INSTANTIATE_TEST_SUITE_P(PortModes, WebRtcTransportTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "SharedPort" : "OwnPort";
                         });

}  // namespace
}  // namespace weir::control
