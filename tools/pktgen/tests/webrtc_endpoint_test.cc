// The endpoint against a stand-in for weir made of the same parts weir uses: STUN answers
// built the way an ICE-lite server builds them and a dp::DtlsTransport for the other end
// of DTLS. Datagrams move through in-memory queues; the clock is the test's.
#include "webrtc_endpoint.h"

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "webrtc_signaling.h"

namespace weir::pktgen {
namespace {

using Datagram = std::vector<uint8_t>;
constexpr auto kSuite = dp::SrtpSuite::aes_cm_128_hmac_sha1_80;

std::shared_ptr<dp::DtlsCertificate> certificate() {
  std::string error;
  auto c = dp::DtlsCertificate::generate(&error);
  EXPECT_TRUE(c) << error;
  return c;
}

struct Client final : WebRtcEndpoint::Owner {
  std::deque<Datagram> out;
  std::optional<dp::DtlsSrtpKeys> keys;
  void send_datagram(const uint8_t* data, size_t len) override {
    out.emplace_back(data, data + len);
  }
  void on_srtp_keys(const dp::DtlsSrtpKeys& k) override { keys = k; }
};

// weir's side: answers checks for its credentials and runs DTLS in the other role.
class FakeWeir final : public dp::DtlsTransport::Listener {
 public:
  FakeWeir(dp::DtlsRole role, std::vector<dp::DtlsFingerprint> client_fingerprints)
      : cert_(certificate()),
        dtls_(cert_, *this),
        role_(role),
        client_fingerprints_(std::move(client_fingerprints)) {}

  IceCredentials credentials{"weirufrag", "weir-password-0123456789abcdef"};
  std::deque<Datagram> out;
  std::vector<Datagram> checks;  // every valid check seen
  std::optional<dp::DtlsSrtpKeys> keys;
  bool answer = true;
  std::string answer_password;  // empty: the right one
  dp::SocketAddress client_address = *dp::SocketAddress::parse("127.0.0.1", 40001);

  std::vector<dp::DtlsFingerprint> fingerprints() const { return {sha256_fingerprint(*cert_)}; }

  void receive(const Datagram& d, uint64_t now_ms) {
    const DatagramKind kind = classify_datagram(d.data(), d.size());
    if (kind == DatagramKind::dtls) {
      dtls_.on_packet(d.data(), d.size(), now_ms);
      return;
    }
    ASSERT_EQ(kind, DatagramKind::stun);
    wire::StunMessageView m;
    ASSERT_TRUE(wire::StunMessageView::parse(d.data(), d.size(), m));
    ASSERT_EQ(m.message_class(), wire::StunClass::request);
    ASSERT_TRUE(m.check_fingerprint());
    const std::string prefix = credentials.ufrag + ":";
    if (m.username().substr(0, prefix.size()) != prefix ||
        !m.check_integrity(credentials.password)) {
      return;  // a lite server would answer 401; dropping it tests the retransmissions
    }
    checks.push_back(d);
    if (!answer) return;
    uint8_t buf[256];
    wire::StunWriter w(buf, sizeof buf, wire::kStunMethodBinding, wire::StunClass::success,
                       m.transaction_id());
    w.add_xor_mapped_address(wire::StunAddress::from_sockaddr(client_address.sockaddr_ptr()));
    w.add_message_integrity(answer_password.empty() ? credentials.password : answer_password);
    w.add_fingerprint();
    out.emplace_back(buf, buf + w.size());
    if (dtls_.state() == dp::DtlsState::fresh) {
      std::string error;
      ASSERT_TRUE(dtls_.start(role_, client_fingerprints_, now_ms, &error)) << error;
    }
  }

  dp::DtlsState dtls_state() const { return dtls_.state(); }

 private:
  void on_dtls_send(const uint8_t* data, size_t len) override {
    out.emplace_back(data, data + len);
  }
  void on_dtls_connected(const dp::DtlsSrtpKeys& k) override { keys = k; }
  void on_dtls_failed(const std::string&) override {}
  void on_dtls_closed() override {}

  std::shared_ptr<dp::DtlsCertificate> cert_;
  dp::DtlsTransport dtls_;
  dp::DtlsRole role_;
  std::vector<dp::DtlsFingerprint> client_fingerprints_;
};

uint64_t now_ms() { return now_ns() / 1000000; }

struct Pair {
  std::shared_ptr<dp::DtlsCertificate> client_cert = certificate();
  Client client;
  FakeWeir weir;
  std::unique_ptr<WebRtcEndpoint> endpoint;

  explicit Pair(dp::DtlsRole client_role, bool wrong_fingerprint = false)
      : weir(client_role == dp::DtlsRole::client ? dp::DtlsRole::server : dp::DtlsRole::client,
             {wrong_fingerprint ? pktgen::wrong_fingerprint(sha256_fingerprint(*client_cert))
                                : sha256_fingerprint(*client_cert)}) {
    WebRtcEndpointConfig c;
    c.remote = weir.credentials;
    c.dtls_role = client_role;
    c.remote_fingerprints = weir.fingerprints();
    c.certificate = client_cert;
    c.srtp_suites = {kSuite};
    c.local = weir.client_address;
    c.consent_interval_ms = 1000;
    c.ice_timeout_ms = 3000;
    endpoint = std::make_unique<WebRtcEndpoint>(c, client);
  }

  // Moves datagrams both ways until both sides are quiet.
  void pump(uint64_t now) {
    for (int round = 0; round < 100 && (!client.out.empty() || !weir.out.empty()); ++round) {
      while (!client.out.empty()) {
        Datagram d = std::move(client.out.front());
        client.out.pop_front();
        weir.receive(d, now);
      }
      while (!weir.out.empty()) {
        Datagram d = std::move(weir.out.front());
        weir.out.pop_front();
        endpoint->on_datagram(classify_datagram(d.data(), d.size()), d.data(), d.size(), now);
      }
    }
  }
};

void expect_connected(Pair& p) {
  EXPECT_EQ(p.endpoint->state(), WebRtcEndpoint::State::connected) << p.endpoint->failure();
  ASSERT_TRUE(p.client.keys);
  ASSERT_TRUE(p.weir.keys);
  EXPECT_EQ(p.client.keys->suite, kSuite);
  EXPECT_EQ(p.client.keys->local, p.weir.keys->remote);
  EXPECT_EQ(p.client.keys->remote, p.weir.keys->local);
  EXPECT_EQ(p.client.keys->local.size(), dp::srtp_master_length(kSuite));
}

TEST(WebRtcEndpoint, ConnectsAsDtlsClient) {
  Pair p(dp::DtlsRole::client);
  const uint64_t t = now_ms();
  p.endpoint->start(t);
  ASSERT_EQ(p.client.out.size(), 1u);  // the first check, nothing else yet
  p.pump(t);
  ASSERT_FALSE(p.weir.checks.empty());
  wire::StunMessageView first;
  ASSERT_TRUE(
      wire::StunMessageView::parse(p.weir.checks[0].data(), p.weir.checks[0].size(), first));
  EXPECT_TRUE(first.has_use_candidate());
  EXPECT_TRUE(first.has_ice_controlling());
  EXPECT_EQ(first.ice_tiebreaker(), p.endpoint->tiebreaker());
  EXPECT_EQ(first.username(), "weirufrag:" + p.endpoint->local_credentials().ufrag);
  expect_connected(p);
  EXPECT_EQ(p.endpoint->dtls_state(), dp::DtlsState::connected);
}

TEST(WebRtcEndpoint, ConnectsAsDtlsServer) {
  Pair p(dp::DtlsRole::server);
  const uint64_t t = now_ms();
  p.endpoint->start(t);
  p.pump(t);
  expect_connected(p);
}

TEST(WebRtcEndpoint, RetransmitsTheSameTransactionUntilAnswered) {
  Pair p(dp::DtlsRole::client);
  p.weir.answer = false;
  const uint64_t t = now_ms();
  p.endpoint->start(t);
  p.pump(t);
  const uint64_t due = p.endpoint->next_due_ms();
  ASSERT_GT(due, t);
  ASSERT_LE(due, t + 1000);
  p.endpoint->on_timer(due);
  p.pump(due);
  ASSERT_EQ(p.weir.checks.size(), 2u);
  EXPECT_EQ(p.endpoint->stats().retransmissions, 1u);
  EXPECT_EQ(std::vector<uint8_t>(p.weir.checks[0].begin() + 8, p.weir.checks[0].begin() + 20),
            std::vector<uint8_t>(p.weir.checks[1].begin() + 8, p.weir.checks[1].begin() + 20));
  EXPECT_EQ(p.endpoint->state(), WebRtcEndpoint::State::checking);
  p.weir.answer = true;
  const uint64_t due2 = p.endpoint->next_due_ms();
  p.endpoint->on_timer(due2);
  p.pump(due2);
  expect_connected(p);
}

TEST(WebRtcEndpoint, RefusesAnswersSignedWithAnotherPassword) {
  Pair p(dp::DtlsRole::client);
  p.weir.answer_password = "somebody else's password";
  const uint64_t t = now_ms();
  p.endpoint->start(t);
  p.pump(t);
  EXPECT_EQ(p.endpoint->state(), WebRtcEndpoint::State::checking);
  EXPECT_EQ(p.endpoint->stats().rejected, 1u);
  EXPECT_EQ(p.endpoint->stats().successes, 0u);
}

TEST(WebRtcEndpoint, FailsWhenNoCheckIsAnswered) {
  Pair p(dp::DtlsRole::client);
  p.weir.answer = false;
  uint64_t t = now_ms();
  p.endpoint->start(t);
  for (int i = 0; i < 100 && p.endpoint->state() == WebRtcEndpoint::State::checking; ++i) {
    t = p.endpoint->next_due_ms();
    p.endpoint->on_timer(t);
    p.pump(t);
  }
  EXPECT_EQ(p.endpoint->state(), WebRtcEndpoint::State::failed);
  EXPECT_NE(p.endpoint->failure().find("no ICE check answered"), std::string::npos);
  EXPECT_EQ(p.endpoint->next_due_ms(), WebRtcEndpoint::kNever);
}

TEST(WebRtcEndpoint, ConsentChecksKeepComing) {
  Pair p(dp::DtlsRole::client);
  uint64_t t = now_ms();
  p.endpoint->start(t);
  p.pump(t);
  expect_connected(p);
  const size_t before = p.weir.checks.size();
  for (int i = 0; i < 3; ++i) {
    const uint64_t due = p.endpoint->next_due_ms();
    // 1000 ms randomized to 0.8-1.2 x (DTLS has no timer once connected).
    ASSERT_GE(due, t + 800);
    ASSERT_LE(due, t + 1200);
    t = due;
    p.endpoint->on_timer(t);
    p.pump(t);
  }
  ASSERT_EQ(p.weir.checks.size(), before + 3);
  wire::StunMessageView consent;
  ASSERT_TRUE(wire::StunMessageView::parse(p.weir.checks.back().data(), p.weir.checks.back().size(),
                                           consent));
  EXPECT_FALSE(consent.has_use_candidate());
  EXPECT_EQ(consent.ice_tiebreaker(), p.endpoint->tiebreaker());  // one agent, one tiebreaker
  EXPECT_EQ(p.endpoint->stats().successes, before + 3);
}

TEST(WebRtcEndpoint, IceRestartSwitchesCredentials) {
  Pair p(dp::DtlsRole::client);
  uint64_t t = now_ms();
  p.endpoint->start(t);
  p.pump(t);
  expect_connected(p);
  const std::string old_ufrag = p.endpoint->local_credentials().ufrag;
  p.weir.credentials = {"newweirufrag", "new-weir-password-0123456789"};
  p.endpoint->restart_ice(p.weir.credentials, t + 10);
  EXPECT_TRUE(p.endpoint->restart_pending());
  p.pump(t + 10);
  EXPECT_FALSE(p.endpoint->restart_pending());
  EXPECT_EQ(p.endpoint->stats().restarts_completed, 1u);
  EXPECT_NE(p.endpoint->local_credentials().ufrag, old_ufrag);
  wire::StunMessageView check;
  ASSERT_TRUE(wire::StunMessageView::parse(p.weir.checks.back().data(), p.weir.checks.back().size(),
                                           check));
  EXPECT_EQ(check.username(), "newweirufrag:" + p.endpoint->local_credentials().ufrag);
  EXPECT_TRUE(check.has_use_candidate());
  EXPECT_TRUE(check.check_integrity("new-weir-password-0123456789"));
  EXPECT_EQ(p.endpoint->state(), WebRtcEndpoint::State::connected);  // DTLS untouched
}

TEST(WebRtcEndpoint, SilentSendsNothingAndIgnoresEverything) {
  Pair p(dp::DtlsRole::client);
  uint64_t t = now_ms();
  p.endpoint->start(t);
  p.pump(t);
  expect_connected(p);
  p.endpoint->set_silent(true);
  EXPECT_EQ(p.endpoint->next_due_ms(), WebRtcEndpoint::kNever);
  p.endpoint->on_timer(t + 5000);
  EXPECT_TRUE(p.client.out.empty());
  const uint8_t stun[20] = {0x01, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x42};
  p.endpoint->on_datagram(DatagramKind::stun, stun, sizeof stun, t + 5000);
  EXPECT_EQ(p.endpoint->stats().ignored, 1u);
  EXPECT_EQ(p.endpoint->stats().rejected, 0u);
}

TEST(WebRtcEndpoint, FailsWhenWeirRefusesItsFingerprint) {
  for (const auto role : {dp::DtlsRole::client, dp::DtlsRole::server}) {
    Pair p(role, /*wrong_fingerprint=*/true);
    const uint64_t t = now_ms();
    p.endpoint->start(t);
    p.pump(t);
    EXPECT_EQ(p.endpoint->state(), WebRtcEndpoint::State::failed);
    EXPECT_EQ(p.weir.dtls_state(), dp::DtlsState::failed);
    EXPECT_FALSE(p.client.keys);
    EXPECT_EQ(p.endpoint->next_due_ms(), WebRtcEndpoint::kNever);
  }
}

}  // namespace
}  // namespace weir::pktgen
