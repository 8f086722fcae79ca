// What --transport webrtc adds to the fanout run, in the order the run needs it: pktgen's
// certificate and the connect parameters of every transport; the endpoints (the producer's
// goes to the sender's thread, the consumers' stay with the receiver); the setup phase,
// where every handshake runs at once in one loop; the service of timers and receiver
// reports between polls; the window's scripted impairments (silence, ICE restarts); and
// the per-consumer outcome for the report.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api_client.h"
#include "consumer_roles.h"
#include "dataplane/dtls_transport.h"
#include "fanout_scenario.h"
#include "options.h"
#include "receiver.h"
#include "sender.h"
#include "webrtc_consumers.h"

namespace weir::pktgen {

class WebRtcRun {
 public:
  // Generates the process's DTLS certificate. nullptr with *error if OpenSSL refuses.
  static std::unique_ptr<WebRtcRun> create(const Options& options, std::string* error);

  // Roles and fingerprints of every connect (spec.room must be set).
  void fill_spec(FanoutSpec& spec);
  // The producer's endpoint, for the sender's thread.
  WebRtcEndpointConfig producer_endpoint(const FanoutPlan& plan) const;
  // The consumers' endpoints on the receiver's sockets; unmeasured consumers marked.
  bool attach(Receiver& receiver, const FanoutPlan& plan, std::string* error);

  // Runs every ICE check and DTLS handshake (producer on its thread, consumers here) until
  // each has connected or failed. False with *error if one came out other than intended:
  // a consumer with the real fingerprint failed, or one with a wrong one connected.
  bool connect(Receiver& receiver, const Sender& sender, bool progress, std::string* error);

  // How long the next receiver poll may wait: no longer than max_us or the next timer.
  uint32_t poll_timeout_us(uint32_t max_us) const;
  // Timers and receiver reports; call after every poll.
  void service(Receiver& receiver);
  // The scripted events of the window, t_s seconds into it.
  void window_events(double t_s, ApiClient& api, const FanoutPlan& plan, Sender& sender);
  // After the window: false with *error if an ICE restart asked for never completed.
  bool check_restarts(const Sender& sender, std::string* error) const;

  uint32_t measured_consumers() const;
  const std::vector<ConsumerRole>& roles() const { return roles_; }
  // Adds roles, endpoint states and per-consumer counts to a report (see run_report.h).
  void annotate_report(nlohmann::ordered_json& report, const Receiver& receiver,
                       const Sender& sender) const;
  // One stderr line: how the endpoints ended and which consumers received nothing.
  std::string summary(const Receiver& receiver, const Sender& sender) const;

 private:
  explicit WebRtcRun(const Options& options) : options_(options) {}
  bool restart(ApiClient& api, const std::string& base, const std::string& transport_id,
               IceCredentials& out, std::string* error);

  Options options_;
  std::shared_ptr<dp::DtlsCertificate> certificate_;
  dp::DtlsFingerprint fingerprint_;
  std::vector<ConsumerRole> roles_;
  std::unique_ptr<WebRtcConsumers> consumers_;
  std::string room_;
  // The window's script and what came of it.
  bool silenced_ = false;
  bool restart_requested_ = false;
  double silenced_at_s_ = -1;
  double restarted_at_s_ = -1;
  std::optional<uint32_t> restart_consumer_;
  bool restart_producer_ = false;
  std::string restart_error_;
};

}  // namespace weir::pktgen
