#include "consumer_roles.h"

namespace weir::pktgen {
namespace {

// k of the n candidates, evenly spread: the middles of k equal slices.
std::vector<uint32_t> spread(const std::vector<uint32_t>& candidates, uint32_t k) {
  std::vector<uint32_t> out;
  const uint64_t n = candidates.size();
  if (k == 0 || n == 0) return out;
  for (uint64_t j = 0; j < k && j < n; ++j) out.push_back(candidates[(2 * j + 1) * n / (2 * k)]);
  return out;
}

}  // namespace

const char* consumer_role_name(ConsumerRole role) {
  switch (role) {
    case ConsumerRole::measured:
      return "measured";
    case ConsumerRole::bad_fingerprint:
      return "bad-fingerprint";
    case ConsumerRole::silent:
      return "silent";
  }
  return "?";
}

std::vector<ConsumerRole> assign_consumer_roles(uint32_t consumers, uint32_t bad_fingerprint,
                                                uint32_t silent) {
  std::vector<ConsumerRole> roles(consumers, ConsumerRole::measured);
  std::vector<uint32_t> all(consumers);
  for (uint32_t i = 0; i < consumers; ++i) all[i] = i;
  for (uint32_t i : spread(all, bad_fingerprint)) roles[i] = ConsumerRole::bad_fingerprint;
  std::vector<uint32_t> rest;
  for (uint32_t i = 0; i < consumers; ++i) {
    if (roles[i] == ConsumerRole::measured) rest.push_back(i);
  }
  for (uint32_t i : spread(rest, silent)) roles[i] = ConsumerRole::silent;
  return roles;
}

dp::DtlsRole producer_dtls_role(std::string_view mode) {
  return mode == "client" ? dp::DtlsRole::client : dp::DtlsRole::server;
}

dp::DtlsRole consumer_dtls_role(std::string_view mode, uint32_t index) {
  if (mode == "client") return dp::DtlsRole::client;
  if (mode == "server") return dp::DtlsRole::server;
  return index % 2 == 0 ? dp::DtlsRole::client : dp::DtlsRole::server;
}

}  // namespace weir::pktgen
