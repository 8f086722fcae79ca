// SRTP protect cryptography on Intel's multi-buffer crypto library (libipsec-mb, Debian
// libipsec-mb-dev). A forward fans one packet out to many consumers, each under its own
// key: that is many independent AES-CTR + HMAC-SHA1 (or AES-GCM) computations, which
// ipsec-mb runs side by side in SIMD lanes (16 SHA-1 lanes with AVX-512). OpensslSrtp keeps
// the per-packet SRTP logic (index, ROC, replay, IV); this file only holds the key
// material in ipsec-mb's layout and runs a batch of prepared packets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace weir::dp {

// One protocol's session keys in ipsec-mb's form: the expanded AES key and the HMAC-SHA1
// pads' digests (AES-CM suites) or the GCM key schedule and hash keys (GCM).
struct SrtpMbKeys;
struct SrtpMbKeysFree {
  void operator()(SrtpMbKeys* keys) const;
};
using SrtpMbKeysPtr = std::unique_ptr<SrtpMbKeys, SrtpMbKeysFree>;

// Session keys as derived by RFC 3711 4.3.1 (16-byte cipher key; 20-byte auth key for
// AES-CM, unused for GCM). nullptr when ipsec-mb cannot run on this thread (no manager).
SrtpMbKeysPtr srtp_mb_make_keys(bool gcm, std::span<const uint8_t, 16> cipher_key,
                                std::span<const uint8_t, 20> auth_key);

// One RTP packet whose header work OpensslSrtp::prepare_protect_rtp has done; the crypto
// turns packet[0, len) into SRTP of len + tag_len bytes.
struct SrtpMbJob {
  uint8_t* packet = nullptr;
  uint32_t header_len = 0;  // authenticated, not encrypted
  uint32_t len = 0;         // RTP length before protect
  uint32_t tag_len = 0;     // 10 or 4 (AES-CM), 16 (GCM)
  uint32_t roc = 0;         // AES-CM: authenticated after the packet (RFC 3711 4.2)
  bool gcm = false;
  bool ok = false;  // out: the cryptography ran
  const SrtpMbKeys* keys = nullptr;
  alignas(16) uint8_t iv[16] = {};  // AES-CM counter block, or the 12-byte GCM IV
  uint8_t tag[16] = {};             // HMAC-SHA1-96 output (tag_len bytes kept); GCM check
};

// Runs every job's cryptography on this thread's ipsec-mb manager: encrypts the payload in
// place and writes the tag at packet + len, setting ok. Needs len + tag_len bytes of room
// (and, for AES-CM, len + 4 for the ROC the tag covers: tag_len >= 4). No allocation after
// the thread's first use, no locks.
void srtp_mb_protect_rtp(std::span<SrtpMbJob> jobs);

// AES-GCM unprotect of one packet prepared by OpensslSrtp::prepare_unprotect_rtp (len is
// the length without the tag, which follows it): decrypts in place and checks the tag.
// false on a tag mismatch (the payload is then garbage) or if ipsec-mb cannot run.
bool srtp_mb_unprotect_rtp_gcm(SrtpMbJob& job);

// Whether this thread has an ipsec-mb manager (created on first call) and its name.
bool srtp_mb_available();
const char* srtp_mb_arch_name();

}  // namespace weir::dp
