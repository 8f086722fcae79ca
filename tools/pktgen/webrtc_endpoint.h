// One WebRTC client endpoint of pktgen (one per socket): a controlling ICE agent toward
// weir's ICE-lite server (aggressive nomination, then consent checks, RFC 8445 and 7675),
// then DTLS-SRTP over dp::DtlsTransport once a check succeeded. No sockets, threads or
// clocks of its own: the owner feeds it the STUN and DTLS datagrams of its socket, calls
// on_timer when next_due_ms() comes, and sends what it hands out. One thread per endpoint.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datagram_demux.h"
#include "dataplane/dtls_transport.h"
#include "dataplane/socket_address.h"
#include "ice_check.h"
#include "wire/stun_message.h"

namespace weir::pktgen {

struct WebRtcEndpointConfig {
  IceCredentials remote;                                 // weir's iceParameters
  dp::DtlsRole dtls_role = dp::DtlsRole::client;         // pktgen's own role
  std::vector<dp::DtlsFingerprint> remote_fingerprints;  // weir's dtlsParameters
  std::shared_ptr<const dp::DtlsCertificate> certificate;
  std::vector<dp::SrtpSuite> srtp_suites;  // use_srtp: the one suite pktgen measures
  dp::SocketAddress local;                 // this socket, to check XOR-MAPPED-ADDRESS by
  uint32_t consent_interval_ms = 3000;     // randomized to 0.8-1.2 x (RFC 7675 5.1)
  uint32_t ice_timeout_ms = 15000;         // no answered check by then: failed
};

struct WebRtcEndpointStats {
  uint64_t checks_sent = 0;  // transactions started
  uint64_t retransmissions = 0;
  uint64_t successes = 0;
  uint64_t error_responses = 0;
  uint64_t rejected = 0;  // STUN that failed validation or answered no open check
  uint64_t ignored = 0;   // datagrams dropped while silent
  uint32_t restarts_completed = 0;
  uint16_t last_error_code = 0;
};

class WebRtcEndpoint final : private dp::DtlsTransport::Listener {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // One datagram to weir's candidate (valid only during the call).
    virtual void send_datagram(const uint8_t* data, size_t len) = 0;
    // DTLS-SRTP is up: local protects what pktgen sends, remote unprotects what it gets.
    virtual void on_srtp_keys(const dp::DtlsSrtpKeys& keys) = 0;
  };
  enum class State : uint8_t { idle, checking, handshaking, connected, failed };
  static constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

  WebRtcEndpoint(WebRtcEndpointConfig config, Owner& owner);
  ~WebRtcEndpoint() override;
  WebRtcEndpoint(const WebRtcEndpoint&) = delete;
  WebRtcEndpoint& operator=(const WebRtcEndpoint&) = delete;

  // Sends the first check.
  void start(uint64_t now_ms);
  // A STUN or DTLS datagram from weir (other kinds are the owner's).
  void on_datagram(DatagramKind kind, const uint8_t* data, size_t len, uint64_t now_ms);
  uint64_t next_due_ms() const;  // kNever when nothing is scheduled
  void on_timer(uint64_t now_ms);

  // weir's restartIce answer: new remote credentials (and new own ones, as a browser's ICE
  // restart has). Checks switch at once; media is the owner's and keeps flowing.
  void restart_ice(IceCredentials remote, uint64_t now_ms);
  // Silent: sends nothing (no checks, no DTLS) and drops everything it is given, as a peer
  // that vanished without a goodbye would.
  void set_silent(bool silent) { silent_ = silent; }
  bool silent() const { return silent_; }

  State state() const { return state_; }
  bool settled() const { return state_ == State::connected || state_ == State::failed; }
  dp::DtlsState dtls_state() const { return dtls_.state(); }
  bool restart_pending() const { return restart_pending_; }
  const std::string& failure() const { return failure_; }
  const WebRtcEndpointStats& stats() const { return stats_; }
  const IceCredentials& local_credentials() const { return local_; }
  uint64_t tiebreaker() const { return tiebreaker_; }

 private:
  struct Transaction {
    wire::StunTransactionId id{};
    std::array<uint8_t, kMaxIceCheckSize> bytes{};
    size_t len = 0;
    std::string password;  // the remote password it was made with
    uint32_t generation = 0;
    uint64_t next_send_ms = 0;
    uint32_t rto_ms = 0;
  };

  void send_check(bool use_candidate, uint64_t now_ms);
  void on_stun(const uint8_t* data, size_t len, uint64_t now_ms);
  void on_check_success(const Transaction& t, uint64_t now_ms);
  void schedule_consent(uint64_t now_ms);
  void fail(std::string reason);

  // dp::DtlsTransport::Listener
  void on_dtls_send(const uint8_t* data, size_t len) override;
  void on_dtls_connected(const dp::DtlsSrtpKeys& keys) override;
  void on_dtls_failed(const std::string& reason) override;
  void on_dtls_closed() override;

  WebRtcEndpointConfig config_;
  Owner& owner_;
  dp::DtlsTransport dtls_;
  IceCredentials local_;
  uint64_t tiebreaker_;
  State state_ = State::idle;
  bool silent_ = false;
  bool dtls_started_ = false;
  bool restart_pending_ = false;
  uint32_t generation_ = 0;  // bumped by every ICE restart
  uint64_t started_ms_ = 0;
  uint64_t next_consent_ms_ = kNever;
  std::optional<Transaction> pending_;
  std::string failure_;
  WebRtcEndpointStats stats_;
};

const char* endpoint_state_name(WebRtcEndpoint::State state);

}  // namespace weir::pktgen
