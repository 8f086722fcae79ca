// The low-level SHA-1 API is deprecated in OpenSSL 3 in favour of EVP, but EVP's digest
// and MAC contexts cannot be copied without a heap allocation; HMAC with precomputed pads
// needs a context copy per packet, which SHA_CTX gives as a plain struct copy.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "dataplane/srtp_openssl.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "wire/byte_io.h"

namespace weir::dp {

namespace {

constexpr size_t kKeyLen = 16;
constexpr size_t kCmSaltLen = 14;
constexpr size_t kGcmSaltLen = 12;
constexpr size_t kAuthKeyLen = 20;
constexpr size_t kGcmTagLen = 16;
constexpr size_t kRtcpIndexLen = 4;
constexpr uint32_t kRtcpEncryptedBit = 0x80000000u;

// RFC 3711 3.1: fixed header, CSRCs and the extension are authenticated, not encrypted.
bool rtp_header_length(const uint8_t* p, size_t len, size_t* out) {
  if (len < 12 || (p[0] >> 6) != 2) return false;
  size_t h = 12 + 4u * (p[0] & 0x0F);
  if ((p[0] & 0x10) != 0) {
    if (h + 4 > len) return false;
    h += 4 + 4u * wire::load_be16(p + h + 2);
  }
  if (h > len) return false;
  *out = h;
  return true;
}

}  // namespace

std::unique_ptr<OpensslSrtp> OpensslSrtp::create(SrtpSuite suite, bool inbound,
                                                 std::span<const uint8_t> master,
                                                 std::string* error) {
  std::unique_ptr<OpensslSrtp> s(new OpensslSrtp(suite, inbound));
  if (!s->init(master, error)) return nullptr;
  return s;
}

OpensslSrtp::~OpensslSrtp() {
  EVP_CIPHER_CTX_free(rtp_.cipher);
  EVP_CIPHER_CTX_free(rtcp_.cipher);
  OPENSSL_cleanse(&rtp_, sizeof rtp_.salt);
  OPENSSL_cleanse(&rtcp_, sizeof rtcp_.salt);
}

size_t OpensslSrtp::rtp_tag_len() const {
  switch (suite_) {
    case SrtpSuite::aes_cm_128_hmac_sha1_80: return 10;
    case SrtpSuite::aes_cm_128_hmac_sha1_32: return 4;
    case SrtpSuite::aead_aes_128_gcm: return kGcmTagLen;
  }
  return 10;
}

// RFC 3711 5.2: SRTCP keeps the 80-bit tag even with the _32 suite.
size_t OpensslSrtp::rtcp_tag_len() const { return gcm_suite() ? kGcmTagLen : 10; }

bool OpensslSrtp::init(std::span<const uint8_t> master, std::string* error) {
  const size_t salt_len = gcm_suite() ? kGcmSaltLen : kCmSaltLen;
  if (master.size() != kKeyLen + salt_len) {
    if (error != nullptr) {
      *error = std::string("SRTP master key and salt for ") + srtp_suite_name(suite_) +
               " must be " + std::to_string(kKeyLen + salt_len) + " bytes, got " +
               std::to_string(master.size());
    }
    return false;
  }
  // The key derivation works on a 112-bit salt; GCM's 96-bit master salt is zero-padded
  // (RFC 7714 section 11, as libsrtp does).
  uint8_t salt[kCmSaltLen] = {};
  std::memcpy(salt, master.data() + kKeyLen, salt_len);
  const std::span<const uint8_t> key = master.first(kKeyLen);
  if (!setup_keys(rtp_, key, salt, 0x00) || !setup_keys(rtcp_, key, salt, 0x03)) {
    if (error != nullptr) *error = "OpenSSL could not set up AES for SRTP";
    return false;
  }
  if (!inbound_ || gcm_suite()) setup_mb_keys(key, salt);
  return true;
}

// RFC 3711 4.3.1 with key_derivation_rate 0: AES-CM keystream over an IV made of the
// master salt XOR (label << 48), i.e. the label lands in byte 7 of the 14-byte salt.
bool srtp_derive_session_key(std::span<const uint8_t> master_key,
                             std::span<const uint8_t> master_salt, uint8_t label, uint8_t* out,
                             size_t out_len) {
  if (master_key.size() != kKeyLen || master_salt.size() != kCmSaltLen || out_len > 32)
    return false;
  uint8_t iv[16] = {};
  std::memcpy(iv, master_salt.data(), kCmSaltLen);
  iv[7] ^= label;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return false;
  uint8_t zeros[32] = {};
  int n = 0;
  const bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, master_key.data(), iv) == 1 &&
                  EVP_EncryptUpdate(ctx, out, &n, zeros, static_cast<int>(out_len)) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

bool srtp_aes_cm_xor(std::span<const uint8_t> session_key, std::span<const uint8_t> session_salt,
                     uint32_t ssrc, uint64_t index, uint8_t* data, size_t len) {
  if (session_key.size() != kKeyLen || session_salt.size() != kCmSaltLen) return false;
  uint8_t iv[16] = {};
  std::memcpy(iv, session_salt.data(), kCmSaltLen);
  iv[4] ^= static_cast<uint8_t>(ssrc >> 24);
  iv[5] ^= static_cast<uint8_t>(ssrc >> 16);
  iv[6] ^= static_cast<uint8_t>(ssrc >> 8);
  iv[7] ^= static_cast<uint8_t>(ssrc);
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return false;
  int n = 0;
  const bool ok =
      EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, session_key.data(), iv) == 1 &&
      EVP_EncryptUpdate(ctx, data, &n, data, static_cast<int>(len)) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

bool OpensslSrtp::setup_keys(SessionKeys& keys, std::span<const uint8_t> master_key,
                             std::span<const uint8_t> master_salt, uint8_t label_base) {
  uint8_t enc[kKeyLen];
  uint8_t auth[kAuthKeyLen];
  const size_t salt_len = gcm_suite() ? kGcmSaltLen : kCmSaltLen;
  if (!srtp_derive_session_key(master_key, master_salt, label_base, enc, sizeof enc) ||
      !srtp_derive_session_key(master_key, master_salt, static_cast<uint8_t>(label_base + 1),
                               auth, sizeof auth) ||
      !srtp_derive_session_key(master_key, master_salt, static_cast<uint8_t>(label_base + 2),
                               keys.salt, salt_len)) {
    return false;
  }
  // HMAC-SHA1 (RFC 2104) with the key's inner and outer pads absorbed once.
  uint8_t ipad[64], opad[64];
  std::memset(ipad, 0x36, sizeof ipad);
  std::memset(opad, 0x5c, sizeof opad);
  for (size_t i = 0; i < kAuthKeyLen; ++i) {
    ipad[i] ^= auth[i];
    opad[i] ^= auth[i];
  }
  SHA1_Init(&keys.hmac_inner);
  SHA1_Update(&keys.hmac_inner, ipad, sizeof ipad);
  SHA1_Init(&keys.hmac_outer);
  SHA1_Update(&keys.hmac_outer, opad, sizeof opad);

  keys.cipher = EVP_CIPHER_CTX_new();
  if (keys.cipher == nullptr) return false;
  bool ok;
  if (gcm_suite()) {
    ok = EVP_CipherInit_ex(keys.cipher, EVP_aes_128_gcm(), nullptr, nullptr, nullptr, 1) == 1 &&
         EVP_CIPHER_CTX_ctrl(keys.cipher, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
         EVP_CipherInit_ex(keys.cipher, nullptr, nullptr, enc, nullptr, 1) == 1;
  } else {
    ok = EVP_EncryptInit_ex(keys.cipher, EVP_aes_128_ctr(), nullptr, enc, nullptr) == 1;
  }
  OPENSSL_cleanse(enc, sizeof enc);
  OPENSSL_cleanse(auth, sizeof auth);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
  return ok;
}

void OpensslSrtp::reserve_streams(size_t n) {
  n = std::min(n, kMaxStreams);
  if (n > streams_.size()) streams_.resize(n);
}

OpensslSrtp::Stream& OpensslSrtp::stream_for(uint32_t ssrc) {
  ++use_clock_;
  Stream* free_slot = nullptr;
  Stream* oldest = &streams_[0];
  for (Stream& s : streams_) {
    if (s.in_use && s.ssrc == ssrc) {
      s.last_use = use_clock_;
      return s;
    }
    if (!s.in_use && free_slot == nullptr) free_slot = &s;
    if (s.last_use < oldest->last_use) oldest = &s;
  }
  Stream* s = free_slot != nullptr ? free_slot : oldest;
  *s = Stream{};
  s->ssrc = ssrc;
  s->in_use = true;
  s->last_use = use_clock_;
  return *s;
}

void OpensslSrtp::hmac(const SessionKeys& keys, const uint8_t* data, size_t len,
                       const uint8_t* tail, size_t tail_len, uint8_t out[20]) const {
  SHA_CTX inner = keys.hmac_inner;
  SHA1_Update(&inner, data, len);
  if (tail_len > 0) SHA1_Update(&inner, tail, tail_len);
  uint8_t digest[20];
  SHA1_Final(digest, &inner);
  SHA_CTX outer = keys.hmac_outer;
  SHA1_Update(&outer, digest, sizeof digest);
  SHA1_Final(out, &outer);
}

// RFC 3711 4.1.1: IV = (k_s << 16) ^ (SSRC << 64) ^ (index << 16).
void OpensslSrtp::cm_iv(const SessionKeys& keys, uint32_t ssrc, uint64_t index, uint8_t iv[16]) {
  std::memset(iv, 0, 16);
  std::memcpy(iv, keys.salt, kCmSaltLen);
  iv[4] ^= static_cast<uint8_t>(ssrc >> 24);
  iv[5] ^= static_cast<uint8_t>(ssrc >> 16);
  iv[6] ^= static_cast<uint8_t>(ssrc >> 8);
  iv[7] ^= static_cast<uint8_t>(ssrc);
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));
}

bool OpensslSrtp::ctr_xor(const SessionKeys& keys, uint32_t ssrc, uint64_t index, uint8_t* data,
                          size_t len) {
  if (len == 0) return true;
  uint8_t iv[16];
  cm_iv(keys, ssrc, index, iv);
  int n = 0;
  return EVP_EncryptInit_ex(keys.cipher, nullptr, nullptr, nullptr, iv) == 1 &&
         EVP_EncryptUpdate(keys.cipher, data, &n, data, static_cast<int>(len)) == 1;
}

// RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR the 12-byte session salt.
void OpensslSrtp::rtp_gcm_iv(uint32_t ssrc, uint32_t roc, uint16_t seq, uint8_t iv[12]) const {
  iv[0] = iv[1] = 0;
  wire::store_be32(iv + 2, ssrc);
  wire::store_be32(iv + 6, roc);
  wire::store_be16(iv + 10, seq);
  for (size_t i = 0; i < kGcmSaltLen; ++i) iv[i] ^= rtp_.salt[i];
}

bool OpensslSrtp::gcm(const SessionKeys& keys, bool encrypt, const uint8_t iv[12],
                      const uint8_t* aad, size_t aad_len, const uint8_t* aad2, size_t aad2_len,
                      uint8_t* data, size_t len, uint8_t tag[16]) {
  EVP_CIPHER_CTX* c = keys.cipher;
  int n = 0;
  if (EVP_CipherInit_ex(c, nullptr, nullptr, nullptr, iv, encrypt ? 1 : 0) != 1) return false;
  if (EVP_CipherUpdate(c, nullptr, &n, aad, static_cast<int>(aad_len)) != 1) return false;
  if (aad2_len > 0 && EVP_CipherUpdate(c, nullptr, &n, aad2, static_cast<int>(aad2_len)) != 1)
    return false;
  if (len > 0 && EVP_CipherUpdate(c, data, &n, data, static_cast<int>(len)) != 1) return false;
  if (!encrypt && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, kGcmTagLen, tag) != 1) return false;
  uint8_t scratch[16];
  if (EVP_CipherFinal_ex(c, scratch, &n) != 1) return false;  // tag mismatch on decrypt
  return !encrypt || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, kGcmTagLen, tag) == 1;
}

// RFC 3711 3.3.1 / appendix A, guessing the roll-over counter from the highest index.
// While the stream is young (highest <= 2^15) the ROC is taken as 0, as libsrtp does, so a
// first packet with a high sequence number is not mistaken for the previous cycle.
uint64_t OpensslSrtp::estimate_index(const Stream& s, uint16_t seq) {
  if (s.highest <= 0x8000) return seq;
  const auto local_roc = static_cast<uint32_t>(s.highest >> 16);
  const auto local_seq = static_cast<uint16_t>(s.highest);
  uint32_t roc = local_roc;
  if (local_seq < 0x8000) {
    if (seq > local_seq && seq - local_seq > 0x8000) roc = local_roc - 1;
  } else {
    if (local_seq - 0x8000 > seq) roc = local_roc + 1;
  }
  return (static_cast<uint64_t>(roc) << 16) | seq;
}

bool OpensslSrtp::replay_check(const std::array<uint64_t, 16>& window, uint64_t highest,
                               uint64_t index, bool allow_repeat) {
  if (index > highest) return true;
  const uint64_t delta = highest - index;
  if (delta >= 1024) return false;
  const bool seen = (window[delta / 64] >> (delta % 64)) & 1u;
  return !seen || allow_repeat;
}

void OpensslSrtp::replay_accept(Stream& s, uint64_t index) {
  if (index > s.highest || !s.rtp_started) {
    const uint64_t shift = s.rtp_started ? index - s.highest : 0;
    if (shift >= 1024) {
      s.window.fill(0);
    } else if (shift > 0) {
      const size_t words = shift / 64;
      const unsigned bits = shift % 64;
      for (size_t i = s.window.size(); i-- > 0;) {
        uint64_t v = i >= words ? s.window[i - words] << bits : 0;
        if (bits != 0 && i >= words + 1) v |= s.window[i - words - 1] >> (64 - bits);
        s.window[i] = v;
      }
    }
    s.highest = index;
    s.rtp_started = true;
    s.window[0] |= 1u;
    return;
  }
  const uint64_t delta = s.highest - index;
  s.window[delta / 64] |= uint64_t{1} << (delta % 64);
}

SrtpStatus OpensslSrtp::plan_rtp_index(const uint8_t* p, bool allow_repeat, RtpPacketPlan& plan) {
  plan.ssrc = wire::load_be32(p + 8);
  plan.seq = wire::load_be16(p + 2);
  Stream& s = stream_for(plan.ssrc);
  plan.stream = &s;
  plan.index = estimate_index(s, plan.seq);
  if (s.rtp_started && !replay_check(s.window, s.highest, plan.index, allow_repeat)) {
    return SrtpStatus::replay;
  }
  return SrtpStatus::ok;
}

SrtpStatus OpensslSrtp::plan_protect_rtp(const uint8_t* p, size_t len, size_t capacity,
                                         RtpPacketPlan& plan) {
  if (!rtp_header_length(p, len, &plan.header)) return SrtpStatus::bad_packet;
  plan.tag_len = rtp_tag_len();
  if (len + plan.tag_len > capacity) return SrtpStatus::no_space;
  // Retransmissions reuse an index; only one older than the window is refused.
  return plan_rtp_index(p, /*allow_repeat=*/true, plan);
}

SrtpStatus OpensslSrtp::protect_rtp(uint8_t* p, size_t& len, size_t capacity) {
  RtpPacketPlan plan;
  if (SrtpStatus st = plan_protect_rtp(p, len, capacity, plan); st != SrtpStatus::ok) return st;
  const size_t header = plan.header;
  const size_t tag_len = plan.tag_len;
  const uint32_t ssrc = plan.ssrc;
  const uint64_t index = plan.index;
  const auto roc = static_cast<uint32_t>(index >> 16);
  if (gcm_suite()) {
    uint8_t iv[12];
    rtp_gcm_iv(ssrc, roc, plan.seq, iv);
    if (!gcm(rtp_, true, iv, p, header, nullptr, 0, p + header, len - header, p + len))
      return SrtpStatus::other;
  } else {
    if (!ctr_xor(rtp_, ssrc, index, p + header, len - header)) return SrtpStatus::other;
    uint8_t roc_bytes[4];
    wire::store_be32(roc_bytes, roc);
    uint8_t digest[20];
    hmac(rtp_, p, len, roc_bytes, sizeof roc_bytes, digest);
    std::memcpy(p + len, digest, tag_len);
  }
  replay_accept(*plan.stream, index);
  len += tag_len;
  return SrtpStatus::ok;
}

SrtpStatus OpensslSrtp::plan_unprotect_rtp(const uint8_t* p, size_t len, RtpPacketPlan& plan) {
  plan.tag_len = rtp_tag_len();
  if (len < 12 + plan.tag_len) return SrtpStatus::bad_packet;
  if (!rtp_header_length(p, len - plan.tag_len, &plan.header)) return SrtpStatus::bad_packet;
  return plan_rtp_index(p, /*allow_repeat=*/false, plan);
}

SrtpStatus OpensslSrtp::unprotect_rtp(uint8_t* p, size_t& len) {
  RtpPacketPlan plan;
  if (SrtpStatus st = plan_unprotect_rtp(p, len, plan); st != SrtpStatus::ok) return st;
  const size_t tag_len = plan.tag_len;
  const size_t header = plan.header;
  const uint32_t ssrc = plan.ssrc;
  const uint16_t seq = plan.seq;
  Stream& s = *plan.stream;
  const uint64_t index = plan.index;
  const auto roc = static_cast<uint32_t>(index >> 16);
  const size_t body = len - tag_len;
  if (gcm_suite()) {
    uint8_t iv[12];
    rtp_gcm_iv(ssrc, roc, seq, iv);
    if (!gcm(rtp_, false, iv, p, header, nullptr, 0, p + header, body - header, p + body))
      return SrtpStatus::auth_failed;
  } else {
    uint8_t roc_bytes[4];
    wire::store_be32(roc_bytes, roc);
    uint8_t digest[20];
    hmac(rtp_, p, body, roc_bytes, sizeof roc_bytes, digest);
    if (CRYPTO_memcmp(digest, p + body, tag_len) != 0) return SrtpStatus::auth_failed;
    if (!ctr_xor(rtp_, ssrc, index, p + header, body - header)) return SrtpStatus::other;
  }
  replay_accept(s, index);
  len = body;
  return SrtpStatus::ok;
}

SrtpStatus OpensslSrtp::protect_rtcp(uint8_t* p, size_t& len, size_t capacity) {
  if (len < 8 || (p[0] >> 6) != 2) return SrtpStatus::bad_packet;
  const size_t tag_len = rtcp_tag_len();
  if (len + kRtcpIndexLen + tag_len > capacity) return SrtpStatus::no_space;
  Stream& s = stream_for(wire::load_be32(p + 4));
  if (s.rtcp_highest >= 0x7FFFFFFFu) return SrtpStatus::other;  // index space exhausted
  const uint32_t index = ++s.rtcp_highest;
  s.rtcp_started = true;
  const uint32_t index_word = kRtcpEncryptedBit | index;
  if (gcm_suite()) {
    uint8_t e_index[4];
    wire::store_be32(e_index, index_word);
    uint8_t iv[12] = {};
    std::memcpy(iv + 2, p + 4, 4);
    wire::store_be32(iv + 8, index);
    for (size_t i = 0; i < kGcmSaltLen; ++i) iv[i] ^= rtcp_.salt[i];
    if (!gcm(rtcp_, true, iv, p, 8, e_index, 4, p + 8, len - 8, p + len)) return SrtpStatus::other;
    std::memcpy(p + len + kGcmTagLen, e_index, 4);
  } else {
    if (!ctr_xor(rtcp_, wire::load_be32(p + 4), index, p + 8, len - 8)) return SrtpStatus::other;
    wire::store_be32(p + len, index_word);
    uint8_t digest[20];
    hmac(rtcp_, p, len + kRtcpIndexLen, nullptr, 0, digest);
    std::memcpy(p + len + kRtcpIndexLen, digest, tag_len);
  }
  len += kRtcpIndexLen + tag_len;
  return SrtpStatus::ok;
}

SrtpStatus OpensslSrtp::unprotect_rtcp(uint8_t* p, size_t& len) {
  const size_t tag_len = rtcp_tag_len();
  if (len < 8 + kRtcpIndexLen + tag_len || (p[0] >> 6) != 2) return SrtpStatus::bad_packet;
  const uint32_t ssrc = wire::load_be32(p + 4);
  // Layout: header(8) | body | [GCM: tag | E+index] or [CM: E+index | tag].
  const size_t index_at = gcm_suite() ? len - kRtcpIndexLen : len - tag_len - kRtcpIndexLen;
  const uint32_t index_word = wire::load_be32(p + index_at);
  const uint32_t index = index_word & 0x7FFFFFFFu;
  const bool encrypted = (index_word & kRtcpEncryptedBit) != 0;
  Stream& s = stream_for(ssrc);
  if (s.rtcp_started) {
    if (index <= s.rtcp_highest) {
      const uint32_t delta = s.rtcp_highest - index;
      if (delta >= 128 || ((s.rtcp_window[delta / 64] >> (delta % 64)) & 1u) != 0)
        return SrtpStatus::replay;
    }
  }
  const size_t body_end = len - tag_len - kRtcpIndexLen;
  if (gcm_suite()) {
    uint8_t iv[12] = {};
    std::memcpy(iv + 2, p + 4, 4);
    wire::store_be32(iv + 8, index);
    for (size_t i = 0; i < kGcmSaltLen; ++i) iv[i] ^= rtcp_.salt[i];
    uint8_t e_index[4];
    std::memcpy(e_index, p + index_at, 4);
    bool ok;
    if (encrypted) {
      ok = gcm(rtcp_, false, iv, p, 8, e_index, 4, p + 8, body_end - 8, p + body_end);
    } else {  // RFC 7714 9.2: unencrypted SRTCP authenticates the whole packet
      ok = gcm(rtcp_, false, iv, p, body_end, e_index, 4, nullptr, 0, p + body_end);
    }
    if (!ok) return SrtpStatus::auth_failed;
  } else {
    uint8_t digest[20];
    hmac(rtcp_, p, body_end + kRtcpIndexLen, nullptr, 0, digest);
    if (CRYPTO_memcmp(digest, p + body_end + kRtcpIndexLen, tag_len) != 0)
      return SrtpStatus::auth_failed;
    if (encrypted && !ctr_xor(rtcp_, ssrc, index, p + 8, body_end - 8)) return SrtpStatus::other;
  }
  if (!s.rtcp_started || index > s.rtcp_highest) {
    const uint32_t shift = s.rtcp_started ? index - s.rtcp_highest : 0;
    if (shift >= 128) {
      s.rtcp_window = {0, 0};
    } else if (shift >= 64) {
      s.rtcp_window[1] = s.rtcp_window[0] << (shift - 64);
      s.rtcp_window[0] = 0;
    } else if (shift > 0) {
      s.rtcp_window[1] = (s.rtcp_window[1] << shift) | (s.rtcp_window[0] >> (64 - shift));
      s.rtcp_window[0] <<= shift;
    }
    s.rtcp_window[0] |= 1u;
    s.rtcp_highest = index;
    s.rtcp_started = true;
  } else {
    const uint32_t delta = s.rtcp_highest - index;
    s.rtcp_window[delta / 64] |= uint64_t{1} << (delta % 64);
  }
  len = body_end;
  return SrtpStatus::ok;
}

// The same RTP session keys as setup_keys derives, in ipsec-mb's form. Without them (no
// ipsec-mb manager) batches fall back to protect_rtp.
void OpensslSrtp::setup_mb_keys(std::span<const uint8_t> master_key,
                                std::span<const uint8_t> master_salt) {
  uint8_t enc[kKeyLen];
  uint8_t auth[kAuthKeyLen] = {};
  if (srtp_derive_session_key(master_key, master_salt, 0x00, enc, sizeof enc) &&
      (gcm_suite() || srtp_derive_session_key(master_key, master_salt, 0x01, auth, sizeof auth))) {
    mb_rtp_ = srtp_mb_make_keys(gcm_suite(), std::span<const uint8_t, kKeyLen>(enc),
                                std::span<const uint8_t, kAuthKeyLen>(auth));
  }
  OPENSSL_cleanse(enc, sizeof enc);
  OPENSSL_cleanse(auth, sizeof auth);
}

SrtpStatus OpensslSrtp::prepare_protect_rtp(uint8_t* p, size_t len, size_t capacity,
                                            SrtpMbJob& job) {
  if (!mb_rtp_) return SrtpStatus::other;
  RtpPacketPlan plan;
  if (SrtpStatus st = plan_protect_rtp(p, len, capacity, plan); st != SrtpStatus::ok) return st;
  // Recorded as sent before the batch's cryptography runs, so that a later packet of the
  // same SSRC in the batch is numbered as it would be after this one in a loop.
  replay_accept(*plan.stream, plan.index);
  const auto roc = static_cast<uint32_t>(plan.index >> 16);
  job.packet = p;
  job.header_len = static_cast<uint32_t>(plan.header);
  job.len = static_cast<uint32_t>(len);
  job.tag_len = static_cast<uint32_t>(plan.tag_len);
  job.roc = roc;
  job.gcm = gcm_suite();
  job.keys = mb_rtp_.get();
  if (job.gcm) {
    rtp_gcm_iv(plan.ssrc, roc, plan.seq, job.iv);
  } else {
    cm_iv(rtp_, plan.ssrc, plan.index, job.iv);
  }
  return SrtpStatus::ok;
}

SrtpStatus OpensslSrtp::prepare_unprotect_rtp(uint8_t* p, size_t len, SrtpMbJob& job,
                                              uint64_t& index) {
  if (!mb_rtp_ || !gcm_suite()) return SrtpStatus::other;
  RtpPacketPlan plan;
  if (SrtpStatus st = plan_unprotect_rtp(p, len, plan); st != SrtpStatus::ok) return st;
  index = plan.index;
  const auto roc = static_cast<uint32_t>(index >> 16);
  job.packet = p;
  job.header_len = static_cast<uint32_t>(plan.header);
  job.len = static_cast<uint32_t>(len - plan.tag_len);
  job.tag_len = static_cast<uint32_t>(plan.tag_len);
  job.roc = roc;
  job.gcm = true;
  job.keys = mb_rtp_.get();
  rtp_gcm_iv(plan.ssrc, roc, plan.seq, job.iv);
  return SrtpStatus::ok;
}

void OpensslSrtp::finish_unprotect_rtp(uint32_t ssrc, uint64_t index) {
  replay_accept(stream_for(ssrc), index);
}

}  // namespace weir::dp
