// The check pktgen sends, read back with weir's own STUN parser, and every way an answer
// to it can be refused.
#include "ice_check.h"

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstring>

namespace weir::pktgen {
namespace {

using wire::StunClass;
using wire::StunMessageView;
using wire::StunWriter;

constexpr char kRemoteUfrag[] = "weirufrag";
constexpr char kRemotePassword[] = "weir-password-0123456789ab";

wire::StunTransactionId id_of(uint8_t seed) {
  wire::StunTransactionId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(seed + i);
  return id;
}

dp::SocketAddress local() { return *dp::SocketAddress::parse("127.0.0.1", 40001); }

struct Message {
  std::array<uint8_t, 512> bytes{};
  size_t len = 0;
  StunMessageView view;
  bool parse() { return StunMessageView::parse(bytes.data(), len, view); }
};

// What weir's ICE-lite server answers to a valid check.
struct Answer {
  StunClass cls = StunClass::success;
  wire::StunTransactionId id = id_of(1);
  bool mapped = true;
  dp::SocketAddress mapped_address = local();
  bool integrity = true;
  std::string password = kRemotePassword;
  bool fingerprint = true;
  uint16_t error_code = 0;
};

Message answer(const Answer& a) {
  Message m;
  StunWriter w(m.bytes.data(), m.bytes.size(), wire::kStunMethodBinding, a.cls, a.id.data());
  if (a.error_code != 0) w.add_error_code(a.error_code, "Unauthorized");
  if (a.mapped) {
    w.add_xor_mapped_address(wire::StunAddress::from_sockaddr(a.mapped_address.sockaddr_ptr()));
  }
  if (a.integrity) w.add_message_integrity(a.password);
  if (a.fingerprint) w.add_fingerprint();
  m.len = w.size();
  EXPECT_GT(m.len, 0u);
  EXPECT_TRUE(m.parse());
  return m;
}

IceResponseVerdict verdict(const Message& m, const dp::SocketAddress& from = local()) {
  return check_ice_response(m.view, id_of(1), kRemotePassword, from).verdict;
}

TEST(IceCheck, RequestCarriesWhatIceLiteNeeds) {
  IceCheckRequest r;
  r.remote_ufrag = kRemoteUfrag;
  r.local_ufrag = "mine";
  r.remote_password = kRemotePassword;
  r.tiebreaker = 0x0123456789abcdefull;
  r.use_candidate = true;
  Message m;
  m.len = write_ice_check(r, id_of(7), m.bytes.data(), m.bytes.size());
  ASSERT_GT(m.len, 0u);
  ASSERT_TRUE(m.parse());
  EXPECT_EQ(m.view.message_class(), StunClass::request);
  EXPECT_EQ(m.view.method(), wire::kStunMethodBinding);
  EXPECT_EQ(m.view.transaction_id_array(), id_of(7));
  EXPECT_EQ(m.view.username(), "weirufrag:mine");
  ASSERT_TRUE(m.view.has_priority());
  EXPECT_EQ(m.view.priority(), kPeerReflexivePriority);
  EXPECT_TRUE(m.view.has_ice_controlling());
  EXPECT_FALSE(m.view.has_ice_controlled());
  EXPECT_EQ(m.view.ice_tiebreaker(), 0x0123456789abcdefull);
  EXPECT_TRUE(m.view.has_use_candidate());
  EXPECT_TRUE(m.view.check_integrity(kRemotePassword));
  EXPECT_FALSE(m.view.check_integrity("another password"));
  EXPECT_TRUE(m.view.check_fingerprint());
}

TEST(IceCheck, ConsentCheckWithoutUseCandidate) {
  IceCheckRequest r;
  r.remote_ufrag = kRemoteUfrag;
  r.local_ufrag = "mine";
  r.remote_password = kRemotePassword;
  Message m;
  m.len = write_ice_check(r, id_of(7), m.bytes.data(), m.bytes.size());
  ASSERT_TRUE(m.parse());
  EXPECT_FALSE(m.view.has_use_candidate());
  EXPECT_TRUE(m.view.check_integrity(kRemotePassword));
}

TEST(IceCheck, TooSmallBufferWritesNothing) {
  IceCheckRequest r;
  r.remote_ufrag = kRemoteUfrag;
  r.local_ufrag = "mine";
  r.remote_password = kRemotePassword;
  uint8_t small[40];
  EXPECT_EQ(write_ice_check(r, id_of(7), small, sizeof small), 0u);
}

TEST(IceCheck, ValidSuccess) { EXPECT_EQ(verdict(answer({})), IceResponseVerdict::success); }

TEST(IceCheck, RefusesAnotherTransaction) {
  Answer a;
  a.id = id_of(2);
  EXPECT_EQ(verdict(answer(a)), IceResponseVerdict::wrong_transaction);
}

TEST(IceCheck, RefusesWrongOrMissingIntegrity) {
  Answer a;
  a.password = "not weir's password";
  EXPECT_EQ(verdict(answer(a)), IceResponseVerdict::bad_integrity);
  Answer b;
  b.integrity = false;
  EXPECT_EQ(verdict(answer(b)), IceResponseVerdict::bad_integrity);
}

TEST(IceCheck, RefusesMissingOrCorruptFingerprint) {
  Answer a;
  a.fingerprint = false;
  EXPECT_EQ(verdict(answer(a)), IceResponseVerdict::bad_fingerprint);
  Message m = answer({});
  m.bytes[m.len - 1] ^= 0x01;  // the CRC itself
  ASSERT_TRUE(m.parse());
  EXPECT_EQ(verdict(m), IceResponseVerdict::bad_fingerprint);
}

TEST(IceCheck, RefusesMissingOrForeignMappedAddress) {
  Answer a;
  a.mapped = false;
  EXPECT_EQ(verdict(answer(a)), IceResponseVerdict::no_mapped_address);
  Answer b;
  b.mapped_address = *dp::SocketAddress::parse("127.0.0.1", 40002);
  EXPECT_EQ(verdict(answer(b)), IceResponseVerdict::wrong_mapped_address);
  Answer c;
  c.mapped_address = *dp::SocketAddress::parse("127.0.0.2", 40001);
  EXPECT_EQ(verdict(answer(c)), IceResponseVerdict::wrong_mapped_address);
}

TEST(IceCheck, WildcardSocketChecksOnlyThePort) {
  Answer a;
  a.mapped_address = *dp::SocketAddress::parse("127.0.0.9", 40001);
  EXPECT_EQ(verdict(answer(a), *dp::SocketAddress::parse("0.0.0.0", 40001)),
            IceResponseVerdict::success);
  EXPECT_EQ(verdict(answer(a), *dp::SocketAddress::parse("0.0.0.0", 40009)),
            IceResponseVerdict::wrong_mapped_address);
}

TEST(IceCheck, ErrorResponseCarriesItsCode) {
  Answer a;
  a.cls = StunClass::error;
  a.error_code = 401;
  a.mapped = false;
  a.integrity = false;
  Message m = answer(a);
  const IceResponseCheck c = check_ice_response(m.view, id_of(1), kRemotePassword, local());
  EXPECT_EQ(c.verdict, IceResponseVerdict::error_response);
  EXPECT_EQ(c.error_code, 401);
}

TEST(IceCheck, RequestIsNotAResponse) {
  IceCheckRequest r;
  r.remote_ufrag = kRemoteUfrag;
  r.local_ufrag = "mine";
  r.remote_password = kRemotePassword;
  Message m;
  m.len = write_ice_check(r, id_of(1), m.bytes.data(), m.bytes.size());
  ASSERT_TRUE(m.parse());
  EXPECT_EQ(verdict(m), IceResponseVerdict::not_a_response);
}

TEST(IceCheck, RandomCredentials) {
  const IceCredentials a = random_ice_credentials();
  const IceCredentials b = random_ice_credentials();
  EXPECT_GE(a.ufrag.size(), 4u);
  EXPECT_GE(a.password.size(), 22u);
  EXPECT_NE(a.ufrag, b.ufrag);
  EXPECT_NE(a.password, b.password);
  for (char ch : a.ufrag + a.password) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '+' || ch == '/') << ch;
  }
}

}  // namespace
}  // namespace weir::pktgen
