// The TLS server context of the HTTPS/WSS port. Certificate and key come from PEM files
// when configured; otherwise a self-signed ECDSA P-256 certificate for localhost and
// 127.0.0.1 is generated on the first run and kept in the state directory, so that a
// browser's "accept this certificate" survives restarts. An expired or unreadable saved
// pair is replaced.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace weir::signaling {

struct TlsOptions {
  std::string certificate_file;  // PEM (may hold a chain); empty: use the state directory
  std::string private_key_file;  // PEM, unencrypted
  std::string state_dir;         // where the generated pair lives; empty: in memory only
};

struct TlsSetup {
  std::shared_ptr<boost::asio::ssl::context> context;
  std::string description;         // "from FILE", "generated, saved in DIR", ...
  std::string fingerprint_sha256;  // of the leaf certificate, colon-separated hex
};

// nullptr context with *error when the configured files cannot be used. A state directory
// that cannot be written is not an error: the certificate is then used without being kept
// (description says so).
TlsSetup make_tls_setup(const TlsOptions& options, std::string* error);

// The default state directory: $XDG_STATE_HOME/weir, else $HOME/.local/state/weir, else "".
std::string default_state_dir();

// File names of the generated pair inside the state directory.
inline constexpr const char* kGeneratedCertificateName = "tls-certificate.pem";
inline constexpr const char* kGeneratedPrivateKeyName = "tls-private-key.pem";

}  // namespace weir::signaling
