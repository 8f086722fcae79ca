#include "consumer_roles.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace weir::pktgen {
namespace {

size_t count(const std::vector<ConsumerRole>& roles, ConsumerRole r) {
  return static_cast<size_t>(std::count(roles.begin(), roles.end(), r));
}

TEST(ConsumerRoles, CountsAndSpread) {
  const auto roles = assign_consumer_roles(20, 3, 2);
  ASSERT_EQ(roles.size(), 20u);
  EXPECT_EQ(count(roles, ConsumerRole::bad_fingerprint), 3u);
  EXPECT_EQ(count(roles, ConsumerRole::silent), 2u);
  EXPECT_EQ(count(roles, ConsumerRole::measured), 15u);
  // Middles of three slices of 20: 3, 10, 16.
  EXPECT_EQ(roles[3], ConsumerRole::bad_fingerprint);
  EXPECT_EQ(roles[10], ConsumerRole::bad_fingerprint);
  EXPECT_EQ(roles[16], ConsumerRole::bad_fingerprint);
  EXPECT_EQ(roles[0], ConsumerRole::measured);
  EXPECT_EQ(roles[19], ConsumerRole::measured);
}

TEST(ConsumerRoles, AllButOne) {
  const auto roles = assign_consumer_roles(4, 2, 1);
  EXPECT_EQ(count(roles, ConsumerRole::bad_fingerprint), 2u);
  EXPECT_EQ(count(roles, ConsumerRole::silent), 1u);
  EXPECT_EQ(count(roles, ConsumerRole::measured), 1u);
}

TEST(ConsumerRoles, NoneImpaired) {
  const auto roles = assign_consumer_roles(5, 0, 0);
  EXPECT_EQ(count(roles, ConsumerRole::measured), 5u);
}

TEST(ConsumerRoles, DtlsRoles) {
  EXPECT_EQ(producer_dtls_role("client"), dp::DtlsRole::client);
  EXPECT_EQ(producer_dtls_role("server"), dp::DtlsRole::server);
  EXPECT_EQ(producer_dtls_role("mixed"), dp::DtlsRole::server);
  EXPECT_EQ(consumer_dtls_role("client", 1), dp::DtlsRole::client);
  EXPECT_EQ(consumer_dtls_role("server", 0), dp::DtlsRole::server);
  EXPECT_EQ(consumer_dtls_role("mixed", 0), dp::DtlsRole::client);
  EXPECT_EQ(consumer_dtls_role("mixed", 1), dp::DtlsRole::server);
}

}  // namespace
}  // namespace weir::pktgen
