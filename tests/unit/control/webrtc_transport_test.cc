// A WebRtcTransport of the real Control on a real worker, driven by a small in-test peer
// on a UDP socket (its own ICE checks and a DTLS client): ICE and DTLS states as the stats
// show them, the selected tuple, keys installed (media forwarded needs them: checked by
// the integration tests), a fingerprint mismatch failing only that transport, consent
// lost, and restartIce with the old credentials kept until the new ones are used. Both
// the per-transport port and the shared port (WebRtcServer mode). And DataChannels: the
// peer runs its own SCTP association (usrsctp) over its DTLS and exchanges messages with
// a WebRtcTransport both ways.
#include "control/webrtc_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>

#include "base/clock.h"
#include "control/control.h"
#include "control/sctp_association.h"
#include "control/webrtc_plumbing.h"
#include "dataplane/dtls_transport.h"
#include "dataplane/socket_address.h"
#include "dataplane/udp_engine.h"
#include "dataplane/worker.h"
#include "wire/dcep_message.h"
#include "wire/rtp_packet.h"
#include "wire/stun_message.h"

namespace weir::control {
namespace {

using nlohmann::json;

uint64_t now_ms() { return weir::now_ns() / 1000000; }

// The browser's side, minimal: ICE checks with USE-CANDIDATE, a DTLS client, and if
// enable_sctp was called an SCTP association over that DTLS once it connects.
class Peer : public dp::DtlsTransport::Listener, public SctpAssociation::Listener {
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
  void enable_sctp(boost::asio::io_context& io) { sctp_io_ = &io; }
  SctpAssociation* sctp() { return sctp_.get(); }
  int stun_successes = 0;
  int received = 0;
  struct Message {
    uint16_t stream_id;
    uint32_t ppid;
    std::vector<uint8_t> data;
  };
  std::vector<Message> sctp_messages;

 private:
  void on_dtls_send(const uint8_t* data, size_t len) override {
    ::sendto(fd_, data, len, 0, weir_.sockaddr_ptr(), weir_.length());
  }
  void on_dtls_connected(const dp::DtlsSrtpKeys&) override {
    if (sctp_io_ == nullptr) return;
    sctp_ = std::make_unique<SctpAssociation>(*sctp_io_, *this);
    sctp_->connect();
  }
  void on_dtls_failed(const std::string&) override {}
  void on_dtls_closed() override { closed = true; }
  void on_dtls_application_data(const uint8_t* data, size_t len) override {
    if (sctp_) sctp_->on_packet(data, len);
  }
  void on_sctp_packet(const uint8_t* data, size_t len) override {
    dtls_.send_application_data(data, len);
  }
  void on_sctp_state(SctpState) override {}
  void on_sctp_message(const SctpMessage& m) override {
    sctp_messages.push_back({m.stream_id, m.ppid, std::vector<uint8_t>(m.data, m.data + m.len)});
  }

 public:
  bool closed = false;

 private:
  dp::DtlsTransport dtls_;
  int fd_ = -1;
  dp::SocketAddress weir_;
  std::string ufrag_, password_;
  uint8_t tid_seed_ = 0;
  boost::asio::io_context* sctp_io_ = nullptr;
  std::unique_ptr<SctpAssociation> sctp_;  // after dtls_: gone before it
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

// A WebRtcTransport on its own (no room): a worker, the plumbing that brings its DTLS
// datagrams up, and the in-test peer with SCTP over its DTLS.
class WebRtcTransportSctpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp::WorkerConfig wc;
    wc.pool_buffers = 8192;
    worker_ = std::make_unique<dp::Worker>(wc);
    std::string error;
    ASSERT_TRUE(worker_->start(&error)) << error;
    server_cert_ = dp::DtlsCertificate::generate(&error);
    ASSERT_TRUE(server_cert_) << error;
    peer_cert_ = dp::DtlsCertificate::generate(&error);
    ASSERT_TRUE(peer_cert_) << error;
    plumbing_ = std::make_unique<WebRtcPlumbing>(io_, std::vector<dp::Worker*>{worker_.get()});
    WebRtcTransportOptions options;
    options.min_port = 45000;
    options.max_port = 45999;
    options.certificate = server_cert_;
    transport_ = std::make_unique<WebRtcTransport>(
        "t1", 1, "b", options, *worker_, io_,
        [this](const WebRtcTransportEvent& e) { events_.push_back(e); });
    plumbing_->add(transport_.get());
    worker_->post(transport_->take_add_command());
  }
  void TearDown() override {
    if (transport_) {
      transport_->close();
      plumbing_->remove(transport_.get());
      worker_->wait_applied(worker_->post(dp::RemoveTransport{1}));
      transport_.reset();
    }
    plumbing_.reset();
    worker_->stop();
  }
  bool pump(Peer& peer, const std::function<bool()>& done, int timeout_ms) {
    const uint64_t end = now_ms() + static_cast<uint64_t>(timeout_ms);
    while (now_ms() < end) {
      io_.run_for(std::chrono::milliseconds(2));
      peer.poll();
      if (done()) return true;
    }
    return false;
  }
  std::vector<std::string> sctp_events() const {
    std::vector<std::string> v;
    for (const auto& e : events_) {
      if (e.kind == WebRtcTransportEvent::Kind::sctp_state) v.push_back(e.value);
    }
    return v;
  }

  boost::asio::io_context io_;
  std::unique_ptr<dp::Worker> worker_;
  std::shared_ptr<dp::DtlsCertificate> server_cert_, peer_cert_;
  std::unique_ptr<WebRtcPlumbing> plumbing_;
  std::unique_ptr<WebRtcTransport> transport_;
  std::vector<WebRtcTransportEvent> events_;
};

TEST_F(WebRtcTransportSctpTest, DataChannelMessagesBothWaysOverDtls) {
  WebRtcTransport& t = *transport_;
  t.set_sctp_streams(256, 300);
  const json d = t.describe();
  EXPECT_EQ(d["sctpParameters"],
            json({{"port", 5000}, {"OS", 256}, {"MIS", 300}, {"maxMessageSize", 262144}}));
  EXPECT_EQ(t.sctp_state(), "new");
  EXPECT_EQ(t.sctp_max_message_size(), 262144u);

  struct Got {
    uint16_t stream_id;
    uint32_t ppid;
    std::vector<uint8_t> data;
  };
  std::vector<Got> got;
  t.set_sctp_message_handler([&](const SctpMessage& m) {
    got.push_back({m.stream_id, m.ppid, std::vector<uint8_t>(m.data, m.data + m.len)});
  });
  std::vector<SctpDataChannelOpen> opens;
  t.set_sctp_data_channel_open_handler([&](const SctpDataChannelOpen& o) { opens.push_back(o); });
  std::vector<uint16_t> closed;
  t.set_sctp_stream_closed_handler([&](uint16_t id) { closed.push_back(id); });

  Peer peer(peer_cert_, d);
  peer.enable_sctp(io_);
  t.connect(
      {{"dtlsParameters",
        {{"role", "client"},
         {"fingerprints", json::array({{{"algorithm", "sha-256"},
                                        {"value", peer_cert_->fingerprints().back().value}}})}}}});
  peer.send_check();
  ASSERT_TRUE(pump(
      peer, [&] { return peer.stun_successes > 0; }, 3000));
  peer.start_dtls(d);
  ASSERT_TRUE(pump(
      peer,
      [&] {
        return t.sctp_state() == "connected" && peer.sctp() &&
               peer.sctp()->state() == SctpState::connected;
      },
      8000))
      << t.stats().dump();
  EXPECT_EQ(sctp_events(), (std::vector<std::string>{"connecting", "connected"}));
  EXPECT_EQ(t.stats()[0]["sctpState"], "connected");

  // Peer -> weir: text, binary of several packets, empty.
  const std::string hello = "hello weir";
  std::vector<uint8_t> big(100000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  SctpStreamParameters s1;
  s1.stream_id = 1;
  SctpStreamParameters s2;
  s2.stream_id = 2;
  s2.ordered = false;
  s2.max_retransmits = 5;
  ASSERT_EQ(peer.sctp()->send(s1, wire::kPpidString, reinterpret_cast<const uint8_t*>(hello.data()),
                              hello.size()),
            SctpAssociation::SendResult::sent);
  ASSERT_EQ(peer.sctp()->send(s2, wire::kPpidBinary, big.data(), big.size()),
            SctpAssociation::SendResult::sent);
  ASSERT_EQ(peer.sctp()->send(s1, wire::kPpidString, nullptr, 0),
            SctpAssociation::SendResult::sent);
  ASSERT_TRUE(pump(
      peer, [&] { return got.size() == 3; }, 8000))
      << t.stats().dump();
  std::sort(got.begin(), got.end(), [](const Got& a, const Got& b) {
    return a.stream_id < b.stream_id ||
           (a.stream_id == b.stream_id && a.data.size() > b.data.size());
  });
  EXPECT_EQ(got[0].stream_id, 1);
  EXPECT_EQ(got[0].ppid, wire::kPpidString);
  EXPECT_EQ(std::string(got[0].data.begin(), got[0].data.end()), hello);
  EXPECT_EQ(got[1].ppid, wire::kPpidStringEmpty);
  EXPECT_TRUE(got[1].data.empty());
  EXPECT_EQ(got[2].stream_id, 2);
  EXPECT_EQ(got[2].ppid, wire::kPpidBinary);
  EXPECT_EQ(got[2].data, big);

  // weir -> peer: text ordered, binary unordered with a lifetime, and one too large.
  const std::string world = "hello peer";
  SctpStreamParameters out1;
  out1.stream_id = 1;
  SctpStreamParameters out4;
  out4.stream_id = 4;
  out4.ordered = false;
  out4.max_packet_life_time_ms = 5000;
  EXPECT_TRUE(t.send_sctp_message(out1, wire::kPpidString,
                                  reinterpret_cast<const uint8_t*>(world.data()), world.size()));
  EXPECT_TRUE(t.send_sctp_message(out4, wire::kPpidBinary, big.data(), big.size()));
  std::vector<uint8_t> too_big(262145, 1);
  EXPECT_FALSE(t.send_sctp_message(out1, wire::kPpidBinary, too_big.data(), too_big.size()));
  ASSERT_TRUE(pump(
      peer, [&] { return peer.sctp_messages.size() == 2; }, 8000));
  EXPECT_EQ(peer.sctp_messages[0].stream_id, 1);
  EXPECT_EQ(peer.sctp_messages[0].ppid, wire::kPpidString);
  EXPECT_EQ(std::string(peer.sctp_messages[0].data.begin(), peer.sctp_messages[0].data.end()),
            world);
  EXPECT_EQ(peer.sctp_messages[1].stream_id, 4);
  EXPECT_EQ(peer.sctp_messages[1].data, big);

  // DCEP: the peer opens a channel in-band; weir acknowledges it and tells its handler.
  wire::DcepOpen open;
  open.label = "chat";
  open.protocol = "";
  uint8_t buf[32];
  const size_t n = wire::write_dcep_open(open, buf, sizeof buf);
  SctpStreamParameters s6;
  s6.stream_id = 6;
  ASSERT_EQ(peer.sctp()->send(s6, wire::kPpidDcep, buf, n), SctpAssociation::SendResult::sent);
  ASSERT_TRUE(pump(
      peer, [&] { return !opens.empty() && peer.sctp()->counters().dcep_acks_received == 1; },
      3000));
  EXPECT_EQ(opens[0].label, "chat");
  EXPECT_EQ(opens[0].params.stream_id, 6);
  EXPECT_TRUE(opens[0].params.ordered);
  ASSERT_NE(t.sctp_data_channel(6), nullptr);

  // The peer closes stream 1: weir's handler hears of it; weir closes stream 4: the peer
  // resets back.
  peer.sctp()->reset_stream(1);
  t.close_sctp_stream(4);
  ASSERT_TRUE(pump(
      peer,
      [&] {
        return closed == std::vector<uint16_t>{1} &&
               t.sctp()->counters().stream_resets_received == 2;
      },
      3000))
      << t.stats().dump();

  const json st = t.stats()[0];
  EXPECT_EQ(st["sctpMessagesReceived"], 3);
  EXPECT_EQ(st["sctpBytesReceived"], hello.size() + big.size());
  EXPECT_EQ(st["sctpMessagesSent"], 2);
  EXPECT_EQ(st["sctpBytesSent"], world.size() + big.size());
  EXPECT_EQ(st["sctpSendRefused"], 1);
  EXPECT_EQ(st["sctpDataChannelsOpened"], 1);
  EXPECT_EQ(st["sctpPacketsUndeliverable"], 0);

  // Closing the transport aborts the association: the peer's fails, ours is closed.
  t.close();
  EXPECT_EQ(t.sctp_state(), "closed");
  EXPECT_EQ(sctp_events().back(), "closed");
  ASSERT_TRUE(pump(
      peer, [&] { return peer.sctp()->state() == SctpState::failed; }, 3000));
}

}  // namespace
}  // namespace weir::control
