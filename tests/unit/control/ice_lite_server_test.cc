// ICE-lite against Binding requests shaped like a browser's (USERNAME, PRIORITY,
// ICE-CONTROLLING, USE-CANDIDATE, NOMINATION, MESSAGE-INTEGRITY, FINGERPRINT): what is
// answered, what is refused and with which code, how tuples are selected, consent.
#include "control/ice_lite_server.h"

#include <gtest/gtest.h>

#include <cstring>

namespace weir::control {
namespace {

struct Check {
  bool use_candidate = false;
  bool controlled = false;
  bool integrity = true;
  bool fingerprint = true;
  uint32_t nomination = 0;  // 0: no NOMINATION attribute
  std::string username;     // empty: "<server ufrag>:peer"
  std::string password;     // empty: the server's
};

class IceLiteServerTest : public ::testing::Test {
 protected:
  IceLiteServerTest() : server_({"serverufrag", "serverpasswordserverpassword"}, 30000) {}

  size_t build(const Check& check, uint8_t* out, size_t cap) {
    uint8_t tid[12];
    for (int i = 0; i < 12; ++i) tid[i] = static_cast<uint8_t>(++tid_counter_ + i);
    wire::StunWriter w(out, cap, wire::kStunMethodBinding, wire::StunClass::request, tid);
    w.add_username(check.username.empty() ? server_.credentials().username_fragment + ":peer"
                                          : check.username);
    w.add_priority(1853817087);
    if (check.controlled) {
      w.add_ice_controlled(42);
    } else {
      w.add_ice_controlling(42);
    }
    if (check.use_candidate) w.add_use_candidate();
    if (check.nomination != 0) w.add_nomination(check.nomination);
    if (check.integrity) {
      w.add_message_integrity(check.password.empty() ? server_.credentials().password
                                                     : check.password);
    }
    if (check.fingerprint) w.add_fingerprint();
    return w.size();
  }

  IceLiteServer::Outcome send(const Check& check, const dp::SocketAddress& from, uint64_t now) {
    uint8_t request[512];
    const size_t len = build(check, request, sizeof request);
    EXPECT_GT(len, 0u);
    wire::StunMessageView view;
    EXPECT_TRUE(wire::StunMessageView::parse(request, len, view));
    const IceLiteServer::Outcome outcome =
        server_.handle(view, from, now, response_, sizeof response_);
    if (outcome.response_len > 0) {
      EXPECT_TRUE(wire::StunMessageView::parse(response_, outcome.response_len, last_response_));
    }
    return outcome;
  }

  IceLiteServer server_;
  uint8_t response_[IceLiteServer::kMaxResponse];
  wire::StunMessageView last_response_;
  uint8_t tid_counter_ = 0;
  dp::SocketAddress a_ = *dp::SocketAddress::parse("127.0.0.1", 50001);
  dp::SocketAddress b_ = *dp::SocketAddress::parse("127.0.0.1", 50002);
};

TEST_F(IceLiteServerTest, CredentialsAreLongAndRandom) {
  const IceCredentials one = generate_ice_credentials();
  const IceCredentials two = generate_ice_credentials();
  EXPECT_EQ(one.username_fragment.size(), 32u);
  EXPECT_EQ(one.password.size(), 32u);
  EXPECT_NE(one.username_fragment, two.username_fragment);
  EXPECT_NE(one.password, two.password);
}

TEST_F(IceLiteServerTest, ValidCheckIsAnsweredWithMappedAddressIntegrityAndFingerprint) {
  const auto outcome = send({}, a_, 1000);
  ASSERT_GT(outcome.response_len, 0u);
  EXPECT_EQ(outcome.rejection, nullptr);
  EXPECT_EQ(last_response_.message_class(), wire::StunClass::success);
  ASSERT_TRUE(last_response_.has_xor_mapped_address());
  sockaddr_storage ss{};
  last_response_.xor_mapped_address().to_sockaddr(ss);
  EXPECT_EQ(dp::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), sizeof ss), a_);
  EXPECT_TRUE(last_response_.check_integrity(server_.credentials().password));
  EXPECT_TRUE(last_response_.check_fingerprint());
  // The first valid tuple carries media at once, before any nomination.
  EXPECT_TRUE(outcome.tuple_added);
  EXPECT_TRUE(outcome.selected_changed);
  EXPECT_EQ(server_.state(), IceState::connected);
  EXPECT_EQ(server_.selected_tuple(), a_);
}

TEST_F(IceLiteServerTest, UseCandidateCompletesAndANewNominationSwitchesTheTuple) {
  send({}, a_, 1000);
  auto outcome = send({.use_candidate = true}, a_, 1001);
  EXPECT_FALSE(outcome.selected_changed);
  EXPECT_EQ(server_.state(), IceState::completed);
  // A check from b without nomination only adds b.
  outcome = send({}, b_, 1002);
  EXPECT_TRUE(outcome.tuple_added);
  EXPECT_FALSE(outcome.selected_changed);
  EXPECT_EQ(server_.selected_tuple(), a_);
  // Nominating b moves media there.
  outcome = send({.use_candidate = true}, b_, 1003);
  EXPECT_TRUE(outcome.selected_changed);
  EXPECT_EQ(server_.selected_tuple(), b_);
  EXPECT_EQ(server_.tuples().size(), 2u);
}

TEST_F(IceLiteServerTest, RenominationTakesOnlyAHigherValue) {
  send({.use_candidate = true, .nomination = 5}, a_, 1000);
  EXPECT_EQ(server_.selected_tuple(), a_);
  auto outcome = send({.use_candidate = true, .nomination = 3}, b_, 1001);
  EXPECT_FALSE(outcome.selected_changed);
  EXPECT_EQ(server_.selected_tuple(), a_);
  outcome = send({.use_candidate = true, .nomination = 6}, b_, 1002);
  EXPECT_TRUE(outcome.selected_changed);
  EXPECT_EQ(server_.selected_tuple(), b_);
}

TEST_F(IceLiteServerTest, WrongUsernameOrPasswordIs401AndChangesNothing) {
  auto outcome = send({.username = "otherufrag:peer"}, a_, 1000);
  ASSERT_GT(outcome.response_len, 0u);
  EXPECT_EQ(last_response_.message_class(), wire::StunClass::error);
  EXPECT_EQ(last_response_.error_code(), 401);
  EXPECT_TRUE(last_response_.check_fingerprint());
  outcome = send({.password = "not the password"}, a_, 1000);
  EXPECT_EQ(last_response_.error_code(), 401);
  EXPECT_EQ(server_.state(), IceState::fresh);
  EXPECT_FALSE(server_.has_selected_tuple());
  EXPECT_TRUE(server_.tuples().empty());
}

TEST_F(IceLiteServerTest, MissingIntegrityOrFingerprintIs400) {
  send({.integrity = false}, a_, 1000);
  EXPECT_EQ(last_response_.error_code(), 400);
  send({.fingerprint = false}, a_, 1000);
  EXPECT_EQ(last_response_.error_code(), 400);
  EXPECT_EQ(server_.state(), IceState::fresh);
}

TEST_F(IceLiteServerTest, ControlledPeerGetsRoleConflict) {
  send({.controlled = true}, a_, 1000);
  EXPECT_EQ(last_response_.error_code(), 487);
  EXPECT_FALSE(server_.has_selected_tuple());
}

TEST_F(IceLiteServerTest, CorruptFingerprintIsDroppedSilently) {
  uint8_t request[512];
  const size_t len = build({}, request, sizeof request);
  request[len - 1] ^= 0x01;  // the CRC itself
  wire::StunMessageView view;
  ASSERT_TRUE(wire::StunMessageView::parse(request, len, view));
  const auto outcome = server_.handle(view, a_, 1000, response_, sizeof response_);
  EXPECT_EQ(outcome.response_len, 0u);
  EXPECT_NE(outcome.rejection, nullptr);
}

TEST_F(IceLiteServerTest, IndicationsAndResponsesAreNotAnswered) {
  uint8_t msg[64];
  const uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  wire::StunWriter w(msg, sizeof msg, wire::kStunMethodBinding, wire::StunClass::indication, tid);
  w.add_fingerprint();
  wire::StunMessageView view;
  ASSERT_TRUE(wire::StunMessageView::parse(msg, w.size(), view));
  EXPECT_EQ(server_.handle(view, a_, 1000, response_, sizeof response_).response_len, 0u);
}

TEST_F(IceLiteServerTest, ConsentIsLostAfterTheTimeoutAndComesBackWithACheck) {
  send({.use_candidate = true}, a_, 1000);
  EXPECT_FALSE(server_.check_consent(1000 + 29999));
  send({}, a_, 20000);  // a consent refresh
  EXPECT_FALSE(server_.check_consent(20000 + 29999));
  EXPECT_TRUE(server_.check_consent(20000 + 30000));
  EXPECT_EQ(server_.state(), IceState::disconnected);
  EXPECT_FALSE(server_.has_selected_tuple());
  EXPECT_TRUE(server_.tuples().empty());
  EXPECT_FALSE(server_.check_consent(20000 + 60000));  // once
  const auto outcome = send({}, b_, 90000);
  EXPECT_TRUE(outcome.selected_changed);
  EXPECT_EQ(server_.state(), IceState::connected);
  EXPECT_EQ(server_.selected_tuple(), b_);
}

TEST_F(IceLiteServerTest, RestartAcceptsNewCredentialsAndOldOnesUntilTheSwitch) {
  send({.use_candidate = true}, a_, 1000);
  const IceCredentials old = server_.credentials();
  server_.restart({"newufrag", "newpasswordnewpasswordnewpass"});
  // The selected tuple stays: media keeps flowing through the restart.
  EXPECT_EQ(server_.selected_tuple(), a_);
  auto outcome =
      send({.username = old.username_fragment + ":peer", .password = old.password}, a_, 2000);
  EXPECT_EQ(outcome.rejection, nullptr);
  EXPECT_TRUE(last_response_.check_integrity(old.password));
  outcome = send({.use_candidate = true}, a_, 3000);  // the new ones
  EXPECT_EQ(outcome.rejection, nullptr);
  EXPECT_TRUE(last_response_.check_integrity("newpasswordnewpasswordnewpass"));
  // Once the new ones are in use, the old ones are refused.
  send({.username = old.username_fragment + ":peer", .password = old.password}, a_, 4000);
  EXPECT_EQ(last_response_.error_code(), 401);
  EXPECT_EQ(server_.selected_tuple(), a_);
}

TEST_F(IceLiteServerTest, LocalUfragIsReadFromTheUsername) {
  uint8_t request[512];
  const size_t len = build({.username = "abcd:efgh"}, request, sizeof request);
  wire::StunMessageView view;
  ASSERT_TRUE(wire::StunMessageView::parse(request, len, view));
  EXPECT_EQ(IceLiteServer::local_ufrag_of(view), "abcd");
}

TEST_F(IceLiteServerTest, ClosedServerAnswersNothing) {
  server_.close();
  EXPECT_EQ(send({}, a_, 1000).response_len, 0u);
  EXPECT_EQ(server_.state(), IceState::closed);
}

}  // namespace
}  // namespace weir::control
