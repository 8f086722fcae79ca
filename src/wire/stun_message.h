// STUN (RFC 5389) as ICE (RFC 8445) uses it: a bounds-checked, non-owning view for
// parsing, a writer for building messages in a caller's buffer, and the two integrity
// checks, MESSAGE-INTEGRITY (HMAC-SHA1, OpenSSL) and FINGERPRINT (CRC-32, zlib). Nothing
// here allocates.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wire/byte_io.h"

namespace weir::wire {

constexpr uint32_t kStunMagicCookie = 0x2112A442;
constexpr size_t kStunHeaderSize = 20;
constexpr size_t kStunTransactionIdSize = 12;

enum class StunClass : uint8_t { request = 0, indication = 1, success = 2, error = 3 };
constexpr uint16_t kStunMethodBinding = 0x001;

// Attribute types ICE uses (RFC 5389 15, RFC 8445 16.1, draft-thatcher-ice-renomination).
enum class StunAttribute : uint16_t {
  mapped_address = 0x0001,
  username = 0x0006,
  message_integrity = 0x0008,
  error_code = 0x0009,
  unknown_attributes = 0x000A,
  xor_mapped_address = 0x0020,
  priority = 0x0024,
  use_candidate = 0x0025,
  software = 0x8022,
  fingerprint = 0x8028,
  ice_controlled = 0x8029,
  ice_controlling = 0x802A,
  nomination = 0xC001,
};

using StunTransactionId = std::array<uint8_t, kStunTransactionIdSize>;

// An IPv4 or IPv6 transport address as XOR-MAPPED-ADDRESS carries it.
struct StunAddress {
  uint8_t family = 0;  // 1 = IPv4, 2 = IPv6 (RFC 5389 15.1); 0 = none
  uint16_t port = 0;
  std::array<uint8_t, 16> ip{};  // network order; IPv4 uses the first 4 bytes

  static StunAddress from_sockaddr(const sockaddr* sa);
  // Fills storage (sockaddr_in or sockaddr_in6); returns its length, 0 if family is none.
  socklen_t to_sockaddr(sockaddr_storage& storage) const;
  bool operator==(const StunAddress&) const = default;
};

class StunMessageView {
 public:
  // false unless data is one whole STUN message: first two bits zero, the magic cookie,
  // a length that is a multiple of 4 and equals len - 20, and attributes (type, length,
  // value padded to 4) that exactly fill it. Attributes after MESSAGE-INTEGRITY other
  // than FINGERPRINT, and anything after FINGERPRINT, make the message malformed
  // (RFC 5389 15.4, 15.5). A known attribute with a wrong length is malformed too.
  static bool parse(const uint8_t* data, size_t len, StunMessageView& out);

  // The cheap test a demultiplexer uses before parse: 20+ bytes, first two bits zero,
  // the magic cookie.
  static bool looks_like_stun(const uint8_t* data, size_t len);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  uint16_t method() const { return method_; }
  StunClass message_class() const { return class_; }
  const uint8_t* transaction_id() const { return data_ + 8; }
  StunTransactionId transaction_id_array() const;

  // Attribute values, when present. Strings are views into the message.
  bool has_username() const { return username_len_ != kAbsent; }
  std::string_view username() const;
  bool has_priority() const { return has_priority_; }
  uint32_t priority() const { return priority_; }
  bool has_use_candidate() const { return has_use_candidate_; }
  bool has_ice_controlling() const { return has_ice_controlling_; }
  bool has_ice_controlled() const { return has_ice_controlled_; }
  uint64_t ice_tiebreaker() const { return tiebreaker_; }
  bool has_nomination() const { return has_nomination_; }
  uint32_t nomination() const { return nomination_; }
  bool has_message_integrity() const { return integrity_offset_ != kAbsent; }
  bool has_fingerprint() const { return fingerprint_offset_ != kAbsent; }
  bool has_error_code() const { return has_error_code_; }
  uint16_t error_code() const { return error_code_; }  // class * 100 + number, e.g. 401
  bool has_xor_mapped_address() const { return xor_mapped_.family != 0; }
  const StunAddress& xor_mapped_address() const { return xor_mapped_; }
  // The first comprehension-required attribute (type < 0x8000) weir does not know;
  // 0 if none. A server answers such a request with 420 (RFC 5389 7.3.1).
  uint16_t unknown_required_attribute() const { return unknown_required_; }

  // FINGERPRINT present and equal to CRC-32 of the message up to it XOR 0x5354554e.
  bool check_fingerprint() const;
  // MESSAGE-INTEGRITY present and equal to HMAC-SHA1(key, message up to it, with the
  // header length adjusted to end after it) (RFC 5389 15.4). For ICE the key is the
  // password of the side that receives the request (short-term credentials).
  bool check_integrity(std::string_view key) const;

 private:
  static constexpr uint16_t kAbsent = 0xFFFF;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  uint16_t method_ = 0;
  StunClass class_ = StunClass::request;
  uint16_t username_offset_ = 0;
  uint16_t username_len_ = kAbsent;
  uint16_t integrity_offset_ = kAbsent;    // of the attribute header
  uint16_t fingerprint_offset_ = kAbsent;  // of the attribute header
  bool has_priority_ = false;
  bool has_use_candidate_ = false;
  bool has_ice_controlling_ = false;
  bool has_ice_controlled_ = false;
  bool has_nomination_ = false;
  bool has_error_code_ = false;
  uint32_t priority_ = 0;
  uint32_t nomination_ = 0;
  uint64_t tiebreaker_ = 0;
  uint16_t error_code_ = 0;
  uint16_t unknown_required_ = 0;
  StunAddress xor_mapped_;
};

// Builds one STUN message in out[0..capacity). Attributes are appended in call order;
// add_message_integrity and add_fingerprint must come last, in that order. Every add_*
// returns false (and the writer stays failed) when the buffer is too small.
class StunWriter {
 public:
  StunWriter(uint8_t* out, size_t capacity, uint16_t method, StunClass cls,
             const uint8_t* transaction_id);

  bool add_username(std::string_view username);
  bool add_priority(uint32_t priority);
  bool add_use_candidate();
  bool add_ice_controlling(uint64_t tiebreaker);
  bool add_ice_controlled(uint64_t tiebreaker);
  bool add_nomination(uint32_t value);
  bool add_xor_mapped_address(const StunAddress& address);
  bool add_error_code(uint16_t code, std::string_view reason);  // code 300..699
  bool add_software(std::string_view text);
  bool add_message_integrity(std::string_view key);
  bool add_fingerprint();

  // The message length so far (header included); 0 after any failure.
  size_t size() const { return ok_ ? size_ : 0; }
  bool ok() const { return ok_; }

 private:
  uint8_t* reserve(uint16_t type, size_t value_len);  // nullptr when it does not fit
  uint8_t* out_;
  size_t capacity_;
  size_t size_ = 0;
  bool ok_ = true;
};

}  // namespace weir::wire
