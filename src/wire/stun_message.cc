#include "wire/stun_message.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <zlib.h>

#include <cstring>

namespace weir::wire {

namespace {

constexpr size_t kAttributeHeaderSize = 4;
constexpr size_t kIntegrityValueSize = 20;  // HMAC-SHA1
constexpr size_t kFingerprintValueSize = 4;
constexpr uint32_t kFingerprintXor = 0x5354554e;  // RFC 5389 15.5: "STUN"
// RFC 5389 15.3, 15.6, 15.10: the limits a sender must respect.
constexpr size_t kMaxUsernameSize = 513;
constexpr size_t kMaxReasonPhraseSize = 763;
constexpr size_t kMaxSoftwareSize = 763;
constexpr uint8_t kFamilyIpv4 = 1;
constexpr uint8_t kFamilyIpv6 = 2;
constexpr size_t kMaxBodySize = 0xFFFC;  // the 16-bit length, kept a multiple of 4

constexpr uint16_t kMessageIntegrity = static_cast<uint16_t>(StunAttribute::message_integrity);
constexpr uint16_t kFingerprint = static_cast<uint16_t>(StunAttribute::fingerprint);

size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }

// RFC 5389 6: the class bits C1 and C0 sit between the method bits M11..M7, M6..M4, M3..M0.
uint16_t encode_message_type(uint16_t method, StunClass cls) {
  const unsigned c = static_cast<unsigned>(cls);
  return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) |
                               ((method & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7));
}
uint16_t method_of(uint16_t type) {
  return static_cast<uint16_t>((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
}
StunClass class_of(uint16_t type) {
  return static_cast<StunClass>(((type >> 4) & 1) | ((type >> 7) & 2));
}

// XOR-MAPPED-ADDRESS (RFC 5389 15.2) masks the port with the cookie's top half and the
// address with the cookie (IPv4) or cookie || transaction id (IPv6): exactly header bytes
// 4..20, so the message's own header is the mask for both families.
bool decode_xor_address(const uint8_t* value, size_t len, const uint8_t* header, StunAddress& out) {
  if (len < 4) return false;
  StunAddress a;
  a.family = value[1];
  size_t ip_size;
  if (a.family == kFamilyIpv4) {
    ip_size = 4;
  } else if (a.family == kFamilyIpv6) {
    ip_size = 16;
  } else {
    return false;
  }
  if (len != 4 + ip_size) return false;
  a.port = static_cast<uint16_t>(load_be16(value + 2) ^ (kStunMagicCookie >> 16));
  for (size_t i = 0; i < ip_size; ++i) a.ip[i] = static_cast<uint8_t>(value[4 + i] ^ header[4 + i]);
  out = a;
  return true;
}

// MAPPED-ADDRESS has the same shape without the mask; weir only checks it is well formed.
bool valid_plain_address(const uint8_t* value, size_t len) {
  if (len < 4) return false;
  if (value[1] == kFamilyIpv4) return len == 8;
  if (value[1] == kFamilyIpv6) return len == 20;
  return false;
}

// HMAC-SHA1 keyed per call, on one context per thread made at first use: fetching the
// algorithm is a locked lookup in OpenSSL's provider store and the context a heap
// allocation, neither of which belongs on the path of every connectivity check.
class HmacSha1 {
 public:
  HmacSha1() {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) return;
    ctx_ = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context keeps its own reference
    char digest[] = "SHA1";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (ctx_ != nullptr && EVP_MAC_CTX_set_params(ctx_, params) != 1) {
      EVP_MAC_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
  ~HmacSha1() { EVP_MAC_CTX_free(ctx_); }
  HmacSha1(const HmacSha1&) = delete;
  HmacSha1& operator=(const HmacSha1&) = delete;

  bool compute(std::string_view key, const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len,
               uint8_t (&out)[kIntegrityValueSize]) {
    if (ctx_ == nullptr) return false;
    // A null key pointer means "keep the previous key" to EVP_MAC_init; an empty
    // password is still a key.
    static constexpr unsigned char kEmpty = 0;
    const auto* k = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
    size_t out_len = 0;
    return EVP_MAC_init(ctx_, k, key.size(), nullptr) == 1 && EVP_MAC_update(ctx_, a, a_len) == 1 &&
           EVP_MAC_update(ctx_, b, b_len) == 1 &&
           EVP_MAC_final(ctx_, out, &out_len, sizeof out) == 1 && out_len == sizeof out;
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
};

// RFC 5389 15.4: the MAC covers everything before MESSAGE-INTEGRITY, with the header's
// length as if the message ended right after it. The header is patched in a copy so a
// received message stays untouched.
bool message_integrity_of(std::string_view key, const uint8_t* message, size_t integrity_at,
                          uint8_t (&out)[kIntegrityValueSize]) {
  thread_local HmacSha1 hmac;
  uint8_t header[kStunHeaderSize];
  std::memcpy(header, message, kStunHeaderSize);
  store_be16(header + 2, static_cast<uint16_t>(integrity_at + kAttributeHeaderSize +
                                               kIntegrityValueSize - kStunHeaderSize));
  return hmac.compute(key, header, sizeof header, message + kStunHeaderSize,
                      integrity_at - kStunHeaderSize, out);
}

// RFC 5389 15.5: FINGERPRINT is last, so the header length already covers it.
uint32_t fingerprint_of(const uint8_t* message, size_t fingerprint_at) {
  return static_cast<uint32_t>(crc32_z(0, message, fingerprint_at)) ^ kFingerprintXor;
}

// The writer keeps no state but its buffer, so what it appended last is read back from
// it; 0 (a reserved type) when there are no attributes yet.
uint16_t last_attribute_type(const uint8_t* message, size_t size) {
  uint16_t type = 0;
  size_t offset = kStunHeaderSize;
  while (offset < size && size - offset >= kAttributeHeaderSize) {
    type = load_be16(message + offset);
    offset += kAttributeHeaderSize + padded(load_be16(message + offset + 2));
  }
  return type;
}

}  // namespace

StunAddress StunAddress::from_sockaddr(const sockaddr* sa) {
  StunAddress a;
  if (sa == nullptr) return a;
  if (sa->sa_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    a.family = kFamilyIpv4;
    a.port = ntohs(sin.sin_port);
    std::memcpy(a.ip.data(), &sin.sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    a.family = kFamilyIpv6;
    a.port = ntohs(sin6.sin6_port);
    std::memcpy(a.ip.data(), &sin6.sin6_addr, 16);
  }
  return a;
}

socklen_t StunAddress::to_sockaddr(sockaddr_storage& storage) const {
  std::memset(&storage, 0, sizeof storage);
  if (family == kFamilyIpv4) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, ip.data(), 4);
    std::memcpy(&storage, &sin, sizeof sin);
    return sizeof sin;
  }
  if (family == kFamilyIpv6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(&sin6.sin6_addr, ip.data(), 16);
    std::memcpy(&storage, &sin6, sizeof sin6);
    return sizeof sin6;
  }
  return 0;
}

bool StunMessageView::looks_like_stun(const uint8_t* data, size_t len) {
  return data != nullptr && len >= kStunHeaderSize && (data[0] & 0xC0) == 0 &&
         load_be32(data + 4) == kStunMagicCookie;
}

bool StunMessageView::parse(const uint8_t* data, size_t len, StunMessageView& out) {
  if (!looks_like_stun(data, len)) return false;
  const size_t body = load_be16(data + 2);
  if ((body & 3) != 0 || body != len - kStunHeaderSize) return false;

  // Built aside so a malformed message leaves out as it was.
  StunMessageView v;
  v.data_ = data;
  v.size_ = len;
  const uint16_t type = load_be16(data);
  v.method_ = method_of(type);
  v.class_ = class_of(type);

  // Offsets are kept from the end of the header: a whole message can be 65552 bytes,
  // which a uint16_t measured from its start would not reach.
  size_t offset = kStunHeaderSize;
  while (offset < len) {
    if (v.fingerprint_offset_ != kAbsent) return false;
    if (len - offset < kAttributeHeaderSize) return false;
    const uint16_t attribute = load_be16(data + offset);
    const size_t value_len = load_be16(data + offset + 2);
    const size_t value_at = offset + kAttributeHeaderSize;
    if (padded(value_len) > len - value_at) return false;
    // RFC 5389 15.4: only FINGERPRINT may follow MESSAGE-INTEGRITY.
    if (v.integrity_offset_ != kAbsent && attribute != kFingerprint) return false;
    const uint8_t* value = data + value_at;
    const auto body_offset = static_cast<uint16_t>(offset - kStunHeaderSize);

    // RFC 5389 15: of repeated attributes only the first counts; the rest must still be
    // well formed.
    switch (static_cast<StunAttribute>(attribute)) {
      case StunAttribute::mapped_address:
        if (!valid_plain_address(value, value_len)) return false;
        break;
      case StunAttribute::username:
        if (value_len > kMaxUsernameSize) return false;
        if (v.username_len_ == kAbsent) {
          v.username_offset_ = static_cast<uint16_t>(value_at - kStunHeaderSize);
          v.username_len_ = static_cast<uint16_t>(value_len);
        }
        break;
      case StunAttribute::message_integrity:
        if (value_len != kIntegrityValueSize) return false;
        v.integrity_offset_ = body_offset;
        break;
      case StunAttribute::error_code: {
        if (value_len < 4) return false;
        // RFC 5389 15.6: class 3..6, number 0..99; anything else has no code to report.
        const unsigned error_class = value[2] & 0x07;
        const unsigned number = value[3];
        if (error_class < 3 || error_class > 6 || number > 99) return false;
        if (!v.has_error_code_) {
          v.has_error_code_ = true;
          v.error_code_ = static_cast<uint16_t>(error_class * 100 + number);
        }
        break;
      }
      case StunAttribute::unknown_attributes:
        if ((value_len & 1) != 0) return false;  // a list of 16-bit types
        break;
      case StunAttribute::xor_mapped_address: {
        StunAddress a;
        if (!decode_xor_address(value, value_len, data, a)) return false;
        if (v.xor_mapped_.family == 0) v.xor_mapped_ = a;
        break;
      }
      case StunAttribute::priority:
        if (value_len != 4) return false;
        if (!v.has_priority_) {
          v.has_priority_ = true;
          v.priority_ = load_be32(value);
        }
        break;
      case StunAttribute::use_candidate:
        if (value_len != 0) return false;
        v.has_use_candidate_ = true;
        break;
      case StunAttribute::software:
        // Informational only; its length limit binds the sender, and weir reads none of it.
        break;
      case StunAttribute::fingerprint:
        if (value_len != kFingerprintValueSize) return false;
        v.fingerprint_offset_ = body_offset;
        break;
      case StunAttribute::ice_controlled:
      case StunAttribute::ice_controlling: {
        if (value_len != 8) return false;
        // Both in one request is a broken peer, but the tie-breaker is still the first.
        if (!v.has_ice_controlled_ && !v.has_ice_controlling_) v.tiebreaker_ = load_be64(value);
        if (attribute == static_cast<uint16_t>(StunAttribute::ice_controlled)) {
          v.has_ice_controlled_ = true;
        } else {
          v.has_ice_controlling_ = true;
        }
        break;
      }
      case StunAttribute::nomination:
        if (value_len != 4) return false;
        if (!v.has_nomination_) {
          v.has_nomination_ = true;
          v.nomination_ = load_be32(value);
        }
        break;
      default:
        // RFC 5389 7.3: unknown comprehension-optional attributes (Chrome's 0xC057
        // GOOG-NETWORK-INFO and friends) are ignored; a required one is remembered so a
        // server can answer 420.
        if (attribute < 0x8000 && v.unknown_required_ == 0) v.unknown_required_ = attribute;
        break;
    }
    offset = value_at + padded(value_len);
  }
  out = v;
  return true;
}

StunTransactionId StunMessageView::transaction_id_array() const {
  StunTransactionId id{};
  if (data_ != nullptr) std::memcpy(id.data(), data_ + 8, id.size());
  return id;
}

std::string_view StunMessageView::username() const {
  if (username_len_ == kAbsent) return {};
  return {reinterpret_cast<const char*>(data_ + kStunHeaderSize + username_offset_), username_len_};
}

bool StunMessageView::check_fingerprint() const {
  if (fingerprint_offset_ == kAbsent) return false;
  const size_t at = kStunHeaderSize + fingerprint_offset_;
  return fingerprint_of(data_, at) == load_be32(data_ + at + kAttributeHeaderSize);
}

bool StunMessageView::check_integrity(std::string_view key) const {
  if (integrity_offset_ == kAbsent) return false;
  const size_t at = kStunHeaderSize + integrity_offset_;
  uint8_t mac[kIntegrityValueSize];
  if (!message_integrity_of(key, data_, at, mac)) return false;
  // Constant time, so a forger learns nothing from how fast a guess is refused.
  return CRYPTO_memcmp(mac, data_ + at + kAttributeHeaderSize, sizeof mac) == 0;
}

StunWriter::StunWriter(uint8_t* out, size_t capacity, uint16_t method, StunClass cls,
                       const uint8_t* transaction_id)
    : out_(out), capacity_(capacity) {
  if (out == nullptr || capacity < kStunHeaderSize || transaction_id == nullptr ||
      method > 0x0FFF || static_cast<uint8_t>(cls) > 3) {
    ok_ = false;
    return;
  }
  store_be16(out, encode_message_type(method, cls));
  store_be16(out + 2, 0);
  store_be32(out + 4, kStunMagicCookie);
  // memmove: a response may be built over the request it answers.
  std::memmove(out + 8, transaction_id, kStunTransactionIdSize);
  size_ = kStunHeaderSize;
}

uint8_t* StunWriter::reserve(uint16_t type, size_t value_len) {
  if (!ok_) return nullptr;
  // Keep to the order parse() insists on (RFC 5389 15.4, 15.5), so a misordered build
  // fails here instead of at the peer.
  const uint16_t last = last_attribute_type(out_, size_);
  const bool order_ok = last != kFingerprint && (last != kMessageIntegrity || type == kFingerprint);
  const size_t attribute_size = kAttributeHeaderSize + padded(value_len);
  if (!order_ok || value_len > 0xFFFF || attribute_size > capacity_ - size_ ||
      attribute_size > kMaxBodySize - (size_ - kStunHeaderSize)) {
    ok_ = false;
    return nullptr;
  }
  uint8_t* p = out_ + size_;
  store_be16(p, type);
  store_be16(p + 2, static_cast<uint16_t>(value_len));
  std::memset(p + kAttributeHeaderSize + value_len, 0, padded(value_len) - value_len);
  size_ += attribute_size;
  store_be16(out_ + 2, static_cast<uint16_t>(size_ - kStunHeaderSize));
  return p + kAttributeHeaderSize;
}

bool StunWriter::add_username(std::string_view username) {
  if (username.size() > kMaxUsernameSize) {
    ok_ = false;
    return false;
  }
  uint8_t* p = reserve(static_cast<uint16_t>(StunAttribute::username), username.size());
  if (p == nullptr) return false;
  if (!username.empty()) std::memcpy(p, username.data(), username.size());
  return true;
}

bool StunWriter::add_priority(uint32_t priority) {
  uint8_t* p = reserve(static_cast<uint16_t>(StunAttribute::priority), 4);
  if (p == nullptr) return false;
  store_be32(p, priority);
  return true;
}

bool StunWriter::add_use_candidate() {
  return reserve(static_cast<uint16_t>(StunAttribute::use_candidate), 0) != nullptr;
}

bool StunWriter::add_ice_controlling(uint64_t tiebreaker) {
  uint8_t* p = reserve(static_cast<uint16_t>(StunAttribute::ice_controlling), 8);
  if (p == nullptr) return false;
  store_be64(p, tiebreaker);
  return true;
}

bool StunWriter::add_ice_controlled(uint64_t tiebreaker) {
  uint8_t* p = reserve(static_cast<uint16_t>(StunAttribute::ice_controlled), 8);
  if (p == nullptr) return false;
  store_be64(p, tiebreaker);
  return true;
}

bool StunWriter::add_nomination(uint32_t value) {
  uint8_t* p = reserve(static_cast<uint16_t>(StunAttribute::nomination), 4);
  if (p == nullptr) return false;
  store_be32(p, value);
  return true;
}

bool StunWriter::add_xor_mapped_address(const StunAddress& address) {
  size_t ip_size;
  if (address.family == kFamilyIpv4) {
    ip_size = 4;
  } else if (address.family == kFamilyIpv6) {
    ip_size = 16;
  } else {
    ok_ = false;
    return false;
  }
  uint8_t* p = reserve(static_cast<uint16_t>(StunAttribute::xor_mapped_address), 4 + ip_size);
  if (p == nullptr) return false;
  p[0] = 0;
  p[1] = address.family;
  store_be16(p + 2, static_cast<uint16_t>(address.port ^ (kStunMagicCookie >> 16)));
  for (size_t i = 0; i < ip_size; ++i) {
    p[4 + i] = static_cast<uint8_t>(address.ip[i] ^ out_[4 + i]);
  }
  return true;
}

bool StunWriter::add_error_code(uint16_t code, std::string_view reason) {
  if (code < 300 || code > 699 || reason.size() > kMaxReasonPhraseSize) {
    ok_ = false;
    return false;
  }
  uint8_t* p = reserve(static_cast<uint16_t>(StunAttribute::error_code), 4 + reason.size());
  if (p == nullptr) return false;
  p[0] = 0;
  p[1] = 0;
  p[2] = static_cast<uint8_t>(code / 100);
  p[3] = static_cast<uint8_t>(code % 100);
  if (!reason.empty()) std::memcpy(p + 4, reason.data(), reason.size());
  return true;
}

bool StunWriter::add_software(std::string_view text) {
  if (text.size() > kMaxSoftwareSize) {
    ok_ = false;
    return false;
  }
  uint8_t* p = reserve(static_cast<uint16_t>(StunAttribute::software), text.size());
  if (p == nullptr) return false;
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  return true;
}

bool StunWriter::add_message_integrity(std::string_view key) {
  // reserve() has already set the header length to end after this attribute, which is
  // what the MAC must see.
  uint8_t* p = reserve(kMessageIntegrity, kIntegrityValueSize);
  if (p == nullptr) return false;
  uint8_t mac[kIntegrityValueSize];
  if (!message_integrity_of(key, out_, static_cast<size_t>(p - kAttributeHeaderSize - out_), mac)) {
    ok_ = false;
    return false;
  }
  std::memcpy(p, mac, sizeof mac);
  return true;
}

bool StunWriter::add_fingerprint() {
  uint8_t* p = reserve(kFingerprint, kFingerprintValueSize);
  if (p == nullptr) return false;
  store_be32(p, fingerprint_of(out_, static_cast<size_t>(p - kAttributeHeaderSize - out_)));
  return true;
}

}  // namespace weir::wire
