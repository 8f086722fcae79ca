#include "ice_check.h"

#include <algorithm>

#include "srtp_keys.h"

namespace weir::pktgen {
namespace {

// RFC 8445 15.4 ice-char: ALPHA / DIGIT / "+" / "/".
constexpr char kIceChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";

std::string random_ice_string(size_t length) {
  std::string out;
  out.reserve(length);
  // 64 symbols: six bits of each random byte pick one without bias.
  for (uint8_t b : random_bytes(length)) out += kIceChars[b & 63];
  return out;
}

bool is_wildcard(const wire::StunAddress& a) {
  const size_t n = a.family == 1 ? 4 : 16;
  return std::all_of(a.ip.begin(), a.ip.begin() + static_cast<std::ptrdiff_t>(n),
                     [](uint8_t b) { return b == 0; });
}

}  // namespace

IceCredentials random_ice_credentials() {
  return IceCredentials{random_ice_string(8), random_ice_string(24)};
}

size_t write_ice_check(const IceCheckRequest& request, const wire::StunTransactionId& id,
                       uint8_t* out, size_t capacity) {
  std::string username;
  username.reserve(request.remote_ufrag.size() + 1 + request.local_ufrag.size());
  username.append(request.remote_ufrag).append(1, ':').append(request.local_ufrag);
  wire::StunWriter w(out, capacity, wire::kStunMethodBinding, wire::StunClass::request, id.data());
  w.add_username(username);
  w.add_priority(request.priority);
  w.add_ice_controlling(request.tiebreaker);
  if (request.use_candidate) w.add_use_candidate();
  w.add_message_integrity(request.remote_password);
  w.add_fingerprint();
  return w.size();
}

const char* ice_response_verdict_name(IceResponseVerdict verdict) {
  switch (verdict) {
    case IceResponseVerdict::success:
      return "success";
    case IceResponseVerdict::error_response:
      return "error response";
    case IceResponseVerdict::not_a_response:
      return "not a Binding response";
    case IceResponseVerdict::wrong_transaction:
      return "unknown transaction";
    case IceResponseVerdict::bad_fingerprint:
      return "bad FINGERPRINT";
    case IceResponseVerdict::bad_integrity:
      return "bad MESSAGE-INTEGRITY";
    case IceResponseVerdict::no_mapped_address:
      return "no XOR-MAPPED-ADDRESS";
    case IceResponseVerdict::wrong_mapped_address:
      return "XOR-MAPPED-ADDRESS is not this socket";
  }
  return "?";
}

IceResponseCheck check_ice_response(const wire::StunMessageView& message,
                                    const wire::StunTransactionId& id,
                                    std::string_view remote_password,
                                    const dp::SocketAddress& local) {
  IceResponseCheck out;
  const wire::StunClass cls = message.message_class();
  if ((cls != wire::StunClass::success && cls != wire::StunClass::error) ||
      message.method() != wire::kStunMethodBinding) {
    out.verdict = IceResponseVerdict::not_a_response;
    return out;
  }
  if (message.transaction_id_array() != id) {
    out.verdict = IceResponseVerdict::wrong_transaction;
    return out;
  }
  // weir puts FINGERPRINT on every answer, errors included: without it this may not be
  // STUN at all (RFC 5389 8).
  if (!message.has_fingerprint() || !message.check_fingerprint()) {
    out.verdict = IceResponseVerdict::bad_fingerprint;
    return out;
  }
  if (cls == wire::StunClass::error) {
    // Error answers of an ICE-lite server (400, 401, 487) carry no MESSAGE-INTEGRITY:
    // the request may have used the wrong key, which is what a 401 says.
    out.verdict = IceResponseVerdict::error_response;
    out.error_code = message.has_error_code() ? message.error_code() : 0;
    return out;
  }
  if (!message.check_integrity(remote_password)) {
    out.verdict = IceResponseVerdict::bad_integrity;
    return out;
  }
  if (!message.has_xor_mapped_address()) {
    out.verdict = IceResponseVerdict::no_mapped_address;
    return out;
  }
  const wire::StunAddress& mapped = message.xor_mapped_address();
  if (local.valid()) {
    const wire::StunAddress own = wire::StunAddress::from_sockaddr(local.sockaddr_ptr());
    const bool ip_ok = is_wildcard(own) || (mapped.family == own.family && mapped.ip == own.ip);
    if (mapped.port != own.port || !ip_ok) {
      out.verdict = IceResponseVerdict::wrong_mapped_address;
      return out;
    }
  }
  out.verdict = IceResponseVerdict::success;
  return out;
}

}  // namespace weir::pktgen
