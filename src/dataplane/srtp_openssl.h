// SRTP/SRTCP (RFC 3711; RFC 7714 for AES-GCM) on OpenSSL's EVP ciphers and SHA-1, for the
// packet path. Debian's libsrtp2 is built on NSS, which creates cipher and HMAC contexts on
// every call (14 heap allocations and several times the CPU per 1,100-byte protect); this
// backend keeps one cipher context per direction, precomputed HMAC pads, and per-SSRC
// replay state in a fixed table, so protect and unprotect allocate nothing. It is checked
// packet-for-packet against libsrtp2 in the tests.
#pragma once

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dataplane/srtp_ipsec_mb.h"
#include "dataplane/srtp_session.h"

namespace weir::dp {

// RFC 3711 4.3.1 key derivation (key_derivation_rate 0): out_len bytes of session key
// material for `label` from a 16-byte master key and a 14-byte master salt.
bool srtp_derive_session_key(std::span<const uint8_t> master_key,
                             std::span<const uint8_t> master_salt, uint8_t label, uint8_t* out,
                             size_t out_len);
// RFC 3711 4.1.1 AES-CM keystream for (session key, session salt, SSRC, index), XORed into
// data in place.
bool srtp_aes_cm_xor(std::span<const uint8_t> session_key, std::span<const uint8_t> session_salt,
                     uint32_t ssrc, uint64_t index, uint8_t* data, size_t len);

class OpensslSrtp {
 public:
  // The most SSRCs one session tracks at once; the least recently used is forgotten.
  static constexpr size_t kMaxStreams = 64;
  // Slots a new session has. A consumer's transport protects one or two SSRCs, and at
  // thousands of transports per worker a full table per session would be most of the
  // server's memory per consumer.
  static constexpr size_t kInitialStreams = 4;

  static std::unique_ptr<OpensslSrtp> create(SrtpSuite suite, bool inbound,
                                             std::span<const uint8_t> master, std::string* error);
  ~OpensslSrtp();
  OpensslSrtp(const OpensslSrtp&) = delete;
  OpensslSrtp& operator=(const OpensslSrtp&) = delete;

  SrtpStatus protect_rtp(uint8_t* packet, size_t& len, size_t capacity);
  SrtpStatus unprotect_rtp(uint8_t* packet, size_t& len);
  SrtpStatus protect_rtcp(uint8_t* packet, size_t& len, size_t capacity);
  SrtpStatus unprotect_rtcp(uint8_t* packet, size_t& len);

  // Makes room for n SSRCs (at most kMaxStreams) so that none is forgotten while n or
  // fewer are in use. It allocates: the worker calls it while applying the commands that
  // add SSRCs, so that the packet path never does.
  void reserve_streams(size_t n);
  size_t stream_capacity() const { return streams_.size(); }

  // protect_rtp's header work for a caller that runs the cryptography on ipsec-mb (a batch):
  // checks, index estimation, replay bookkeeping and the IV, in the same order and with the
  // same outcome as protect_rtp, filling job. The index counts as sent once this returns
  // ok, so a later packet of the same SSRC can be prepared before this one's crypto runs.
  // Needs has_mb_keys(); protect_rtp and this keep the same per-SSRC state.
  SrtpStatus prepare_protect_rtp(uint8_t* packet, size_t len, size_t capacity, SrtpMbJob& job);
  bool has_mb_keys() const { return mb_rtp_ != nullptr; }
  // A batch protects for thousands of sessions whose state does not stay in cache, so it
  // fetches each a few requests ahead in two steps: stage 0 this object's lines that
  // protect reads, stage 1 (once those have arrived) the SSRC table and ipsec-mb keys
  // they point to.
  void prefetch(int stage) const {
    if (stage == 0) {
      __builtin_prefetch(this);
      __builtin_prefetch(&streams_);
      __builtin_prefetch(&mb_rtp_);
    } else {
      __builtin_prefetch(streams_.data());
      __builtin_prefetch(mb_rtp_.get());
    }
  }
  // unprotect_rtp's header work and replay check for AES-GCM on ipsec-mb (job.len is the
  // length without the tag); finish_unprotect_rtp records index once the tag is verified.
  SrtpStatus prepare_unprotect_rtp(uint8_t* packet, size_t len, SrtpMbJob& job, uint64_t& index);
  void finish_unprotect_rtp(uint32_t ssrc, uint64_t index);

 private:
  // Session keys of one protocol (RTP or RTCP), derived from the master key.
  struct SessionKeys {
    uint8_t salt[14] = {};
    SHA_CTX hmac_inner{};  // SHA-1 state after (key ^ ipad)
    SHA_CTX hmac_outer{};  // SHA-1 state after (key ^ opad)
    EVP_CIPHER_CTX* cipher = nullptr;
  };
  // RFC 3711 3.3.1 index estimation and a replay window per SSRC.
  struct Stream {
    uint32_t ssrc = 0;
    bool in_use = false;
    uint64_t last_use = 0;
    uint64_t highest = 0;  // highest 48-bit RTP index accepted
    std::array<uint64_t, 16> window{};  // 1,024 bits: bit k = index (highest - k) seen
    bool rtp_started = false;
    uint32_t rtcp_highest = 0;  // SRTCP: last index sent / highest received
    std::array<uint64_t, 2> rtcp_window{};  // 128 bits
    bool rtcp_started = false;
  };

  OpensslSrtp(SrtpSuite suite, bool inbound) : suite_(suite), inbound_(inbound) {}
  bool init(std::span<const uint8_t> master, std::string* error);
  bool setup_keys(SessionKeys& keys, std::span<const uint8_t> master_key,
                  std::span<const uint8_t> master_salt, uint8_t label_base);
  void setup_mb_keys(std::span<const uint8_t> master_key, std::span<const uint8_t> master_salt);
  Stream& stream_for(uint32_t ssrc);
  void hmac(const SessionKeys& keys, const uint8_t* data, size_t len, const uint8_t* tail,
            size_t tail_len, uint8_t out[20]) const;
  static void cm_iv(const SessionKeys& keys, uint32_t ssrc, uint64_t index, uint8_t iv[16]);
  bool ctr_xor(const SessionKeys& keys, uint32_t ssrc, uint64_t index, uint8_t* data,
               size_t len);
  void rtp_gcm_iv(uint32_t ssrc, uint32_t roc, uint16_t seq, uint8_t iv[12]) const;
  bool gcm(const SessionKeys& keys, bool encrypt, const uint8_t iv[12], const uint8_t* aad,
           size_t aad_len, const uint8_t* aad2, size_t aad2_len, uint8_t* data, size_t len,
           uint8_t tag[16]);
  // What protecting or unprotecting one RTP packet needs before its cryptography: the
  // checks, the SSRC's stream and the packet's index, shared by each per-packet call and
  // its batch's prepare so that both refuse and number packets alike. Nothing is recorded
  // as sent or received yet.
  struct RtpPacketPlan {
    size_t header = 0;
    size_t tag_len = 0;
    uint32_t ssrc = 0;
    uint16_t seq = 0;
    Stream* stream = nullptr;
    uint64_t index = 0;
  };
  SrtpStatus plan_protect_rtp(const uint8_t* p, size_t len, size_t capacity, RtpPacketPlan& plan);
  // The same for a received packet (len includes the tag): its checks, index and replay
  // verdict, shared by unprotect_rtp and the batch's prepare_unprotect_rtp.
  SrtpStatus plan_unprotect_rtp(const uint8_t* p, size_t len, RtpPacketPlan& plan);
  // Both plans' second half: the packet's SSRC, sequence, stream, index and replay verdict
  // (allow_repeat: a sender may send an index again, a receiver must not accept it twice).
  SrtpStatus plan_rtp_index(const uint8_t* p, bool allow_repeat, RtpPacketPlan& plan);
  static uint64_t estimate_index(const Stream& s, uint16_t seq);
  static bool replay_check(const std::array<uint64_t, 16>& window, uint64_t highest, uint64_t index,
                           bool allow_repeat);
  static void replay_accept(Stream& s, uint64_t index);

  bool gcm_suite() const { return suite_ == SrtpSuite::aead_aes_128_gcm; }
  size_t rtp_tag_len() const;
  size_t rtcp_tag_len() const;

  SrtpSuite suite_;
  bool inbound_;
  SessionKeys rtp_;
  SessionKeys rtcp_;
  std::vector<Stream> streams_ = std::vector<Stream>(kInitialStreams);
  uint64_t use_clock_ = 0;
  SrtpMbKeysPtr mb_rtp_;  // RTP session keys for ipsec-mb (outbound, and inbound GCM)
};

}  // namespace weir::dp
