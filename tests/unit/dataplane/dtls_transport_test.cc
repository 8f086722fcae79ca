// DtlsTransport pairs wired to each other in memory (no sockets), and DtlsCertificate.
// OpenSSL measures DTLS retransmission timers in real time while the tests drive a fake
// clock, so the pump advances the fake clock only as fast as it really sleeps: a timer due
// on the fake clock is then due for OpenSSL too. Nothing asserts on durations.
#include "dataplane/dtls_transport.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

namespace weir::dp {
namespace {

using Bytes = std::vector<uint8_t>;

struct Endpoint : DtlsTransport::Listener {
  std::deque<Bytes> outbox;
  int connected_calls = 0;
  int failed_calls = 0;
  int closed_calls = 0;
  std::string reason;
  std::optional<DtlsSrtpKeys> keys;
  std::vector<Bytes> received;

  void on_dtls_send(const uint8_t* data, size_t len) override {
    outbox.emplace_back(data, data + len);
  }
  void on_dtls_connected(const DtlsSrtpKeys& k) override {
    ++connected_calls;
    keys = k;
  }
  void on_dtls_failed(const std::string& r) override {
    ++failed_calls;
    reason = r;
  }
  void on_dtls_closed() override { ++closed_calls; }
  void on_dtls_application_data(const uint8_t* data, size_t len) override {
    received.emplace_back(data, data + len);
  }
};

std::shared_ptr<DtlsCertificate> make_certificate() {
  std::string error;
  auto cert = DtlsCertificate::generate(&error);
  EXPECT_NE(cert, nullptr) << error;
  return cert;
}

std::vector<DtlsFingerprint> sha256_of(const DtlsCertificate& cert) {
  return {cert.fingerprints().back()};
}

// Datagram filter: (from the client?, index of the datagram in that direction, datagram);
// true drops it.
using DropFn = std::function<bool(bool from_client, size_t index, const Bytes&)>;

class Pair {
 public:
  explicit Pair(DtlsOptions client_options = fast_options(),
                DtlsOptions server_options = fast_options())
      : client_cert_(make_certificate()),
        server_cert_(make_certificate()),
        client(std::make_unique<DtlsTransport>(client_cert_, client_ep, client_options)),
        server(std::make_unique<DtlsTransport>(server_cert_, server_ep, server_options)) {}

  static DtlsOptions fast_options() {
    DtlsOptions o;
    o.initial_retransmit_ms = 20;
    return o;
  }

  void start_client(std::vector<DtlsFingerprint> remote = {}) {
    std::string error;
    if (remote.empty()) remote = sha256_of(*server_cert_);
    ASSERT_TRUE(client->start(DtlsRole::client, remote, now, &error)) << error;
  }
  void start_server(std::vector<DtlsFingerprint> remote = {}) {
    std::string error;
    if (remote.empty()) remote = sha256_of(*client_cert_);
    ASSERT_TRUE(server->start(DtlsRole::server, remote, now, &error)) << error;
  }

  // Delivers what is queued in both directions once; true if anything was handed over.
  bool deliver() {
    bool any = false;
    auto move_all = [&](Endpoint& from, DtlsTransport& to, bool from_client) {
      std::deque<Bytes> batch = std::move(from.outbox);
      from.outbox.clear();
      for (auto& d : batch) {
        any = true;
        size_t& index = from_client ? client_sent : server_sent;
        const bool dropped = drop && drop(from_client, index, d);
        ++index;
        if (!dropped) to.on_packet(d.data(), d.size(), now);
      }
    };
    move_all(client_ep, *server, true);
    move_all(server_ep, *client, false);
    return any;
  }

  void fire_timers() {
    for (DtlsTransport* t : {client.get(), server.get()}) {
      auto due = t->next_timeout_ms();
      if (due && now >= *due) t->on_timeout(now);
    }
  }

  // Pumps until done() holds, sleeping (and advancing the fake clock by as much) only when
  // nothing is in flight. Bounded by real time (about 8 s), not by a duration to assert on.
  bool run_until(const std::function<bool()>& done) {
    for (int i = 0; i < 4000; ++i) {
      if (done()) return true;
      if (deliver()) continue;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      now += 2;
      fire_timers();
    }
    return done();
  }

  bool both_connected() const {
    return client->state() == DtlsState::connected && server->state() == DtlsState::connected;
  }
  bool handshake() {
    start_client();
    start_server();
    return run_until([this] { return both_connected(); });
  }

  std::shared_ptr<DtlsCertificate> client_cert_;
  std::shared_ptr<DtlsCertificate> server_cert_;
  Endpoint client_ep;
  Endpoint server_ep;
  std::unique_ptr<DtlsTransport> client;
  std::unique_ptr<DtlsTransport> server;
  uint64_t now = 1'000'000;
  DropFn drop;
  size_t client_sent = 0;
  size_t server_sent = 0;
};

Bytes rtp_packet(uint16_t seq, size_t payload) {
  Bytes p(12 + payload);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  p[7] = 0x42;
  p[8] = 0x11, p[9] = 0x22, p[10] = 0x33, p[11] = 0x44;
  for (size_t i = 12; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 13 + seq);
  return p;
}

// protect with one side's local key, unprotect with the other side's remote key.
void expect_keys_work(const DtlsSrtpKeys& sender, const DtlsSrtpKeys& receiver) {
  std::string error;
  auto out =
      SrtpSession::create(sender.suite, SrtpSession::Direction::outbound, sender.local, &error);
  ASSERT_NE(out, nullptr) << error;
  auto in =
      SrtpSession::create(receiver.suite, SrtpSession::Direction::inbound, receiver.remote, &error);
  ASSERT_NE(in, nullptr) << error;
  const Bytes plain = rtp_packet(7, 100);
  Bytes buf = plain;
  buf.resize(plain.size() + SrtpSession::kMaxTrailer);
  size_t len = plain.size();
  ASSERT_EQ(out->protect_rtp(buf.data(), len, buf.size()), SrtpStatus::ok);
  EXPECT_EQ(len, plain.size() + srtp_rtp_trailer_length(sender.suite));
  ASSERT_EQ(in->unprotect_rtp(buf.data(), len), SrtpStatus::ok);
  ASSERT_EQ(len, plain.size());
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buf.begin()));
}

void expect_mirrored(const Endpoint& client, const Endpoint& server, SrtpSuite suite) {
  ASSERT_TRUE(client.keys && server.keys);
  EXPECT_EQ(client.keys->suite, suite);
  EXPECT_EQ(server.keys->suite, suite);
  EXPECT_EQ(client.keys->local.size(), srtp_master_length(suite));
  EXPECT_EQ(client.keys->remote.size(), srtp_master_length(suite));
  EXPECT_EQ(client.keys->local, server.keys->remote);
  EXPECT_EQ(client.keys->remote, server.keys->local);
  EXPECT_NE(client.keys->local, client.keys->remote);
  expect_keys_work(*client.keys, *server.keys);
  expect_keys_work(*server.keys, *client.keys);
}

TEST(DtlsTransport, HandshakeClientStartsFirst) {
  Pair p;
  ASSERT_TRUE(p.handshake()) << p.client_ep.reason << " / " << p.server_ep.reason;
  EXPECT_EQ(p.client_ep.connected_calls, 1);
  EXPECT_EQ(p.server_ep.connected_calls, 1);
  EXPECT_EQ(p.client->role(), DtlsRole::client);
  EXPECT_EQ(p.server->role(), DtlsRole::server);
  // Default preference: GCM first.
  expect_mirrored(p.client_ep, p.server_ep, SrtpSuite::aead_aes_128_gcm);
  EXPECT_FALSE(p.client->next_timeout_ms());
  EXPECT_FALSE(p.server->next_timeout_ms());
}

// Every datagram fits options.mtu, also when OpenSSL must fragment the certificate.
TEST(DtlsTransport, DatagramsRespectMtu) {
  // Signature lengths vary by a byte or two, so each size gets a few handshakes.
  for (int round = 0; round < 24; ++round) {
    const uint16_t mtu = std::array<uint16_t, 3>{300, 576, 1200}[round % 3];
    DtlsOptions o = Pair::fast_options();
    o.mtu = mtu;
    Pair p(o, o);
    size_t largest = 0;
    p.drop = [&](bool, size_t, const Bytes& d) {
      largest = std::max(largest, d.size());
      return false;
    };
    ASSERT_TRUE(p.handshake()) << mtu << ": " << p.client_ep.reason << " / " << p.server_ep.reason;
    EXPECT_LE(largest, mtu);
    EXPECT_GT(largest, 0u);
  }
}

// The ClientHello reaches the server before its start(): it is kept and answered then.
TEST(DtlsTransport, ServerGetsClientHelloBeforeStart) {
  Pair p;
  p.start_client();
  ASSERT_FALSE(p.client_ep.outbox.empty());
  p.deliver();
  EXPECT_EQ(p.server->state(), DtlsState::fresh);
  EXPECT_TRUE(p.server_ep.outbox.empty());
  p.start_server();
  EXPECT_FALSE(p.server_ep.outbox.empty());  // the server's first flight, from start()
  ASSERT_TRUE(p.run_until([&] { return p.both_connected(); }));
  expect_mirrored(p.client_ep, p.server_ep, SrtpSuite::aead_aes_128_gcm);
}

// The other role assignment: the transport wired as "client" in the pair (built first,
// delivered to first) takes the server role. Names in Pair then describe wiring, not roles.
TEST(DtlsTransport, HandshakeRolesSwapped) {
  Pair p;
  std::string error;
  // The server starts first here, and gets the ClientHello after its start().
  ASSERT_TRUE(p.client->start(DtlsRole::server, sha256_of(*p.server_cert_), p.now, &error))
      << error;
  EXPECT_TRUE(p.client_ep.outbox.empty());
  ASSERT_TRUE(p.server->start(DtlsRole::client, sha256_of(*p.client_cert_), p.now, &error))
      << error;
  ASSERT_TRUE(p.run_until([&] { return p.both_connected(); }))
      << p.client_ep.reason << " / " << p.server_ep.reason;
  EXPECT_EQ(p.client->role(), DtlsRole::server);
  EXPECT_EQ(p.server->role(), DtlsRole::client);
  expect_mirrored(p.server_ep, p.client_ep, SrtpSuite::aead_aes_128_gcm);
}

class DtlsSuiteTest : public ::testing::TestWithParam<SrtpSuite> {};

TEST_P(DtlsSuiteTest, NegotiatesRestrictedSuite) {
  // The client offers all three; the server accepts only the one under test.
  DtlsOptions server_options = Pair::fast_options();
  server_options.srtp_suites = {GetParam()};
  Pair p(Pair::fast_options(), server_options);
  ASSERT_TRUE(p.handshake()) << p.client_ep.reason << " / " << p.server_ep.reason;
  expect_mirrored(p.client_ep, p.server_ep, GetParam());
}

TEST_P(DtlsSuiteTest, NegotiatesWhenOnlyClientRestricts) {
  DtlsOptions client_options = Pair::fast_options();
  client_options.srtp_suites = {GetParam()};
  Pair p(client_options, Pair::fast_options());
  ASSERT_TRUE(p.handshake()) << p.client_ep.reason << " / " << p.server_ep.reason;
  expect_mirrored(p.client_ep, p.server_ep, GetParam());
}

INSTANTIATE_TEST_SUITE_P(AllSuites, DtlsSuiteTest,
                         ::testing::Values(SrtpSuite::aead_aes_128_gcm,
                                           SrtpSuite::aes_cm_128_hmac_sha1_80,
                                           SrtpSuite::aes_cm_128_hmac_sha1_32),
                         [](const auto& param_info) {
                           return std::string(srtp_suite_name(param_info.param));
                         });

TEST(DtlsTransport, ServerPreferenceWins) {
  DtlsOptions client_options = Pair::fast_options();
  client_options.srtp_suites = {SrtpSuite::aead_aes_128_gcm, SrtpSuite::aes_cm_128_hmac_sha1_80};
  DtlsOptions server_options = Pair::fast_options();
  server_options.srtp_suites = {SrtpSuite::aes_cm_128_hmac_sha1_80, SrtpSuite::aead_aes_128_gcm};
  Pair p(client_options, server_options);
  ASSERT_TRUE(p.handshake());
  expect_mirrored(p.client_ep, p.server_ep, SrtpSuite::aes_cm_128_hmac_sha1_80);
}

TEST(DtlsTransport, NoCommonSrtpProfileFails) {
  DtlsOptions client_options = Pair::fast_options();
  client_options.srtp_suites = {SrtpSuite::aes_cm_128_hmac_sha1_32};
  DtlsOptions server_options = Pair::fast_options();
  server_options.srtp_suites = {SrtpSuite::aead_aes_128_gcm};
  Pair p(client_options, server_options);
  p.start_client();
  p.start_server();
  ASSERT_TRUE(p.run_until([&] {
    return p.client->state() == DtlsState::failed || p.server->state() == DtlsState::failed;
  }));
  EXPECT_EQ(p.client_ep.connected_calls + p.server_ep.connected_calls, 0);
  const std::string reason = p.client_ep.reason + p.server_ep.reason;
  EXPECT_NE(reason.find("SRTP"), std::string::npos) << reason;
}

// The check runs on the peer's Certificate message: the checking side refuses with an
// alert, so the other side fails too and neither ever connects.
TEST(DtlsTransport, WrongFingerprintFailsTheCheckingSide) {
  Pair p;
  auto other = make_certificate();
  p.start_client(sha256_of(*other));  // the client expects some other server
  p.start_server();
  ASSERT_TRUE(p.run_until([&] {
    return p.client->state() == DtlsState::failed && p.server->state() == DtlsState::failed;
  })) << dtls_state_name(p.client->state())
      << " / " << dtls_state_name(p.server->state());
  EXPECT_EQ(p.client_ep.failed_calls, 1);
  EXPECT_EQ(p.client_ep.connected_calls, 0);
  EXPECT_EQ(p.server_ep.connected_calls, 0);
  EXPECT_FALSE(p.client_ep.keys);
  EXPECT_FALSE(p.server_ep.keys);
  EXPECT_NE(p.client_ep.reason.find("fingerprint mismatch"), std::string::npos)
      << p.client_ep.reason;
  EXPECT_NE(p.client_ep.reason.find(other->fingerprints().back().value), std::string::npos);
  // The server learns of it from the client's alert.
  EXPECT_NE(p.server_ep.reason.find("alert"), std::string::npos) << p.server_ep.reason;
  EXPECT_FALSE(p.client->next_timeout_ms());
  // A failed transport ignores what comes later.
  p.client->on_timeout(p.now + 100000);
  const Bytes junk(40, 22);
  p.client->on_packet(junk.data(), junk.size(), p.now);
  EXPECT_EQ(p.client_ep.failed_calls, 1);
  EXPECT_EQ(p.client->state(), DtlsState::failed);
}

TEST(DtlsTransport, WrongFingerprintOnServerSide) {
  Pair p;
  auto other = make_certificate();
  p.start_client();
  p.start_server(sha256_of(*other));
  ASSERT_TRUE(p.run_until([&] {
    return p.client->state() == DtlsState::failed && p.server->state() == DtlsState::failed;
  })) << dtls_state_name(p.client->state())
      << " / " << dtls_state_name(p.server->state());
  EXPECT_EQ(p.server_ep.connected_calls, 0);
  EXPECT_EQ(p.client_ep.connected_calls, 0);
  EXPECT_FALSE(p.server_ep.keys);
  EXPECT_NE(p.server_ep.reason.find("fingerprint mismatch"), std::string::npos)
      << p.server_ep.reason;
  EXPECT_NE(p.client_ep.reason.find("alert"), std::string::npos) << p.client_ep.reason;
}

TEST(DtlsTransport, FingerprintCaseAndOtherAlgorithms) {
  Pair p;
  // sha-1 first, in lowercase: the first supported entry is the one checked.
  DtlsFingerprint sha1 = p.server_cert_->fingerprints().front();
  ASSERT_EQ(sha1.algorithm, "sha-1");
  for (char& c : sha1.value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  p.start_client({{"md5", "00:11"}, sha1});
  p.start_server();
  ASSERT_TRUE(p.run_until([&] { return p.both_connected(); }))
      << p.client_ep.reason << " / " << p.server_ep.reason;
}

TEST(DtlsTransport, StartErrors) {
  auto cert = make_certificate();
  Endpoint ep;
  DtlsTransport t(cert, ep);
  std::string error;
  EXPECT_FALSE(t.start(DtlsRole::client, {}, 0, &error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(t.start(DtlsRole::client, {{"md5", "00:11"}}, 0, &error));
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(t.state(), DtlsState::fresh);
  EXPECT_FALSE(t.next_timeout_ms());
  ASSERT_TRUE(t.start(DtlsRole::client, sha256_of(*cert), 0, &error)) << error;
  EXPECT_EQ(t.state(), DtlsState::connecting);
  EXPECT_FALSE(ep.outbox.empty());  // ClientHello at once
  error.clear();
  EXPECT_FALSE(t.start(DtlsRole::client, sha256_of(*cert), 0, &error));
  EXPECT_NE(error.find("already"), std::string::npos) << error;
  EXPECT_FALSE(t.send_application_data(reinterpret_cast<const uint8_t*>("x"), 1));

  DtlsOptions none;
  none.srtp_suites.clear();
  DtlsTransport u(cert, ep, none);
  EXPECT_FALSE(u.start(DtlsRole::server, sha256_of(*cert), 0, &error));
}

// The first flights in each direction are lost; the retransmission timers recover.
TEST(DtlsTransport, SurvivesLostFirstFlights) {
  Pair p;
  p.drop = [](bool from_client, size_t index, const Bytes&) {
    return from_client ? index == 0  // the first ClientHello
                       : index < 3;  // the start of the server's first flight
  };
  ASSERT_TRUE(p.handshake()) << p.client_ep.reason << " / " << p.server_ep.reason;
  EXPECT_GT(p.client_sent, 1u);
  expect_mirrored(p.client_ep, p.server_ep, SrtpSuite::aead_aes_128_gcm);
}

// The server's final flight (ChangeCipherSpec, Finished) is lost once: the server is already
// connected, the client retransmits its flight on its timer, and the server's OpenSSL
// answers that retransmission with its final flight again.
TEST(DtlsTransport, SurvivesLostFinalFlight) {
  Pair p;
  int dropped = 0;
  p.drop = [&](bool from_client, size_t, const Bytes&) {
    if (from_client || p.server->state() != DtlsState::connected || dropped >= 2) return false;
    ++dropped;
    return true;
  };
  ASSERT_TRUE(p.handshake()) << p.client_ep.reason << " / " << p.server_ep.reason;
  EXPECT_EQ(dropped, 2);
  EXPECT_EQ(p.server_ep.connected_calls, 1);
  EXPECT_EQ(p.client_ep.connected_calls, 1);
  expect_mirrored(p.client_ep, p.server_ep, SrtpSuite::aead_aes_128_gcm);
}

TEST(DtlsTransport, HandshakeTimesOut) {
  auto cert = make_certificate();
  Endpoint ep;
  DtlsOptions options;
  options.initial_retransmit_ms = 1000;
  options.handshake_timeout_ms = 5000;
  DtlsTransport t(cert, ep, options);
  std::string error;
  uint64_t now = 500;
  ASSERT_TRUE(t.start(DtlsRole::client, sha256_of(*cert), now, &error)) << error;
  for (int i = 0; i < 1000 && t.state() == DtlsState::connecting; ++i) {
    auto due = t.next_timeout_ms();
    ASSERT_TRUE(due);
    EXPECT_LE(*due, 500u + 5000u);
    if (now < 500 + 5000) {
      EXPECT_EQ(t.state(), DtlsState::connecting);
    }
    now += 100;
    t.on_timeout(now);
  }
  EXPECT_EQ(t.state(), DtlsState::failed);
  EXPECT_GE(now, 500u + 5000u);
  EXPECT_EQ(ep.failed_calls, 1);
  EXPECT_NE(ep.reason.find("handshake timed out"), std::string::npos) << ep.reason;
  EXPECT_FALSE(t.next_timeout_ms());
}

// A server that never hears from its client times out too (it has no OpenSSL timer).
TEST(DtlsTransport, ServerHandshakeTimesOut) {
  auto cert = make_certificate();
  Endpoint ep;
  DtlsOptions options;
  options.handshake_timeout_ms = 3000;
  DtlsTransport t(cert, ep, options);
  std::string error;
  ASSERT_TRUE(t.start(DtlsRole::server, sha256_of(*cert), 0, &error)) << error;
  EXPECT_TRUE(ep.outbox.empty());
  auto due = t.next_timeout_ms();
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, 3000u);
  t.on_timeout(2999);
  EXPECT_EQ(t.state(), DtlsState::connecting);
  t.on_timeout(3000);
  EXPECT_EQ(t.state(), DtlsState::failed);
  EXPECT_NE(ep.reason.find("handshake timed out"), std::string::npos) << ep.reason;
}

TEST(DtlsTransport, ApplicationDataBothWays) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  const Bytes a(300, 0xA5);
  Bytes b(1000);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i);
  ASSERT_TRUE(p.client->send_application_data(a.data(), a.size()));
  ASSERT_TRUE(p.server->send_application_data(b.data(), b.size()));
  ASSERT_TRUE(p.client->send_application_data(b.data(), 1));
  ASSERT_TRUE(p.run_until(
      [&] { return p.server_ep.received.size() == 2 && p.client_ep.received.size() == 1; }));
  EXPECT_EQ(p.server_ep.received[0], a);
  EXPECT_EQ(p.server_ep.received[1], Bytes(1, 0));
  EXPECT_EQ(p.client_ep.received[0], b);
  EXPECT_FALSE(p.client->send_application_data(b.data(), 0));
  const Bytes huge(20000, 1);
  EXPECT_FALSE(p.client->send_application_data(huge.data(), huge.size()));
  EXPECT_EQ(p.client->state(), DtlsState::connected);  // refused, not fatal
}

TEST(DtlsTransport, CloseNotifyReachesPeer) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  p.client->close();
  EXPECT_EQ(p.client->state(), DtlsState::closed);
  EXPECT_EQ(p.client_ep.closed_calls, 0);  // local close: no callback
  ASSERT_FALSE(p.client_ep.outbox.empty());
  ASSERT_TRUE(p.run_until([&] { return p.server->state() == DtlsState::closed; }));
  EXPECT_EQ(p.server_ep.closed_calls, 1);
  EXPECT_EQ(p.server_ep.failed_calls, 0);
  const Bytes x(10, 1);
  EXPECT_FALSE(p.client->send_application_data(x.data(), x.size()));
  EXPECT_FALSE(p.server->send_application_data(x.data(), x.size()));
  p.client->close();  // idempotent
  EXPECT_EQ(p.client->state(), DtlsState::closed);
}

TEST(DtlsTransport, CloseWhileConnecting) {
  Pair p;
  p.start_client();
  p.client->close();
  EXPECT_EQ(p.client->state(), DtlsState::closed);
  EXPECT_FALSE(p.client->next_timeout_ms());
}

std::vector<Bytes> garbage_datagrams() {
  std::vector<Bytes> out;
  std::mt19937 rng(1234);
  for (size_t n : {1u, 3u, 13u, 14u, 25u, 100u, 1200u}) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    out.push_back(b);
  }
  // Plausible DTLS 1.2 record headers with nonsense behind them, per content type.
  for (uint8_t type : {20, 21, 22, 23}) {
    for (uint8_t epoch : {0, 1}) {
      Bytes b = {type, 0xfe, 0xfd, 0, epoch, 0, 0, 0, 0, 0, 9, 0, 40};
      for (int i = 0; i < 40; ++i) b.push_back(static_cast<uint8_t>(rng()));
      out.push_back(b);
      Bytes lying = {type, 0xfe, 0xfd, 0, epoch, 0, 0, 0, 0, 0, 10, 0xff, 0xff, 1, 2, 3};
      out.push_back(lying);
    }
  }
  // A ClientHello-looking handshake header with a length beyond the datagram.
  out.push_back({22,   0xfe, 0xff, 0, 0, 0, 0, 0, 0,    0,    0,    0,    20,  1,
                 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe, 0xfd});
  return out;
}

TEST(DtlsTransport, GarbageWhileConnectingDoesNotConnect) {
  for (const Bytes& g : garbage_datagrams()) {
    Pair p;
    p.start_client();
    p.start_server();
    p.server->on_packet(g.data(), g.size(), p.now);  // before the ClientHello
    p.client->on_packet(g.data(), g.size(), p.now);  // while awaiting the ServerHello
    EXPECT_NE(p.server->state(), DtlsState::connected);
    EXPECT_NE(p.client->state(), DtlsState::connected);
    EXPECT_EQ(p.client_ep.connected_calls + p.server_ep.connected_calls, 0);
  }
  // Garbage only, to a server that has not seen a ClientHello, never connects it.
  auto cert = make_certificate();
  Endpoint ep;
  DtlsTransport t(cert, ep);
  for (const Bytes& g : garbage_datagrams()) t.on_packet(g.data(), g.size(), 0);
  std::string error;
  ASSERT_TRUE(t.start(DtlsRole::server, sha256_of(*cert), 0, &error)) << error;
  for (const Bytes& g : garbage_datagrams()) t.on_packet(g.data(), g.size(), 1);
  EXPECT_NE(t.state(), DtlsState::connected);
  EXPECT_EQ(ep.connected_calls, 0);
}

// DTLS drops records it cannot parse or authenticate (RFC 6347 4.1.2.7): a connected
// transport stays connected and keeps working.
TEST(DtlsTransport, GarbageWhileConnectedIsDropped) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  for (const Bytes& g : garbage_datagrams()) {
    p.client->on_packet(g.data(), g.size(), p.now);
    p.server->on_packet(g.data(), g.size(), p.now);
  }
  EXPECT_EQ(p.client->state(), DtlsState::connected);
  EXPECT_EQ(p.server->state(), DtlsState::connected);
  EXPECT_TRUE(p.client_ep.received.empty());
  EXPECT_TRUE(p.server_ep.received.empty());
  const Bytes a(50, 7);
  ASSERT_TRUE(p.client->send_application_data(a.data(), a.size()));
  ASSERT_TRUE(p.run_until([&] { return p.server_ep.received.size() == 1; }));
  EXPECT_EQ(p.server_ep.received[0], a);
}

TEST(DtlsTransport, StateNames) {
  EXPECT_STREQ(dtls_state_name(DtlsState::fresh), "new");
  EXPECT_STREQ(dtls_state_name(DtlsState::connecting), "connecting");
  EXPECT_STREQ(dtls_state_name(DtlsState::connected), "connected");
  EXPECT_STREQ(dtls_state_name(DtlsState::failed), "failed");
  EXPECT_STREQ(dtls_state_name(DtlsState::closed), "closed");
}

// ---------------------------------------------------------------------------------------
// DtlsCertificate

class TempDir {
 public:
  TempDir() {
    path_ =
        std::filesystem::temp_directory_path() / ("weir-dtls-test-" + std::to_string(::getpid()) +
                                                  "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_pem(const DtlsCertificate& cert, const std::string& cert_path,
               const std::string& key_path) {
  FILE* f = std::fopen(cert_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(PEM_write_X509(f, cert.x509()), 1);
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(PEM_write_PrivateKey(f, cert.private_key(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  std::fclose(f);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The `openssl x509 -fingerprint` form: `bytes` uppercase hex pairs joined by colons.
bool is_openssl_fingerprint(const std::string& s, size_t bytes) {
  if (s.size() != bytes * 3 - 1) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i % 3 == 2) {
      if (c != ':') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

TEST(DtlsCertificate, GenerateFingerprints) {
  auto cert = make_certificate();
  ASSERT_NE(cert, nullptr);
  const auto& fps = cert->fingerprints();
  ASSERT_EQ(fps.size(), 5u);
  EXPECT_EQ(fps[0].algorithm, "sha-1");
  EXPECT_EQ(fps[1].algorithm, "sha-224");
  EXPECT_EQ(fps[2].algorithm, "sha-384");
  EXPECT_EQ(fps[3].algorithm, "sha-512");
  EXPECT_EQ(fps[4].algorithm, "sha-256");
  const size_t bytes[] = {20, 28, 48, 64, 32};
  for (size_t i = 0; i < fps.size(); ++i) {
    EXPECT_TRUE(is_openssl_fingerprint(fps[i].value, bytes[i])) << fps[i].algorithm;
    EXPECT_TRUE(dtls_fingerprint_algorithm_supported(fps[i].algorithm));
  }
  EXPECT_EQ(fps[4].value, dtls_certificate_fingerprint(cert->x509(), "sha-256"));
  EXPECT_TRUE(is_openssl_fingerprint(fps[4].value, 32)) << fps[4].value;
  EXPECT_EQ(dtls_certificate_fingerprint(cert->x509(), "md5"), "");
  EXPECT_FALSE(dtls_fingerprint_algorithm_supported("md5"));
  EXPECT_TRUE(dtls_fingerprint_algorithm_supported("SHA-256"));

  // Fresh key and serial each time.
  auto other = make_certificate();
  EXPECT_NE(other->fingerprints().back().value, fps[4].value);
  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(cert->x509()), X509_get0_serialNumber(other->x509())),
      0);
  // Valid now: a day in the past to a year ahead.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert->x509())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert->x509())), 0);
  EXPECT_EQ(X509_check_private_key(cert->x509(), cert->private_key()), 1);
}

TEST(DtlsCertificate, FingerprintMatchesOpensslCli) {
  auto cert = make_certificate();
  TempDir dir;
  write_pem(*cert, dir.file("cert.pem"), dir.file("key.pem"));
  const std::string cmd = "openssl x509 -noout -fingerprint -sha256 -in '" + dir.file("cert.pem") +
                          "' > '" + dir.file("fp.txt") + "' 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl CLI not available";
  std::string out = read_file(dir.file("fp.txt"));
  const size_t eq = out.find('=');
  ASSERT_NE(eq, std::string::npos) << out;
  out = out.substr(eq + 1);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  EXPECT_EQ(out, cert->fingerprints().back().value);
}

TEST(DtlsCertificate, LoadRoundTrip) {
  auto cert = make_certificate();
  TempDir dir;
  write_pem(*cert, dir.file("cert.pem"), dir.file("key.pem"));
  std::string error;
  auto loaded = DtlsCertificate::load(dir.file("cert.pem"), dir.file("key.pem"), &error);
  ASSERT_NE(loaded, nullptr) << error;
  ASSERT_EQ(loaded->fingerprints().size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(loaded->fingerprints()[i].algorithm, cert->fingerprints()[i].algorithm);
    EXPECT_EQ(loaded->fingerprints()[i].value, cert->fingerprints()[i].value);
  }
  // A loaded certificate handshakes like a generated one.
  Endpoint ce, se;
  auto server_cert = make_certificate();
  DtlsTransport c(loaded, ce, Pair::fast_options());
  DtlsTransport s(server_cert, se, Pair::fast_options());
  ASSERT_TRUE(c.start(DtlsRole::client, sha256_of(*server_cert), 0, &error)) << error;
  ASSERT_TRUE(s.start(DtlsRole::server, sha256_of(*cert), 0, &error)) << error;
  for (int i = 0; i < 100 && (ce.connected_calls == 0 || se.connected_calls == 0); ++i) {
    auto a = std::move(ce.outbox);
    ce.outbox.clear();
    for (auto& d : a) s.on_packet(d.data(), d.size(), 0);
    auto b = std::move(se.outbox);
    se.outbox.clear();
    for (auto& d : b) c.on_packet(d.data(), d.size(), 0);
  }
  EXPECT_EQ(ce.connected_calls, 1) << ce.reason;
  EXPECT_EQ(se.connected_calls, 1) << se.reason;
}

TEST(DtlsCertificate, LoadFromOpensslCli) {
  TempDir dir;
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-subj /CN=weir-cli -days 2 -keyout '" +
      dir.file("k.pem") + "' -out '" + dir.file("c.pem") + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl CLI not available";
  std::string error;
  auto loaded = DtlsCertificate::load(dir.file("c.pem"), dir.file("k.pem"), &error);
  ASSERT_NE(loaded, nullptr) << error;
  EXPECT_EQ(loaded->fingerprints().back().algorithm, "sha-256");
}

TEST(DtlsCertificate, LoadRejectsMismatchedKeyAndMissingFiles) {
  auto a = make_certificate();
  auto b = make_certificate();
  TempDir dir;
  write_pem(*a, dir.file("a.pem"), dir.file("a.key"));
  write_pem(*b, dir.file("b.pem"), dir.file("b.key"));
  std::string error;
  EXPECT_EQ(DtlsCertificate::load(dir.file("a.pem"), dir.file("b.key"), &error), nullptr);
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(DtlsCertificate::load(dir.file("missing.pem"), dir.file("a.key"), &error), nullptr);
  EXPECT_FALSE(error.empty());
  error.clear();
  // Key and certificate swapped: no certificate in the key file.
  EXPECT_EQ(DtlsCertificate::load(dir.file("a.key"), dir.file("a.pem"), &error), nullptr);
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace weir::dp
