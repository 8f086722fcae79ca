// The two halves of an ICE connectivity check as pktgen's controlling agent makes them
// toward weir's ICE-lite server (RFC 8445 7.1-7.2, RFC 5389): the Binding request, and the
// validation of what comes back. Pure functions over buffers, so tests can drive them with
// bytes of their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/socket_address.h"
#include "wire/stun_message.h"

namespace weir::pktgen {

struct IceCredentials {
  std::string ufrag;
  std::string password;
};

// Random credentials for pktgen's own side (RFC 8445 5.3: at least 4 and 22 characters
// from the ice-char set). weir never sees the password: only the ufrag, in USERNAME.
IceCredentials random_ice_credentials();

// PRIORITY of a check (RFC 8445 7.1.1): what pktgen's host candidate would have as a
// peer-reflexive one, type preference 110, the highest local preference, component 1.
constexpr uint32_t kPeerReflexivePriority = (110u << 24) | (65535u << 8) | 255u;
constexpr size_t kMaxIceCheckSize = 256;

struct IceCheckRequest {
  std::string_view remote_ufrag;     // weir's
  std::string_view local_ufrag;      // pktgen's
  std::string_view remote_password;  // weir's: the key of MESSAGE-INTEGRITY
  uint32_t priority = kPeerReflexivePriority;
  uint64_t tiebreaker = 0;
  bool use_candidate = false;
};

// A Binding request with USERNAME "remote:local", PRIORITY, ICE-CONTROLLING, optionally
// USE-CANDIDATE, then MESSAGE-INTEGRITY and FINGERPRINT. Bytes written; 0 if it does not fit.
size_t write_ice_check(const IceCheckRequest& request, const wire::StunTransactionId& id,
                       uint8_t* out, size_t capacity);

enum class IceResponseVerdict : uint8_t {
  success,               // a valid success response to the check
  error_response,        // a valid error response (error_code says which)
  not_a_response,        // a request or an indication, or not a Binding response
  wrong_transaction,     // answers some other check
  bad_fingerprint,       // FINGERPRINT missing or wrong
  bad_integrity,         // MESSAGE-INTEGRITY missing or not made with weir's password
  no_mapped_address,     // no XOR-MAPPED-ADDRESS
  wrong_mapped_address,  // XOR-MAPPED-ADDRESS does not name the socket the check left from
};
const char* ice_response_verdict_name(IceResponseVerdict verdict);

struct IceResponseCheck {
  IceResponseVerdict verdict = IceResponseVerdict::not_a_response;
  uint16_t error_code = 0;  // for error_response
};

// Validates a parsed STUN message as the answer to check `id` sent with remote_password
// from `local`. The mapped IP is compared only when local's is not the wildcard address,
// whose real source the kernel picks.
IceResponseCheck check_ice_response(const wire::StunMessageView& message,
                                    const wire::StunTransactionId& id,
                                    std::string_view remote_password,
                                    const dp::SocketAddress& local);

}  // namespace weir::pktgen
