// DTLS 1.2 (RFC 6347) with the DTLS-SRTP extension (RFC 5764) on OpenSSL, over a custom
// BIO so that each record flight OpenSSL writes leaves as one datagram and each datagram
// that arrives is read as one. No sockets and no threads here: the owner feeds received
// datagrams in, sends what on_dtls_send hands out, and drives the retransmission timer.
//
// Who uses it: weir's control thread (one DtlsTransport per WebRtcTransport) and pktgen's
// WebRTC clients. It sits in the dataplane library, below control, only so that pktgen
// (which may not depend on control) shares it; no worker ever calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/srtp_session.h"

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct bio_st BIO;

namespace weir::dp {

// "sha-256" and "AF:12:...:9C" (uppercase hex pairs with colons), as signaled.
struct DtlsFingerprint {
  std::string algorithm;
  std::string value;
};

// The hash functions a fingerprint may use (signaling contract 5.3).
bool dtls_fingerprint_algorithm_supported(std::string_view algorithm);

// A certificate and its private key, shared by every DTLS transport of a process.
class DtlsCertificate {
 public:
  // A fresh self-signed ECDSA P-256 certificate (random serial and CN, valid from a day
  // ago for one year). nullptr with *error if OpenSSL refuses.
  static std::shared_ptr<DtlsCertificate> generate(std::string* error);
  // PEM certificate and PEM private key files (the key must match the certificate).
  static std::shared_ptr<DtlsCertificate> load(const std::string& certificate_path,
                                               const std::string& key_path, std::string* error);
  ~DtlsCertificate();
  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;

  // One fingerprint per supported algorithm: sha-1, sha-224, sha-384, sha-512 and last
  // sha-256, because mediasoup-client uses only the last entry.
  const std::vector<DtlsFingerprint>& fingerprints() const { return fingerprints_; }
  X509* x509() const { return x509_; }
  EVP_PKEY* private_key() const { return key_; }

 private:
  DtlsCertificate(X509* x509, EVP_PKEY* key);
  X509* x509_;
  EVP_PKEY* key_;
  std::vector<DtlsFingerprint> fingerprints_;
};

// The fingerprint of cert with algorithm ("sha-256", ...); empty if the algorithm is unknown.
std::string dtls_certificate_fingerprint(X509* cert, std::string_view algorithm);

enum class DtlsRole : uint8_t { client, server };
enum class DtlsState : uint8_t { fresh, connecting, connected, failed, closed };
const char* dtls_state_name(DtlsState state);  // "new", "connecting", "connected", ...

// What DTLS-SRTP negotiated: the suite, and the SRTP master key || master salt for each
// direction (srtp_master_length(suite) bytes), already assigned to this side.
struct DtlsSrtpKeys {
  SrtpSuite suite;
  std::vector<uint8_t> local;   // what this side protects (sends) with
  std::vector<uint8_t> remote;  // what this side unprotects (receives) with
};

// The default use_srtp preference: AEAD_AES_128_GCM, AES_CM_128_HMAC_SHA1_80, then _32.
// Out of line because GCC 12 at -O2 reports a false maybe-uninitialized (an -Werror build
// failure) for a braced-list default member initializer once DtlsOptions() is inlined.
std::vector<SrtpSuite> dtls_default_srtp_suites();

struct DtlsOptions {
  // use_srtp profiles offered (client) or accepted (server), in order of preference.
  std::vector<SrtpSuite> srtp_suites = dtls_default_srtp_suites();
  uint16_t mtu = 1200;                    // largest datagram handed to on_dtls_send
  uint32_t initial_retransmit_ms = 100;   // doubles per retransmission, capped at 4 s
  uint32_t handshake_timeout_ms = 30000;  // no handshake by then: failed
};

class DtlsTransport {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // One datagram to send to the peer (valid only during the call).
    virtual void on_dtls_send(const uint8_t* data, size_t len) = 0;
    // Handshake done and the peer's certificate matched the signaled fingerprint.
    virtual void on_dtls_connected(const DtlsSrtpKeys& keys) = 0;
    // Handshake error, timeout, no SRTP profile, or fingerprint mismatch (reason says).
    virtual void on_dtls_failed(const std::string& reason) = 0;
    // The peer sent close_notify (or the transport was closed locally).
    virtual void on_dtls_closed() = 0;
    // Application data records (SCTP, for DataChannels); ignored by default.
    virtual void on_dtls_application_data(const uint8_t* data, size_t len) {
      (void)data;
      (void)len;
    }
  };

  DtlsTransport(std::shared_ptr<const DtlsCertificate> certificate, Listener& listener,
                DtlsOptions options = {});
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // Starts the handshake (the client sends its ClientHello at once). remote: the peer's
  // signaled fingerprints; its certificate is checked against the first one whose
  // algorithm is supported. now_ms: a monotonic clock in milliseconds. false with *error
  // if already started or no fingerprint is usable.
  bool start(DtlsRole role, const std::vector<DtlsFingerprint>& remote, uint64_t now_ms,
             std::string* error);

  // A datagram from the peer (a server may get the ClientHello before start(): it is
  // kept and processed by start()).
  void on_packet(const uint8_t* data, size_t len, uint64_t now_ms);

  // When on_timeout must be called next (absolute, in now_ms's clock); nullopt if no
  // timer is armed (not started, or connected/failed/closed).
  std::optional<uint64_t> next_timeout_ms() const;
  // Retransmits the last flight if OpenSSL's timer expired; fails the handshake after
  // handshake_timeout_ms.
  void on_timeout(uint64_t now_ms);

  // Sends application data (SCTP) once connected; false otherwise.
  bool send_application_data(const uint8_t* data, size_t len);

  // Sends close_notify if connected and moves to closed (on_dtls_closed is not called
  // for a local close).
  void close();

  DtlsState state() const { return state_; }
  std::optional<DtlsRole> role() const { return role_; }

 private:
  void drive_handshake(uint64_t now_ms);
  void fail(const std::string& reason);
  void flush_outgoing();
  void read_application_data();
  bool verify_peer_fingerprint(std::string* reason);
  bool export_keys(DtlsSrtpKeys& keys, std::string* reason);
  bool setup_ssl(DtlsRole role, std::string* error);
  void complete_handshake();
  void note_time(uint64_t now_ms);

  std::shared_ptr<const DtlsCertificate> certificate_;
  Listener& listener_;
  DtlsOptions options_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* bio_ = nullptr;  // custom datagram BIO; owned by ssl_
  DtlsState state_ = DtlsState::fresh;
  std::optional<DtlsRole> role_;
  DtlsFingerprint remote_fingerprint_;
  uint64_t started_ms_ = 0;
  std::vector<std::vector<uint8_t>> early_packets_;  // ClientHello before start()
  // The caller's clock and OpenSSL's timer clock (wall time, microseconds) at the last call
  // in, so that next_timeout_ms can express OpenSSL's deadline in the caller's clock.
  uint64_t now_ms_ = 0;
  uint64_t now_wall_us_ = 0;
  const uint8_t* incoming_ = nullptr;  // the datagram the BIO hands to OpenSSL's next read
  size_t incoming_len_ = 0;
  std::vector<std::vector<uint8_t>> outgoing_;  // BIO writes (one datagram each) to flush
  std::string verify_failure_;                  // why the certificate callback rejected the peer

  friend struct DtlsBioAccess;
};

}  // namespace weir::dp
