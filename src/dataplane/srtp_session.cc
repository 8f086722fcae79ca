#include "dataplane/srtp_session.h"

#include <srtp2/srtp.h>

#include <algorithm>
#include <cstdlib>
#include <array>
#include <cstring>
#include <mutex>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "dataplane/srtp_ipsec_mb.h"
#include "dataplane/srtp_openssl.h"
#include "wire/byte_io.h"

namespace weir::dp {
namespace {

struct SuiteInfo {
  SrtpSuite suite;
  const char* name;
  size_t master_length;
  size_t rtp_trailer;
  size_t rtcp_trailer;
};

// Trailers: AES-CM RTCP always carries E+index (4) and an 80-bit tag; GCM puts the 16-byte
// tag before the 4-byte E+index word (RFC 7714 9.2).
constexpr std::array<SuiteInfo, 3> kSuites{{
    {SrtpSuite::aes_cm_128_hmac_sha1_80, "AES_CM_128_HMAC_SHA1_80", 30, 10, 14},
    {SrtpSuite::aes_cm_128_hmac_sha1_32, "AES_CM_128_HMAC_SHA1_32", 30, 4, 14},
    {SrtpSuite::aead_aes_128_gcm, "AEAD_AES_128_GCM", 28, 16, 20},
}};

const SuiteInfo& info(SrtpSuite suite) { return kSuites[static_cast<size_t>(suite)]; }

static_assert(kSuites[0].suite == SrtpSuite::aes_cm_128_hmac_sha1_80);
static_assert(kSuites[1].suite == SrtpSuite::aes_cm_128_hmac_sha1_32);
static_assert(kSuites[2].suite == SrtpSuite::aead_aes_128_gcm);
static_assert(SrtpSession::kMaxTrailer >= 20, "largest trailer is GCM SRTCP: tag + index");

SrtpStatus map_status(srtp_err_status_t e) {
  switch (e) {
    case srtp_err_status_ok: return SrtpStatus::ok;
    case srtp_err_status_auth_fail: return SrtpStatus::auth_failed;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
    case srtp_err_status_pkt_idx_old: return SrtpStatus::replay;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
    // SRTCP whose E flag says "not encrypted" although the suite encrypts: libsrtp refuses
    // it before checking the tag, so nothing was authenticated; it is malformed input.
    case srtp_err_status_cant_check: return SrtpStatus::bad_packet;
    default: return SrtpStatus::other;
  }
}

void set_crypto_policy(SrtpSuite suite, srtp_policy_t& policy) {
  switch (suite) {
    case SrtpSuite::aes_cm_128_hmac_sha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case SrtpSuite::aes_cm_128_hmac_sha1_32:
      // RFC 3711 5.2 / RFC 4568: the short tag is for RTP only; SRTCP keeps 80 bits.
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case SrtpSuite::aead_aes_128_gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      break;
  }
}

// libsrtp counts lengths in int; anything larger than a datagram is not SRTP anyway.
constexpr size_t kMaxPacket = 65535;

}  // namespace

std::optional<SrtpSuite> srtp_suite_from_name(std::string_view name) {
  for (const auto& s : kSuites) {
    if (name == s.name) return s.suite;
  }
  return std::nullopt;
}

const char* srtp_suite_name(SrtpSuite suite) { return info(suite).name; }
size_t srtp_master_length(SrtpSuite suite) { return info(suite).master_length; }
size_t srtp_rtp_trailer_length(SrtpSuite suite) { return info(suite).rtp_trailer; }
size_t srtp_rtcp_trailer_length(SrtpSuite suite) { return info(suite).rtcp_trailer; }

const char* srtp_status_name(SrtpStatus status) {
  switch (status) {
    case SrtpStatus::ok: return "ok";
    case SrtpStatus::auth_failed: return "auth_failed";
    case SrtpStatus::replay: return "replay";
    case SrtpStatus::bad_packet: return "bad_packet";
    case SrtpStatus::no_space: return "no_space";
    case SrtpStatus::other: return "other";
  }
  return "unknown";
}

bool srtp_library_init(std::string* error) {
  static std::once_flag once;
  static srtp_err_status_t result = srtp_err_status_ok;
  std::call_once(once, [] {
    result = srtp_init();
    if (result == srtp_err_status_ok) {
      LOG_INFO("srtp", "libsrtp initialised: %s", srtp_get_version_string());
    } else {
      LOG_ERROR("srtp", "srtp_init failed: %d", static_cast<int>(result));
    }
  });
  if (result != srtp_err_status_ok && error) {
    *error = "srtp_init failed with status " + std::to_string(static_cast<int>(result));
  }
  return result == srtp_err_status_ok;
}

SrtpBackend default_srtp_backend() {
  static const SrtpBackend backend = [] {
    const char* env = std::getenv("WEIR_SRTP_BACKEND");
    return env != nullptr && std::string_view(env) == "libsrtp" ? SrtpBackend::libsrtp
                                                                : SrtpBackend::openssl;
  }();
  return backend;
}

const char* srtp_backend_name(SrtpBackend backend) {
  return backend == SrtpBackend::openssl ? "openssl" : "libsrtp";
}

std::unique_ptr<SrtpSession> SrtpSession::create(SrtpSuite suite, Direction direction,
                                                 std::span<const uint8_t> master,
                                                 std::string* error, SrtpBackend backend) {
  auto fail = [error](std::string message) -> std::unique_ptr<SrtpSession> {
    if (error) *error = std::move(message);
    return nullptr;
  };
  if (!srtp_library_init(error)) return nullptr;
  const size_t want = srtp_master_length(suite);
  if (master.size() != want) {
    return fail(std::string("SRTP master key+salt for ") + srtp_suite_name(suite) + " must be " +
                std::to_string(want) + " bytes, got " + std::to_string(master.size()));
  }

  if (backend == SrtpBackend::openssl) {
    std::unique_ptr<SrtpSession> session(new SrtpSession(suite, direction));
    session->fast_ = OpensslSrtp::create(suite, direction == Direction::inbound, master, error);
    if (!session->fast_) return nullptr;
    return session;
  }

  // libsrtp copies the key during srtp_create; the buffer only has to outlive the call.
  std::array<unsigned char, 32> key{};
  std::memcpy(key.data(), master.data(), master.size());

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  set_crypto_policy(suite, policy);
  policy.ssrc.type = direction == Direction::inbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.key = key.data();
  // mediasoup's window: wide enough for the reordering a NACK-repaired video stream sees.
  policy.window_size = 1024;
  // A retransmission reuses the original sequence number and payload, so protecting it
  // again yields the same keystream on the same data, which is safe.
  policy.allow_repeat_tx = direction == Direction::outbound ? 1 : 0;
  policy.next = nullptr;

  std::unique_ptr<SrtpSession> session(new SrtpSession(suite, direction));
  srtp_t ctx = nullptr;
  const srtp_err_status_t st = srtp_create(&ctx, &policy);
  std::memset(key.data(), 0, key.size());
  if (st != srtp_err_status_ok) {
    if (ctx) srtp_dealloc(ctx);
    return fail("srtp_create failed with status " + std::to_string(static_cast<int>(st)));
  }
  session->session_ = ctx;
  return session;
}

SrtpSession::SrtpSession(SrtpSuite s, Direction d) : suite_(s), direction_(d) {}

// One packet on its own: AES-GCM on ipsec-mb costs a third of OpenSSL's. AES-CM stays on
// OpenSSL: a lone job leaves 15 of ipsec-mb's 16 SHA-1 lanes idle and costs twice as much.
bool SrtpSession::single_on_mb() const {
  return suite_ == SrtpSuite::aead_aes_128_gcm && fast_ && fast_->has_mb_keys() &&
         srtp_batch_mode() == SrtpBatchMode::ipsec_mb;
}

SrtpSession::~SrtpSession() {
  if (session_) srtp_dealloc(static_cast<srtp_t>(session_));
}

void SrtpSession::reserve_streams(size_t n) {
  if (fast_) fast_->reserve_streams(n);
}

SrtpStatus SrtpSession::protect_rtp(uint8_t* packet, size_t& len, size_t capacity) {
  if (direction_ != Direction::outbound) return SrtpStatus::other;
  if (len < 12 || len > kMaxPacket) return SrtpStatus::bad_packet;
  if (len + info(suite_).rtp_trailer > capacity) return SrtpStatus::no_space;
  if (single_on_mb()) {
    SrtpMbJob job;
    const SrtpStatus st = fast_->prepare_protect_rtp(packet, len, capacity, job);
    if (st != SrtpStatus::ok) return st;
    srtp_mb_protect_rtp(std::span(&job, 1));
    if (!job.ok) return SrtpStatus::other;
    len += job.tag_len;
    return SrtpStatus::ok;
  }
  if (fast_) return fast_->protect_rtp(packet, len, capacity);
  int n = static_cast<int>(len);
  const srtp_err_status_t st = srtp_protect(static_cast<srtp_t>(session_), packet, &n);
  if (st != srtp_err_status_ok) return map_status(st);
  len = static_cast<size_t>(n);
  return SrtpStatus::ok;
}

SrtpStatus SrtpSession::unprotect_rtp(uint8_t* packet, size_t& len) {
  if (direction_ != Direction::inbound) return SrtpStatus::other;
  if (len < 12 + info(suite_).rtp_trailer || len > kMaxPacket) return SrtpStatus::bad_packet;
  if (single_on_mb()) {
    SrtpMbJob job;
    uint64_t index = 0;
    const SrtpStatus st = fast_->prepare_unprotect_rtp(packet, len, job, index);
    if (st != SrtpStatus::ok) return st;
    if (!srtp_mb_unprotect_rtp_gcm(job)) return SrtpStatus::auth_failed;
    fast_->finish_unprotect_rtp(wire::load_be32(packet + 8), index);
    len = job.len;
    return SrtpStatus::ok;
  }
  if (fast_) return fast_->unprotect_rtp(packet, len);
  int n = static_cast<int>(len);
  const srtp_err_status_t st = srtp_unprotect(static_cast<srtp_t>(session_), packet, &n);
  if (st != srtp_err_status_ok) return map_status(st);
  len = static_cast<size_t>(n);
  return SrtpStatus::ok;
}

SrtpStatus SrtpSession::protect_rtcp(uint8_t* packet, size_t& len, size_t capacity) {
  if (direction_ != Direction::outbound) return SrtpStatus::other;
  if (len < 8 || len > kMaxPacket) return SrtpStatus::bad_packet;
  if (len + info(suite_).rtcp_trailer > capacity) return SrtpStatus::no_space;
  if (fast_) return fast_->protect_rtcp(packet, len, capacity);
  int n = static_cast<int>(len);
  const srtp_err_status_t st = srtp_protect_rtcp(static_cast<srtp_t>(session_), packet, &n);
  if (st != srtp_err_status_ok) return map_status(st);
  len = static_cast<size_t>(n);
  return SrtpStatus::ok;
}

SrtpStatus SrtpSession::unprotect_rtcp(uint8_t* packet, size_t& len) {
  if (direction_ != Direction::inbound) return SrtpStatus::other;
  if (len < 8 + info(suite_).rtcp_trailer || len > kMaxPacket) return SrtpStatus::bad_packet;
  if (fast_) return fast_->unprotect_rtcp(packet, len);
  int n = static_cast<int>(len);
  const srtp_err_status_t st = srtp_unprotect_rtcp(static_cast<srtp_t>(session_), packet, &n);
  if (st != srtp_err_status_ok) return map_status(st);
  len = static_cast<size_t>(n);
  return SrtpStatus::ok;
}

SrtpBatchMode srtp_batch_mode() {
  static const SrtpBatchMode mode = [] {
    const char* env = std::getenv("WEIR_SRTP_BATCH");
    return env != nullptr && std::string_view(env) == "loop" ? SrtpBatchMode::loop
                                                             : SrtpBatchMode::ipsec_mb;
  }();
  return mode == SrtpBatchMode::ipsec_mb && srtp_mb_available() ? mode : SrtpBatchMode::loop;
}

const char* srtp_batch_mode_name(SrtpBatchMode mode) {
  return mode == SrtpBatchMode::ipsec_mb ? "ipsec-mb" : "loop";
}

void SrtpSession::prefetch(int stage) const {
  if (fast_) fast_->prefetch(stage);
}

bool SrtpSession::prepare_batched_protect(SrtpProtectRequest& r, SrtpMbJob& job) {
  if (!fast_ || !fast_->has_mb_keys()) {
    size_t len = r.len;
    r.status = protect_rtp(r.packet, len, r.capacity);
    if (r.status == SrtpStatus::ok) r.len = len;
    return false;
  }
  // protect_rtp's checks, in its order.
  if (direction_ != Direction::outbound) {
    r.status = SrtpStatus::other;
  } else if (r.len < 12 || r.len > kMaxPacket) {
    r.status = SrtpStatus::bad_packet;
  } else if (r.len + info(suite_).rtp_trailer > r.capacity) {
    r.status = SrtpStatus::no_space;
  } else {
    r.status = fast_->prepare_protect_rtp(r.packet, r.len, r.capacity, job);
  }
  return r.status == SrtpStatus::ok;
}

void srtp_protect_rtp_batch(std::span<SrtpProtectRequest> requests) {
  if (srtp_batch_mode() == SrtpBatchMode::loop) {
    for (SrtpProtectRequest& r : requests) {
      size_t len = r.len;
      r.status = r.session->protect_rtp(r.packet, len, r.capacity);
      if (r.status == SrtpStatus::ok) r.len = len;
    }
    return;
  }
  // Chunks bound the stack; 64 keeps ipsec-mb's 16 SHA-1 lanes full. Every chunk's header
  // work is done before its cryptography, and a later chunk's after, so the per-SSRC state
  // sees the requests in order.
  constexpr size_t kChunk = 64;
  std::array<SrtpMbJob, kChunk> jobs;
  std::array<SrtpProtectRequest*, kChunk> owners;
  size_t next = 0;
  while (next < requests.size()) {
    size_t n = 0;
    for (; next < requests.size() && n < kChunk; ++next) {
      // The session, then its state, then what that points to, each a few requests ahead:
      // at thousands of consumers these are cache misses that would otherwise queue.
      if (next + 6 < requests.size()) __builtin_prefetch(requests[next + 6].session);
      if (next + 4 < requests.size()) requests[next + 4].session->prefetch(0);
      if (next + 2 < requests.size()) requests[next + 2].session->prefetch(1);
      SrtpProtectRequest& r = requests[next];
      if (r.session->prepare_batched_protect(r, jobs[n])) owners[n++] = &r;
    }
    srtp_mb_protect_rtp(std::span(jobs.data(), n));
    for (size_t i = 0; i < n; ++i) {
      SrtpProtectRequest& r = *owners[i];
      if (jobs[i].ok) {
        r.len += jobs[i].tag_len;
      } else {
        r.status = SrtpStatus::other;
      }
    }
  }
}

double measure_protect_ns(SrtpSuite suite, size_t payload_size, uint32_t iterations) {
  constexpr size_t kHeader = 12;
  constexpr int kBatches = 5;
  if (iterations == 0 || payload_size > kMaxPacket - kHeader - SrtpSession::kMaxTrailer) {
    return -1.0;
  }
  std::vector<uint8_t> master(srtp_master_length(suite));
  for (size_t i = 0; i < master.size(); ++i) master[i] = static_cast<uint8_t>(0x10 + i);
  auto session = SrtpSession::create(suite, SrtpSession::Direction::outbound, master, nullptr);
  if (!session) return -1.0;

  // What a forwarder does per packet: copy the plaintext into a TX buffer, then protect.
  std::vector<uint8_t> plain(kHeader + payload_size, 0xab);
  plain[0] = 0x80;
  plain[1] = 96;
  plain[8] = 0x11, plain[9] = 0x22, plain[10] = 0x33, plain[11] = 0x44;
  std::vector<uint8_t> buf(plain.size() + SrtpSession::kMaxTrailer);
  uint16_t seq = 0;
  std::array<double, kBatches> per_packet{};
  for (double& result : per_packet) {
    const uint64_t start = now_ns();
    for (uint32_t i = 0; i < iterations; ++i) {
      std::memcpy(buf.data(), plain.data(), plain.size());
      buf[2] = static_cast<uint8_t>(seq >> 8);
      buf[3] = static_cast<uint8_t>(seq);
      ++seq;
      size_t len = plain.size();
      if (session->protect_rtp(buf.data(), len, buf.size()) != SrtpStatus::ok) return -1.0;
    }
    result = static_cast<double>(now_ns() - start) / iterations;
  }
  std::sort(per_packet.begin(), per_packet.end());
  return per_packet[kBatches / 2];
}

}  // namespace weir::dp
