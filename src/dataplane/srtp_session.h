// SRTP and SRTCP (RFC 3711, RFC 7714 for GCM) for one direction of one transport, on
// libsrtp2. An outbound session protects packets of any SSRC (every consumer of a
// transport shares it); an inbound one accepts any SSRC. Replay protection is on; the
// outbound side allows repeated sequence numbers so that retransmissions can be sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace weir::dp {

enum class SrtpSuite : uint8_t {
  aes_cm_128_hmac_sha1_80,
  aes_cm_128_hmac_sha1_32,
  aead_aes_128_gcm,
};

// The names used on the wire (SDP a=crypto, mediasoup srtpParameters.cryptoSuite).
std::optional<SrtpSuite> srtp_suite_from_name(std::string_view name);
const char* srtp_suite_name(SrtpSuite suite);
// Master key plus master salt, as concatenated in keyBase64: 30, 30 and 28 bytes.
size_t srtp_master_length(SrtpSuite suite);
// Bytes protect adds: the RTP tag (10, 4, 16) and, for RTCP, the 4-byte E+index word plus
// the tag (14, 14, 20: the _32 suite still uses an 80-bit tag on RTCP, RFC 3711 5.2).
size_t srtp_rtp_trailer_length(SrtpSuite suite);
size_t srtp_rtcp_trailer_length(SrtpSuite suite);

enum class SrtpStatus : uint8_t {
  ok,
  auth_failed,  // tag mismatch: wrong key or tampered packet
  replay,       // index already seen or too old
  bad_packet,   // too short or malformed for SRTP
  no_space,     // buffer too small for the trailer
  other,
};
const char* srtp_status_name(SrtpStatus status);

class OpensslSrtp;
struct SrtpMbJob;
struct SrtpProtectRequest;

// Who does the cryptography. OpenSSL is the default: Debian's libsrtp2 is built on NSS,
// which allocates on every packet and costs several times more CPU per protect. libsrtp2
// stays available (WEIR_SRTP_BACKEND=libsrtp) and is the reference the tests check
// OpenSSL against.
enum class SrtpBackend : uint8_t { openssl, libsrtp };
// The process default: openssl, unless the environment says WEIR_SRTP_BACKEND=libsrtp.
SrtpBackend default_srtp_backend();
const char* srtp_backend_name(SrtpBackend backend);

class SrtpSession {
 public:
  enum class Direction { inbound, outbound };
  // Largest growth of a packet by protect (tag + SRTCP index).
  static constexpr size_t kMaxTrailer = 32;

  // master: key || salt of srtp_master_length(suite) bytes. nullptr with *error on failure.
  static std::unique_ptr<SrtpSession> create(SrtpSuite suite, Direction direction,
                                             std::span<const uint8_t> master,
                                             std::string* error,
                                             SrtpBackend backend = default_srtp_backend());
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // In place. len is updated; capacity is the room from packet[0] for the trailer.
  SrtpStatus protect_rtp(uint8_t* packet, size_t& len, size_t capacity);
  SrtpStatus unprotect_rtp(uint8_t* packet, size_t& len);
  SrtpStatus protect_rtcp(uint8_t* packet, size_t& len, size_t capacity);
  SrtpStatus unprotect_rtcp(uint8_t* packet, size_t& len);

  // Room for n SSRCs without forgetting any (OpenSSL backend; libsrtp2 grows its own
  // list). Allocates: call it where SSRCs are added, not per packet.
  void reserve_streams(size_t n);

  SrtpSuite suite() const { return suite_; }
  Direction direction() const { return direction_; }
  SrtpBackend backend() const { return fast_ ? SrtpBackend::openssl : SrtpBackend::libsrtp; }

 private:
  friend void srtp_protect_rtp_batch(std::span<SrtpProtectRequest> requests);
  SrtpSession(SrtpSuite s, Direction d);
  // The checks of protect_rtp, then OpensslSrtp's header work into job. false with
  // r.status set when the packet is done (failed, or protected here because this session
  // has no ipsec-mb keys); true when job waits for its cryptography.
  bool prepare_batched_protect(SrtpProtectRequest& r, SrtpMbJob& job);
  // OpensslSrtp::prefetch's stages; the caller fetches this object itself before stage 0.
  void prefetch(int stage) const;
  bool single_on_mb() const;
  std::unique_ptr<OpensslSrtp> fast_;  // set for the OpenSSL backend
  void* session_ = nullptr;            // srtp_t, for the libsrtp backend
  SrtpSuite suite_;
  Direction direction_;
};

// One packet of a batch protect: RTP packet in place, as for SrtpSession::protect_rtp.
struct SrtpProtectRequest {
  SrtpSession* session = nullptr;  // an outbound session
  uint8_t* packet = nullptr;
  size_t len = 0;        // in: RTP length; out: SRTP length (unchanged unless status ok)
  size_t capacity = 0;   // room from packet[0]
  SrtpStatus status = SrtpStatus::other;  // out
};
// Protects every request's packet. The outcome of each equals protect_rtp on the requests
// in order (several requests may name the same session and SSRC). The header work runs
// per packet in order; the cryptography of OpenSSL-backend sessions then runs together on
// libipsec-mb (AES-CTR + HMAC-SHA1 in SIMD lanes, AES-GCM). No allocation (after a
// thread's first call), no locks, no exceptions.
void srtp_protect_rtp_batch(std::span<SrtpProtectRequest> requests);

// How srtp_protect_rtp_batch runs: on ipsec-mb, or as a loop of protect_rtp (the
// environment says WEIR_SRTP_BATCH=loop, for comparison and tests; also when this
// thread has no ipsec-mb manager). In ipsec_mb mode single AES-GCM protect_rtp and
// unprotect_rtp run on ipsec-mb too; loop mode leaves all of SRTP on OpenSSL.
enum class SrtpBatchMode : uint8_t { ipsec_mb, loop };
SrtpBatchMode srtp_batch_mode();
const char* srtp_batch_mode_name(SrtpBatchMode mode);

// libsrtp2's process-wide initialisation; idempotent and thread-safe.
bool srtp_library_init(std::string* error);

// Nanoseconds for one protect_rtp of a 12-byte-header packet with payload_size bytes of
// payload, on this core now: the median of 5 batches of `iterations` packets each. For
// tools (pktgen's protect_ns) that report the crypto bound beside a throughput figure.
// Returns a negative value if the library or a session cannot be set up.
double measure_protect_ns(SrtpSuite suite, size_t payload_size, uint32_t iterations);

}  // namespace weir::dp
