// STUN parse, both integrity checks, and a writer re-encoding of whatever parsed, on
// arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "wire/stun_message.h"

namespace {

// The RFC 5769 password: the seeds that carry MESSAGE-INTEGRITY verify with it, so the
// matching path is exercised, not only the refusing one.
constexpr std::string_view kKey = "VOkJxbRl1RmTxUk/WvJxBt";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weir::wire;
  const bool looks = StunMessageView::looks_like_stun(data, size);
  StunMessageView v;
  if (!StunMessageView::parse(data, size, v)) return 0;
  if (!looks) __builtin_trap();  // parse must be the stricter test

  // Touch everything the view claims is inside the message.
  volatile uint64_t sink = v.method() ^ static_cast<uint8_t>(v.message_class());
  for (size_t i = 0; i < kStunTransactionIdSize; ++i) sink = sink ^ v.transaction_id()[i];
  for (char c : v.username()) sink = sink ^ static_cast<uint8_t>(c);
  sink = sink ^ v.priority() ^ v.ice_tiebreaker() ^ v.nomination() ^ v.error_code() ^
         v.unknown_required_attribute();
  const bool integrity_ok = v.check_integrity(kKey);
  const bool fingerprint_ok = v.check_fingerprint();
  if (integrity_ok && !v.has_message_integrity()) __builtin_trap();
  if (fingerprint_ok && !v.has_fingerprint()) __builtin_trap();

  StunAddress mapped = v.xor_mapped_address();
  if (v.has_xor_mapped_address()) {
    sockaddr_storage storage;
    if (mapped.to_sockaddr(storage) == 0) __builtin_trap();
    if (!(StunAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage)) == mapped)) {
      __builtin_trap();
    }
  }

  // Re-encode what was understood; the writer must accept everything parse did.
  uint8_t out[2048];
  const StunTransactionId id = v.transaction_id_array();
  StunWriter w(out, sizeof out, v.method(), v.message_class(), id.data());
  if (v.has_username() && !w.add_username(v.username())) __builtin_trap();
  if (v.has_priority() && !w.add_priority(v.priority())) __builtin_trap();
  if (v.has_use_candidate() && !w.add_use_candidate()) __builtin_trap();
  if (v.has_ice_controlling() && !w.add_ice_controlling(v.ice_tiebreaker())) __builtin_trap();
  if (v.has_ice_controlled() && !w.add_ice_controlled(v.ice_tiebreaker())) __builtin_trap();
  if (v.has_nomination() && !w.add_nomination(v.nomination())) __builtin_trap();
  if (v.has_xor_mapped_address() && !w.add_xor_mapped_address(mapped)) __builtin_trap();
  if (v.has_error_code() && !w.add_error_code(v.error_code(), "")) __builtin_trap();
  if (v.has_message_integrity() && !w.add_message_integrity(kKey)) __builtin_trap();
  if (v.has_fingerprint() && !w.add_fingerprint()) __builtin_trap();

  StunMessageView again;
  if (!StunMessageView::parse(out, w.size(), again)) __builtin_trap();
  if (again.method() != v.method() || again.message_class() != v.message_class() ||
      again.transaction_id_array() != id || again.username() != v.username() ||
      again.has_username() != v.has_username() || again.has_priority() != v.has_priority() ||
      again.priority() != v.priority() || again.has_use_candidate() != v.has_use_candidate() ||
      again.has_ice_controlling() != v.has_ice_controlling() ||
      again.has_ice_controlled() != v.has_ice_controlled() ||
      again.ice_tiebreaker() != v.ice_tiebreaker() ||
      again.has_nomination() != v.has_nomination() || again.nomination() != v.nomination() ||
      !(again.xor_mapped_address() == mapped) || again.has_error_code() != v.has_error_code() ||
      again.error_code() != v.error_code() ||
      again.has_message_integrity() != v.has_message_integrity() ||
      again.has_fingerprint() != v.has_fingerprint() || again.unknown_required_attribute() != 0) {
    __builtin_trap();
  }
  if (again.has_message_integrity() && !again.check_integrity(kKey)) __builtin_trap();
  if (again.has_fingerprint() && !again.check_fingerprint()) __builtin_trap();
  (void)sink;
  return 0;
}
