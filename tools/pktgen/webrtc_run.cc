#include "webrtc_run.h"

#include <algorithm>
#include <cstdio>

#include "base/clock.h"
#include "webrtc_signaling.h"

namespace weir::pktgen {
namespace {

using ojson = nlohmann::ordered_json;

constexpr uint64_t kMsNs = 1000000ull;
constexpr uint64_t kSecondNs = 1000 * kMsNs;
// Every handshake of the setup runs at once; on a loaded 2-core host a thousand of them
// take seconds, a failure shows within DTLS's own 30 s timeout.
constexpr uint64_t kSetupTimeoutNs = 45 * kSecondNs;

uint64_t now_ms() { return now_ns() / kMsNs; }

std::string join(const std::vector<uint32_t>& v) {
  std::string out;
  for (uint32_t i : v) out += (out.empty() ? "" : ",") + std::to_string(i);
  return out.empty() ? "none" : out;
}

const char* link_name(Sender::Link link) {
  switch (link) {
    case Sender::Link::connecting:
      return "connecting";
    case Sender::Link::up:
      return "up";
    case Sender::Link::failed:
      return "failed";
  }
  return "?";
}

}  // namespace

std::unique_ptr<WebRtcRun> WebRtcRun::create(const Options& options, std::string* error) {
  std::unique_ptr<WebRtcRun> w(new WebRtcRun(options));
  w->certificate_ = dp::DtlsCertificate::generate(error);
  if (!w->certificate_) return nullptr;
  w->fingerprint_ = sha256_fingerprint(*w->certificate_);
  w->roles_ = assign_consumer_roles(options.consumers, options.bad_fingerprint_consumers,
                                    options.silent_consumers);
  return w;
}

void WebRtcRun::fill_spec(FanoutSpec& spec) {
  room_ = spec.room;
  spec.transport = "webrtc";
  spec.producer_connect = {producer_dtls_role(options_.dtls_role), fingerprint_};
  spec.consumer_connects.clear();
  for (uint32_t i = 0; i < roles_.size(); ++i) {
    const bool bad = roles_[i] == ConsumerRole::bad_fingerprint;
    spec.consumer_connects.push_back({consumer_dtls_role(options_.dtls_role, i),
                                      bad ? wrong_fingerprint(fingerprint_) : fingerprint_});
  }
}

namespace {

WebRtcEndpointConfig endpoint_config(const Options& o, const WebRtcRemote& remote,
                                     dp::DtlsRole role,
                                     std::shared_ptr<const dp::DtlsCertificate> certificate) {
  WebRtcEndpointConfig c;
  c.remote = remote.ice;
  c.dtls_role = role;
  c.remote_fingerprints = remote.fingerprints;
  c.certificate = std::move(certificate);
  // The one suite the run measures: offered alone (as client) or accepted alone (server).
  if (const auto suite = dp::srtp_suite_from_name(o.suite)) c.srtp_suites = {*suite};
  c.consent_interval_ms = static_cast<uint32_t>(o.consent_interval_s * 1000);
  return c;
}

}  // namespace

WebRtcEndpointConfig WebRtcRun::producer_endpoint(const FanoutPlan& plan) const {
  return endpoint_config(options_, plan.producer_webrtc, producer_dtls_role(options_.dtls_role),
                         certificate_);
}

bool WebRtcRun::attach(Receiver& receiver, const FanoutPlan& plan, std::string* error) {
  consumers_ = std::make_unique<WebRtcConsumers>(receiver);
  std::vector<dp::SocketAddress> remotes;
  for (const ConsumerInfo& c : plan.consumers) remotes.push_back(c.webrtc.candidate);
  if (!receiver.attach_webrtc(plan.consumers, remotes, options_.verify_sample, *consumers_,
                              error)) {
    return false;
  }
  receiver.set_report_interval(static_cast<uint64_t>(options_.rtcp_interval_s * 1e9));
  for (uint32_t i = 0; i < plan.consumers.size(); ++i) {
    WebRtcEndpointConfig c =
        endpoint_config(options_, plan.consumers[i].webrtc,
                        consumer_dtls_role(options_.dtls_role, i), certificate_);
    c.local = *dp::SocketAddress::parse(options_.local_ip, receiver.ports()[i]);
    consumers_->add(std::move(c));
    receiver.set_measured(i, roles_[i] == ConsumerRole::measured);
  }
  return true;
}

uint32_t WebRtcRun::poll_timeout_us(uint32_t max_us) const {
  const uint64_t due = consumers_->next_due_ms();
  if (due == WebRtcEndpoint::kNever) return max_us;
  const uint64_t due_ns = due * kMsNs;
  const uint64_t now = now_ns();
  if (due_ns <= now) return 0;
  return static_cast<uint32_t>(std::min<uint64_t>((due_ns - now) / 1000 + 1, max_us));
}

void WebRtcRun::service(Receiver& receiver) {
  const uint64_t now = now_ns();
  consumers_->run_timers(now / kMsNs);
  receiver.send_due_reports(now);
}

bool WebRtcRun::connect(Receiver& receiver, const Sender& sender, bool progress,
                        std::string* error) {
  const uint64_t start = now_ns();
  uint64_t next_line = start + kSecondNs;
  for (;;) {
    service(receiver);
    if (consumers_->all_settled() && sender.link() != Sender::Link::connecting) break;
    const uint64_t now = now_ns();
    if (now - start >= kSetupTimeoutNs) {
      uint32_t pending = 0;
      std::string first;
      for (uint32_t i = 0; i < consumers_->size(); ++i) {
        if (consumers_->endpoint(i).settled()) continue;
        if (pending++ == 0) {
          first = "consumer " + std::to_string(i) + " " +
                  endpoint_state_name(consumers_->endpoint(i).state());
        }
      }
      *error = "WebRTC setup not done after " + std::to_string(kSetupTimeoutNs / kSecondNs) +
               " s: producer " + link_name(sender.link()) + ", " + std::to_string(pending) +
               " consumers pending (" + (first.empty() ? "none" : first) + ")";
      return false;
    }
    if (progress && now >= next_line) {
      next_line += kSecondNs;
      uint32_t connected = 0, failed = 0;
      for (uint32_t i = 0; i < consumers_->size(); ++i) {
        const auto st = consumers_->endpoint(i).state();
        connected += st == WebRtcEndpoint::State::connected;
        failed += st == WebRtcEndpoint::State::failed;
      }
      std::fprintf(stderr,
                   "pktgen: webrtc setup: producer %s, %u/%zu consumers connected, %u failed\n",
                   link_name(sender.link()), connected, consumers_->size(), failed);
    }
    receiver.poll(poll_timeout_us(10000));
  }
  if (sender.link() == Sender::Link::failed) {
    *error = "producer transport: " + sender.failure();
    return false;
  }
  for (uint32_t i = 0; i < consumers_->size(); ++i) {
    const WebRtcEndpoint& e = consumers_->endpoint(i);
    const bool connected = e.state() == WebRtcEndpoint::State::connected;
    if (roles_[i] == ConsumerRole::bad_fingerprint) {
      if (connected) {
        *error = "consumer " + std::to_string(i) +
                 " completed DTLS although its connect carried a wrong fingerprint";
        return false;
      }
      continue;
    }
    if (!connected) {
      *error = "consumer " + std::to_string(i) + ": " + e.failure();
      return false;
    }
    if (!consumers_->key_error(i).empty()) {
      *error = "consumer " + std::to_string(i) + ": SRTP from DTLS: " + consumers_->key_error(i);
      return false;
    }
  }
  return true;
}

bool WebRtcRun::restart(ApiClient& api, const std::string& base, const std::string& transport_id,
                        IceCredentials& out, std::string* error) {
  const std::string target = base + "/transports/" + transport_id + "/restartIce";
  const ApiResponse r = api.request(ApiClient::Method::post, target, nullptr);
  if (!r.ok()) {
    *error = r.describe("POST " + target);
    return false;
  }
  return parse_ice_parameters(r.json, out, error);
}

void WebRtcRun::window_events(double t_s, ApiClient& api, const FanoutPlan& plan, Sender& sender) {
  if (options_.silent_consumers > 0 && !silenced_ && t_s >= options_.silence_at_s) {
    silenced_ = true;
    silenced_at_s_ = t_s;
    for (uint32_t i = 0; i < roles_.size(); ++i) {
      if (roles_[i] == ConsumerRole::silent) consumers_->set_silent(i, true);
    }
  }
  const double restart_at =
      options_.restart_ice_at_s >= 0 ? options_.restart_ice_at_s : options_.duration_s / 2;
  if (options_.restart_ice.empty() || restart_requested_ || t_s < restart_at) return;
  restart_requested_ = true;
  restarted_at_s_ = t_s;
  const std::string tx_base = "/rooms/" + room_ + "/broadcasters/" + plan.producer_broadcaster;
  const std::string rx_base = "/rooms/" + room_ + "/broadcasters/" + plan.consumer_broadcaster;
  IceCredentials fresh;
  if (options_.restart_ice != "consumer") {
    if (!restart(api, tx_base, plan.producer_transport_id, fresh, &restart_error_)) return;
    sender.restart_ice(fresh);
    restart_producer_ = true;
  }
  if (options_.restart_ice != "producer") {
    const auto it = std::find(roles_.begin(), roles_.end(), ConsumerRole::measured);
    const auto i = static_cast<uint32_t>(it - roles_.begin());
    if (!restart(api, rx_base, plan.consumers[i].transport_id, fresh, &restart_error_)) return;
    consumers_->restart_ice(i, fresh, now_ms());
    restart_consumer_ = i;
  }
}

bool WebRtcRun::check_restarts(const Sender& sender, std::string* error) const {
  if (!restart_error_.empty()) {
    *error = "ICE restart: " + restart_error_;
    return false;
  }
  if (restart_producer_ && sender.ice_restarts_completed() == 0) {
    *error = "the producer's ICE restart never got a check answered with the new credentials";
    return false;
  }
  if (restart_consumer_ &&
      consumers_->endpoint(*restart_consumer_).stats().restarts_completed == 0) {
    *error = "consumer " + std::to_string(*restart_consumer_) +
             "'s ICE restart never got a check answered with the new credentials";
    return false;
  }
  return true;
}

uint32_t WebRtcRun::measured_consumers() const {
  return static_cast<uint32_t>(std::count(roles_.begin(), roles_.end(), ConsumerRole::measured));
}

void WebRtcRun::annotate_report(ojson& report, const Receiver& receiver,
                                const Sender& sender) const {
  report["webrtc"] = {
      {"dtlsRole", options_.dtls_role},
      {"consentIntervalS", options_.consent_interval_s},
      {"fingerprint", fingerprint_.value},
      {"silencedAtS", silenced_ ? ojson(silenced_at_s_) : ojson(nullptr)},
      {"iceRestartAtS", restart_requested_ ? ojson(restarted_at_s_) : ojson(nullptr)},
      {"iceRestartError", restart_error_}};
  ojson& p = report["producer"];
  p["dtlsRole"] = dtls_role_name(producer_dtls_role(options_.dtls_role));
  p["link"] = link_name(sender.link());
  p["iceRestartRequested"] = restart_producer_;
  p["iceRestartsCompleted"] = sender.ice_restarts_completed();
  ojson& list = report["consumers"];
  for (uint32_t i = 0; i < roles_.size() && i < list.size(); ++i) {
    const WebRtcEndpoint& e = consumers_->endpoint(i);
    ojson& c = list[i];
    c["role"] = consumer_role_name(roles_[i]);
    c["dtlsRole"] = dtls_role_name(consumer_dtls_role(options_.dtls_role, i));
    c["endpointState"] = endpoint_state_name(e.state());
    c["dtlsState"] = dp::dtls_state_name(e.dtls_state());
    c["failure"] = e.failure();
    c["silent"] = e.silent();
    c["received"] = receiver.consumer_received(i);
    c["windowForwarded"] = receiver.consumer_window_forwarded(i);
    c["iceChecksSent"] = e.stats().checks_sent;
    c["iceSuccesses"] = e.stats().successes;
    c["iceRestartRequested"] = restart_consumer_ && *restart_consumer_ == i;
    c["iceRestartsCompleted"] = e.stats().restarts_completed;
  }
}

std::string WebRtcRun::summary(const Receiver& receiver, const Sender& sender) const {
  std::vector<uint32_t> nothing;
  uint32_t connected = 0, failed = 0;
  for (uint32_t i = 0; i < roles_.size(); ++i) {
    const auto st = consumers_->endpoint(i).state();
    connected += st == WebRtcEndpoint::State::connected;
    failed += st == WebRtcEndpoint::State::failed;
    if (receiver.consumer_received(i) == 0) nothing.push_back(i);
  }
  const auto& rs = receiver.stats();
  const WebRtcEndpointStats* ps = sender.webrtc_stats();
  char line[512];
  std::snprintf(line, sizeof line,
                "pktgen: webrtc: producer %s (ICE restarts %u, checks %llu); consumers "
                "connected=%u failed=%u; received nothing: %s | control=%llu beforeKeys=%llu "
                "ignored=%llu midMismatch=%llu reports=%llu reportFailures=%llu",
                link_name(sender.link()), sender.ice_restarts_completed(),
                static_cast<unsigned long long>(ps ? ps->checks_sent : 0), connected, failed,
                join(nothing).c_str(), static_cast<unsigned long long>(rs.control),
                static_cast<unsigned long long>(rs.before_keys),
                static_cast<unsigned long long>(rs.ignored),
                static_cast<unsigned long long>(rs.mid_mismatch),
                static_cast<unsigned long long>(rs.reports_sent),
                static_cast<unsigned long long>(rs.report_failures));
  return line;
}

}  // namespace weir::pktgen
