#include "webrtc_endpoint.h"

#include <algorithm>
#include <cstring>

#include "srtp_keys.h"

namespace weir::pktgen {
namespace {

// Checks are retransmitted from 200 ms, doubling to 1.6 s: quick on loopback, and gentle
// on a weir whose control thread is busy with a thousand handshakes at once.
constexpr uint32_t kInitialRtoMs = 200;
constexpr uint32_t kMaxRtoMs = 1600;

uint64_t random_u64() {
  uint64_t v = 0;
  for (uint8_t b : random_bytes(8)) v = (v << 8) | b;
  return v;
}

}  // namespace

const char* endpoint_state_name(WebRtcEndpoint::State state) {
  switch (state) {
    case WebRtcEndpoint::State::idle:
      return "idle";
    case WebRtcEndpoint::State::checking:
      return "checking";
    case WebRtcEndpoint::State::handshaking:
      return "handshaking";
    case WebRtcEndpoint::State::connected:
      return "connected";
    case WebRtcEndpoint::State::failed:
      return "failed";
  }
  return "?";
}

namespace {

dp::DtlsOptions dtls_options(const WebRtcEndpointConfig& config) {
  dp::DtlsOptions o;
  if (!config.srtp_suites.empty()) o.srtp_suites = config.srtp_suites;
  return o;
}

}  // namespace

WebRtcEndpoint::WebRtcEndpoint(WebRtcEndpointConfig config, Owner& owner)
    : config_(std::move(config)),
      owner_(owner),
      dtls_(config_.certificate, *this, dtls_options(config_)),
      local_(random_ice_credentials()),
      tiebreaker_(random_u64()) {}

WebRtcEndpoint::~WebRtcEndpoint() = default;

void WebRtcEndpoint::start(uint64_t now_ms) {
  if (state_ != State::idle) return;
  state_ = State::checking;
  started_ms_ = now_ms;
  send_check(/*use_candidate=*/true, now_ms);
}

void WebRtcEndpoint::send_check(bool use_candidate, uint64_t now_ms) {
  Transaction t;
  const auto id = random_bytes(t.id.size());
  std::copy(id.begin(), id.end(), t.id.begin());
  IceCheckRequest request;
  request.remote_ufrag = config_.remote.ufrag;
  request.local_ufrag = local_.ufrag;
  request.remote_password = config_.remote.password;
  request.tiebreaker = tiebreaker_;
  request.use_candidate = use_candidate;
  t.len = write_ice_check(request, t.id, t.bytes.data(), t.bytes.size());
  if (t.len == 0) {
    fail("ICE check does not fit " + std::to_string(t.bytes.size()) + " bytes");
    return;
  }
  t.password = config_.remote.password;
  t.generation = generation_;
  t.rto_ms = kInitialRtoMs;
  t.next_send_ms = now_ms + t.rto_ms;
  pending_ = std::move(t);
  ++stats_.checks_sent;
  if (!silent_) owner_.send_datagram(pending_->bytes.data(), pending_->len);
}

void WebRtcEndpoint::schedule_consent(uint64_t now_ms) {
  // RFC 7675 5.1: randomized so that many endpoints started together do not stay in step.
  const double factor = 0.8 + 0.4 * (static_cast<double>(random_u32()) / 4294967296.0);
  next_consent_ms_ = now_ms + static_cast<uint64_t>(config_.consent_interval_ms * factor);
}

void WebRtcEndpoint::on_datagram(DatagramKind kind, const uint8_t* data, size_t len,
                                 uint64_t now_ms) {
  if (silent_) {
    ++stats_.ignored;
    return;
  }
  if (kind == DatagramKind::stun) {
    on_stun(data, len, now_ms);
  } else if (kind == DatagramKind::dtls && state_ != State::failed) {
    // Before start() a DtlsTransport keeps what arrives: weir as DTLS client may send its
    // ClientHello right behind the answer to the first check.
    dtls_.on_packet(data, len, now_ms);
  }
}

void WebRtcEndpoint::on_stun(const uint8_t* data, size_t len, uint64_t now_ms) {
  wire::StunMessageView message;
  if (!wire::StunMessageView::parse(data, len, message) || !pending_) {
    // Unparseable, or the late answer to a check already given up on.
    ++stats_.rejected;
    return;
  }
  const IceResponseCheck check =
      check_ice_response(message, pending_->id, pending_->password, config_.local);
  switch (check.verdict) {
    case IceResponseVerdict::success: {
      const Transaction answered = std::move(*pending_);
      pending_.reset();
      on_check_success(answered, now_ms);
      return;
    }
    case IceResponseVerdict::error_response:
      // The check stays open: its retransmissions back off, and the error is on record.
      ++stats_.error_responses;
      stats_.last_error_code = check.error_code;
      return;
    default:
      ++stats_.rejected;
      return;
  }
}

void WebRtcEndpoint::on_check_success(const Transaction& t, uint64_t now_ms) {
  ++stats_.successes;
  if (restart_pending_ && t.generation == generation_) {
    restart_pending_ = false;
    ++stats_.restarts_completed;
  }
  schedule_consent(now_ms);
  if (state_ != State::checking) return;
  state_ = State::handshaking;
  std::string error;
  if (!dtls_.start(config_.dtls_role, config_.remote_fingerprints, now_ms, &error)) {
    fail("DTLS cannot start: " + error);
    return;
  }
  dtls_started_ = true;
}

uint64_t WebRtcEndpoint::next_due_ms() const {
  if (silent_ || state_ == State::idle || state_ == State::failed) return kNever;
  uint64_t due = next_consent_ms_;
  if (pending_) due = std::min(due, pending_->next_send_ms);
  if (state_ == State::checking) due = std::min(due, started_ms_ + config_.ice_timeout_ms);
  if (dtls_started_) {
    if (const auto t = dtls_.next_timeout_ms()) due = std::min(due, *t);
  }
  return due;
}

void WebRtcEndpoint::on_timer(uint64_t now_ms) {
  if (silent_ || state_ == State::idle || state_ == State::failed) return;
  if (state_ == State::checking && now_ms - started_ms_ >= config_.ice_timeout_ms) {
    fail("no ICE check answered in " + std::to_string(config_.ice_timeout_ms) + " ms (" +
         std::to_string(stats_.error_responses) + " error responses, last " +
         std::to_string(stats_.last_error_code) + ")");
    return;
  }
  if (now_ms >= next_consent_ms_) {
    // A consent check still unanswered is given up for a fresh one.
    send_check(/*use_candidate=*/restart_pending_, now_ms);
    schedule_consent(now_ms);
  } else if (pending_ && now_ms >= pending_->next_send_ms) {
    pending_->rto_ms = std::min(pending_->rto_ms * 2, kMaxRtoMs);
    pending_->next_send_ms = now_ms + pending_->rto_ms;
    ++stats_.retransmissions;
    owner_.send_datagram(pending_->bytes.data(), pending_->len);
  }
  if (dtls_started_ && state_ != State::failed) {
    const auto t = dtls_.next_timeout_ms();
    if (t && *t <= now_ms) dtls_.on_timeout(now_ms);
  }
}

void WebRtcEndpoint::restart_ice(IceCredentials remote, uint64_t now_ms) {
  if (state_ == State::idle || state_ == State::failed) return;
  config_.remote = std::move(remote);
  local_ = random_ice_credentials();
  ++generation_;
  restart_pending_ = true;
  send_check(/*use_candidate=*/true, now_ms);
  schedule_consent(now_ms);
}

void WebRtcEndpoint::fail(std::string reason) {
  if (state_ == State::failed) return;
  state_ = State::failed;
  failure_ = std::move(reason);
  pending_.reset();
  next_consent_ms_ = kNever;
}

void WebRtcEndpoint::on_dtls_send(const uint8_t* data, size_t len) {
  if (!silent_) owner_.send_datagram(data, len);
}

void WebRtcEndpoint::on_dtls_connected(const dp::DtlsSrtpKeys& keys) {
  state_ = State::connected;
  owner_.on_srtp_keys(keys);
}

void WebRtcEndpoint::on_dtls_failed(const std::string& reason) { fail("DTLS: " + reason); }

// weir closes DTLS only when its transport goes away, i.e. at teardown: nothing to do.
void WebRtcEndpoint::on_dtls_closed() {}

}  // namespace weir::pktgen
