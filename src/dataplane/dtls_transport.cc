#include "dataplane/dtls_transport.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

// Listener callbacks run after OpenSSL has returned (datagrams are collected by the BIO and
// flushed afterwards), but the transport still reads its own members after some of them;
// a listener must therefore not destroy the transport from inside a callback.

namespace weir::dp {

namespace {

template <auto Free>
struct OpensslDeleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using X509Ptr = std::unique_ptr<X509, OpensslDeleter<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslDeleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OpensslDeleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, OpensslDeleter<BN_free>>;

constexpr size_t kMaxEarlyPackets = 8;
constexpr size_t kDtlsRecordHeader = 13;  // type, version, epoch, sequence number, length
constexpr size_t kMaxEarlyPacketSize = 1 << 14;
constexpr uint32_t kMaxRetransmitMs = 4000;
// A full DTLS record plus room for a peer that packs a few records into one datagram.
constexpr size_t kReadBufferSize = 1 << 14;
constexpr int kSrtpKeyLength = 16;
constexpr int kCmSaltLength = 14;
constexpr int kGcmSaltLength = 12;  // RFC 7714 12
constexpr char kExporterLabel[] = "EXTRACTOR-dtls_srtp";

// ECDHE only (forward secrecy), AEAD first; the SHA-1 CBC suites stay for older stacks that
// still offer nothing else over DTLS. RSA suites cover a certificate loaded from files.
constexpr char kCipherList[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:"
    "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";
// What browsers offer; naming them is the OpenSSL 3 form of "ECDH auto" (always on since
// 1.1.0, SSL_CTX_set_ecdh_auto is a no-op macro).
constexpr char kGroups[] = "X25519:P-256:P-384";

struct FingerprintAlgorithm {
  const char* name;
  const EVP_MD* (*md)();
};
// Order is the order of DtlsCertificate::fingerprints(): sha-256 last (signaling 5.3).
constexpr std::array<FingerprintAlgorithm, 5> kFingerprintAlgorithms{{
    {"sha-1", EVP_sha1},
    {"sha-224", EVP_sha224},
    {"sha-384", EVP_sha384},
    {"sha-512", EVP_sha512},
    {"sha-256", EVP_sha256},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

const FingerprintAlgorithm* find_algorithm(std::string_view name) {
  for (const auto& a : kFingerprintAlgorithms) {
    if (iequals(a.name, name)) return &a;
  }
  return nullptr;
}

// Drains this thread's OpenSSL error queue into one line.
std::string openssl_errors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("no OpenSSL error detail") : out;
}

void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

std::string hex_lower(const uint8_t* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 0x0F];
  }
  return s;
}

// OpenSSL 3.0's DTLS timer reads gettimeofday, so its deadlines are anchored to this clock.
uint64_t wall_us() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return static_cast<uint64_t>(tv.tv_sec) * 1000000u + static_cast<uint64_t>(tv.tv_usec);
}

const char* srtp_profile_name(SrtpSuite suite) {
  switch (suite) {
    case SrtpSuite::aead_aes_128_gcm:
      return "SRTP_AEAD_AES_128_GCM";
    case SrtpSuite::aes_cm_128_hmac_sha1_80:
      return "SRTP_AES128_CM_SHA1_80";
    case SrtpSuite::aes_cm_128_hmac_sha1_32:
      return "SRTP_AES128_CM_SHA1_32";
  }
  return "";
}

std::optional<SrtpSuite> suite_from_profile_id(unsigned long id) {
  switch (id) {
    case SRTP_AEAD_AES_128_GCM:
      return SrtpSuite::aead_aes_128_gcm;
    case SRTP_AES128_CM_SHA1_80:
      return SrtpSuite::aes_cm_128_hmac_sha1_80;
    case SRTP_AES128_CM_SHA1_32:
      return SrtpSuite::aes_cm_128_hmac_sha1_32;
    default:
      return std::nullopt;
  }
}

// A key file with a passphrase must fail rather than prompt on the server's terminal.
int refuse_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

bool fingerprint_matches(X509* cert, const DtlsFingerprint& expected, std::string* reason) {
  const std::string actual = dtls_certificate_fingerprint(cert, expected.algorithm);
  if (!actual.empty() && iequals(actual, expected.value)) return true;
  *reason = "fingerprint mismatch: peer certificate " + expected.algorithm + " " +
            (actual.empty() ? std::string("(none)") : actual) + ", signaled " + expected.value;
  return false;
}

}  // namespace

// The BIO and timer callbacks are C functions that need the transport's private state.
struct DtlsBioAccess {
  static DtlsTransport* from_bio(BIO* bio) {
    return static_cast<DtlsTransport*>(BIO_get_data(bio));
  }

  static int write(BIO* bio, const char* data, int len) {
    BIO_clear_retry_flags(bio);
    DtlsTransport* t = from_bio(bio);
    if (t == nullptr || len <= 0) return 0;
    const auto* p = reinterpret_cast<const uint8_t*>(data);
    const size_t n = static_cast<size_t>(len);
    const size_t mtu = t->options_.mtu;
    if (n <= mtu) {
      t->outgoing_.emplace_back(p, p + n);
      return len;
    }
    // During the handshake OpenSSL packs a flight's records into one write and keeps that
    // under the MTU, except that it does not count the AEAD nonce and tag of an encrypted
    // Finished: cut such a write at record boundaries, packing records greedily.
    size_t start = 0;
    size_t off = 0;
    while (off < n) {
      size_t record = n - off;  // a malformed tail goes out as it is
      if (n - off >= kDtlsRecordHeader) {
        const size_t body = (static_cast<size_t>(p[off + 11]) << 8) | p[off + 12];
        record = std::min(n - off, kDtlsRecordHeader + body);
      }
      if (off > start && off + record - start > mtu) {
        t->outgoing_.emplace_back(p + start, p + off);
        start = off;
      }
      off += record;
    }
    t->outgoing_.emplace_back(p + start, p + n);
    return len;
  }

  static int read(BIO* bio, char* out, int len) {
    BIO_clear_retry_flags(bio);
    DtlsTransport* t = from_bio(bio);
    if (t == nullptr || t->incoming_ == nullptr || len <= 0) {
      BIO_set_retry_read(bio);
      return -1;
    }
    // Datagram semantics: what does not fit is lost, and the datagram is read only once.
    const size_t n = std::min(t->incoming_len_, static_cast<size_t>(len));
    std::memcpy(out, t->incoming_, n);
    t->incoming_ = nullptr;
    t->incoming_len_ = 0;
    return static_cast<int>(n);
  }

  static long ctrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
    DtlsTransport* t = from_bio(bio);
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_DGRAM_QUERY_MTU:
        return t != nullptr ? t->options_.mtu : 0;
      // options.mtu already is the datagram payload size; nothing below us counts against it.
      case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        return 0;
      // Every write leaves as its own datagram at once, so nothing is ever pending.
      case BIO_CTRL_WPENDING:
      case BIO_CTRL_PENDING:
        return 0;
      // Anything else, kernel-TLS queries included, must read as "not supported": a 1 here
      // makes OpenSSL skip its write buffer and crash (signaling contract 10).
      default:
        return 0;
    }
  }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static int destroy(BIO* bio) { return bio != nullptr ? 1 : 0; }

  static unsigned int timer(SSL* ssl, unsigned int previous_us) {
    auto* t = static_cast<DtlsTransport*>(SSL_get_app_data(ssl));
    const uint32_t initial_ms = std::clamp<uint32_t>(
        t != nullptr ? t->options_.initial_retransmit_ms : 1000u, 1u, kMaxRetransmitMs);
    if (previous_us == 0) return initial_ms * 1000u;
    const uint64_t doubled = static_cast<uint64_t>(previous_us) * 2u;
    return static_cast<unsigned int>(std::min<uint64_t>(doubled, kMaxRetransmitMs * 1000u));
  }

  // Chain and self-signature errors are ignored: the certificate is self-signed, and what
  // authenticates it is the signaled fingerprint. That is checked here, on the leaf, so that
  // a wrong peer is refused with an alert mid-handshake and neither side ever connects;
  // complete_handshake checks again.
  static int verify(int /*preverify_ok*/, X509_STORE_CTX* store) {
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* t = ssl != nullptr ? static_cast<DtlsTransport*>(SSL_get_app_data(ssl)) : nullptr;
    X509* leaf = X509_STORE_CTX_get_current_cert(store);
    if (t == nullptr || leaf == nullptr) return 0;
    std::string reason;
    if (fingerprint_matches(leaf, t->remote_fingerprint_, &reason)) {
      X509_STORE_CTX_set_error(store, X509_V_OK);
      return 1;
    }
    t->verify_failure_ = std::move(reason);
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }

  static BIO_METHOD* method() {
    // Built once and kept for the process: every transport's BIO points at it.
    static BIO_METHOD* const m = [] {
      BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "weir-dtls");
      if (bm == nullptr) return bm;
      if (BIO_meth_set_write(bm, write) != 1 || BIO_meth_set_read(bm, read) != 1 ||
          BIO_meth_set_ctrl(bm, ctrl) != 1 || BIO_meth_set_create(bm, create) != 1 ||
          BIO_meth_set_destroy(bm, destroy) != 1) {
        BIO_meth_free(bm);
        return static_cast<BIO_METHOD*>(nullptr);
      }
      return bm;
    }();
    return m;
  }
};

std::vector<SrtpSuite> dtls_default_srtp_suites() {
  return {SrtpSuite::aead_aes_128_gcm, SrtpSuite::aes_cm_128_hmac_sha1_80,
          SrtpSuite::aes_cm_128_hmac_sha1_32};
}

bool dtls_fingerprint_algorithm_supported(std::string_view algorithm) {
  return find_algorithm(algorithm) != nullptr;
}

std::string dtls_certificate_fingerprint(X509* cert, std::string_view algorithm) {
  const FingerprintAlgorithm* a = find_algorithm(algorithm);
  if (cert == nullptr || a == nullptr) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, a->md(), digest, &len) != 1) {
    ERR_clear_error();
    return {};
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 3);
  for (unsigned int i = 0; i < len; ++i) {
    if (i != 0) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// DtlsCertificate

DtlsCertificate::DtlsCertificate(X509* x509, EVP_PKEY* key) : x509_(x509), key_(key) {
  for (const auto& a : kFingerprintAlgorithms) {
    fingerprints_.push_back({a.name, dtls_certificate_fingerprint(x509_, a.name)});
  }
}

DtlsCertificate::~DtlsCertificate() {
  X509_free(x509_);
  EVP_PKEY_free(key_);
}

std::shared_ptr<DtlsCertificate> DtlsCertificate::generate(std::string* error) {
  ERR_clear_error();
  auto fail = [error](const char* what) -> std::shared_ptr<DtlsCertificate> {
    set_error(error, std::string("DTLS certificate: ") + what + ": " + openssl_errors());
    return nullptr;
  };

  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return fail("P-256 key generation failed");

  X509Ptr x509(X509_new());
  if (!x509) return fail("X509_new failed");
  if (X509_set_version(x509.get(), X509_VERSION_3) != 1) return fail("X509_set_version failed");

  // A positive, non-zero 64-bit serial: the top bit is cleared so the DER INTEGER needs no
  // sign byte, and a zero draw is bumped.
  uint8_t serial_bytes[8];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) return fail("RAND_bytes failed");
  serial_bytes[0] &= 0x7F;
  serial_bytes[7] |= 0x01;
  BnPtr serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x509.get())) == nullptr) {
    return fail("serial number");
  }

  // A day of slack before now covers peers whose clocks are behind ours.
  if (X509_gmtime_adj(X509_getm_notBefore(x509.get()), -24L * 3600L) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x509.get()), 365L * 24L * 3600L) == nullptr) {
    return fail("validity period");
  }
  if (X509_set_pubkey(x509.get(), key.get()) != 1) return fail("X509_set_pubkey failed");

  uint8_t cn_bytes[8];
  if (RAND_bytes(cn_bytes, sizeof cn_bytes) != 1) return fail("RAND_bytes failed");
  const std::string cn = "weir-" + hex_lower(cn_bytes, sizeof cn_bytes);
  X509_NAME* name = X509_get_subject_name(x509.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(x509.get(), name) != 1) {
    return fail("subject name");
  }
  if (X509_sign(x509.get(), key.get(), EVP_sha256()) <= 0) return fail("X509_sign failed");

  return std::shared_ptr<DtlsCertificate>(new DtlsCertificate(x509.release(), key.release()));
}

std::shared_ptr<DtlsCertificate> DtlsCertificate::load(const std::string& certificate_path,
                                                       const std::string& key_path,
                                                       std::string* error) {
  ERR_clear_error();
  auto fail = [error](const std::string& what) -> std::shared_ptr<DtlsCertificate> {
    set_error(error, "DTLS certificate: " + what + ": " + openssl_errors());
    return nullptr;
  };

  BioPtr cert_file(BIO_new_file(certificate_path.c_str(), "r"));
  if (!cert_file) return fail("cannot open " + certificate_path);
  X509Ptr x509(PEM_read_bio_X509(cert_file.get(), nullptr, refuse_passphrase, nullptr));
  if (!x509) return fail("no PEM certificate in " + certificate_path);

  BioPtr key_file(BIO_new_file(key_path.c_str(), "r"));
  if (!key_file) return fail("cannot open " + key_path);
  PkeyPtr key(PEM_read_bio_PrivateKey(key_file.get(), nullptr, refuse_passphrase, nullptr));
  if (!key) return fail("no (unencrypted) PEM private key in " + key_path);

  if (X509_check_private_key(x509.get(), key.get()) != 1) {
    return fail("the key in " + key_path + " does not match the certificate in " +
                certificate_path);
  }
  return std::shared_ptr<DtlsCertificate>(new DtlsCertificate(x509.release(), key.release()));
}

const char* dtls_state_name(DtlsState state) {
  switch (state) {
    case DtlsState::fresh:
      return "new";
    case DtlsState::connecting:
      return "connecting";
    case DtlsState::connected:
      return "connected";
    case DtlsState::failed:
      return "failed";
    case DtlsState::closed:
      return "closed";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------
// DtlsTransport

DtlsTransport::DtlsTransport(std::shared_ptr<const DtlsCertificate> certificate, Listener& listener,
                             DtlsOptions options)
    : certificate_(std::move(certificate)), listener_(listener), options_(std::move(options)) {}

DtlsTransport::~DtlsTransport() {
  SSL_free(ssl_);  // frees bio_ too
  SSL_CTX_free(ctx_);
}

// One SSL_CTX per transport: the use_srtp profiles, MTU-related settings and the timer are
// per-transport options, and a context costs far less than the handshake's ECDHE and ECDSA
// operations, so sharing one per certificate would buy little and couple transports.
bool DtlsTransport::setup_ssl(DtlsRole role, std::string* error) {
  ERR_clear_error();
  auto fail = [error](const std::string& what) {
    set_error(error, "DTLS setup: " + what + ": " + openssl_errors());
    return false;
  };
  BIO_METHOD* method = DtlsBioAccess::method();
  if (method == nullptr) return fail("cannot create the datagram BIO method");

  ctx_ = SSL_CTX_new(DTLS_method());
  if (ctx_ == nullptr) return fail("SSL_CTX_new failed");
  if (SSL_CTX_set_min_proto_version(ctx_, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx_, DTLS1_2_VERSION) != 1) {
    return fail("cannot restrict the protocol to DTLS 1.2");
  }
  // No tickets, no cache: every transport has a fresh certificate check and fresh keys. No
  // renegotiation: the SRTP keys must not change under the dataplane. The MTU is ours to set.
  SSL_CTX_set_options(ctx_, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_cipher_list(ctx_, kCipherList) != 1) return fail("cipher list rejected");
  if (SSL_CTX_set1_groups_list(ctx_, kGroups) != 1) return fail("groups rejected");
  if (SSL_CTX_use_certificate(ctx_, certificate_->x509()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx_, certificate_->private_key()) != 1 ||
      SSL_CTX_check_private_key(ctx_) != 1) {
    return fail("certificate or key rejected");
  }
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     &DtlsBioAccess::verify);

  std::string profiles;
  for (SrtpSuite s : options_.srtp_suites) {
    const std::string name = srtp_profile_name(s);
    if (profiles.find(name) != std::string::npos) continue;
    if (!profiles.empty()) profiles += ':';
    profiles += name;
  }
  // Inverted convention: 0 is success.
  if (SSL_CTX_set_tlsext_use_srtp(ctx_, profiles.c_str()) != 0) {
    return fail("use_srtp profiles \"" + profiles + "\" rejected");
  }

  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr) return fail("SSL_new failed");
  SSL_set_app_data(ssl_, this);
  bio_ = BIO_new(method);
  if (bio_ == nullptr) return fail("BIO_new failed");
  BIO_set_data(bio_, this);
  SSL_set_bio(ssl_, bio_, bio_);  // one reference for both directions, now owned by ssl_
  if (SSL_set_mtu(ssl_, options_.mtu) <= 0) {
    return fail("MTU " + std::to_string(options_.mtu) + " is below DTLS's minimum");
  }
  DTLS_set_timer_cb(ssl_, &DtlsBioAccess::timer);
  if (role == DtlsRole::client) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
  return true;
}

bool DtlsTransport::start(DtlsRole role, const std::vector<DtlsFingerprint>& remote,
                          uint64_t now_ms, std::string* error) {
  if (state_ != DtlsState::fresh) {
    set_error(error, std::string("DTLS transport already started (state ") +
                         dtls_state_name(state_) + ")");
    return false;
  }
  const DtlsFingerprint* chosen = nullptr;
  for (const auto& f : remote) {
    if (dtls_fingerprint_algorithm_supported(f.algorithm) && !f.value.empty()) {
      chosen = &f;
      break;
    }
  }
  if (chosen == nullptr) {
    set_error(error, "no remote DTLS fingerprint with a supported algorithm");
    return false;
  }
  if (!certificate_ || certificate_->x509() == nullptr || certificate_->private_key() == nullptr) {
    set_error(error, "DTLS transport has no certificate");
    return false;
  }
  if (options_.srtp_suites.empty()) {
    set_error(error, "DTLS transport offers no SRTP suite");
    return false;
  }
  if (!setup_ssl(role, error)) {
    SSL_free(ssl_);
    ssl_ = nullptr;
    bio_ = nullptr;
    SSL_CTX_free(ctx_);
    ctx_ = nullptr;
    return false;
  }

  remote_fingerprint_.algorithm = find_algorithm(chosen->algorithm)->name;
  remote_fingerprint_.value = chosen->value;
  role_ = role;
  state_ = DtlsState::connecting;
  started_ms_ = now_ms;
  note_time(now_ms);
  if (role == DtlsRole::client) drive_handshake(now_ms);  // sends the ClientHello

  std::vector<std::vector<uint8_t>> early = std::move(early_packets_);
  early_packets_.clear();
  for (const auto& p : early) {
    if (state_ != DtlsState::connecting && state_ != DtlsState::connected) break;
    on_packet(p.data(), p.size(), now_ms);
  }
  return true;
}

void DtlsTransport::note_time(uint64_t now_ms) {
  now_ms_ = now_ms;
  now_wall_us_ = wall_us();
}

void DtlsTransport::on_packet(const uint8_t* data, size_t len, uint64_t now_ms) {
  if (data == nullptr || len == 0) return;
  switch (state_) {
    case DtlsState::fresh:
      // A fast peer's ClientHello (and retransmissions of it) before start(); bounded so a
      // flood before signaling completes cannot grow memory.
      if (early_packets_.size() < kMaxEarlyPackets && len <= kMaxEarlyPacketSize) {
        early_packets_.emplace_back(data, data + len);
      }
      return;
    case DtlsState::connecting:
      incoming_ = data;
      incoming_len_ = len;
      drive_handshake(now_ms);
      return;
    case DtlsState::connected:
      note_time(now_ms);
      incoming_ = data;
      incoming_len_ = len;
      read_application_data();
      return;
    case DtlsState::failed:
    case DtlsState::closed:
      return;
  }
}

void DtlsTransport::drive_handshake(uint64_t now_ms) {
  note_time(now_ms);
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  const int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, rc);
  // The datagram is valid only during on_packet; OpenSSL keeps what it did not process yet.
  incoming_ = nullptr;
  incoming_len_ = 0;
  if (rc == 1) {
    complete_handshake();
    return;
  }
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    flush_outgoing();
    return;
  }
  std::string errors = openssl_errors();
  fail(verify_failure_.empty() ? "DTLS handshake failed: " + errors : verify_failure_);
}

void DtlsTransport::complete_handshake() {
  std::string reason;
  DtlsSrtpKeys keys{};
  if (!verify_peer_fingerprint(&reason) || !export_keys(keys, &reason)) {
    // close_notify tells the peer at once instead of leaving it to send into the void.
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
    fail(reason);
    return;
  }
  state_ = DtlsState::connected;
  flush_outgoing();  // the server's final flight
  listener_.on_dtls_connected(keys);
  OPENSSL_cleanse(keys.local.data(), keys.local.size());
  OPENSSL_cleanse(keys.remote.data(), keys.remote.size());
  // Records that came in the same datagram as the peer's Finished (an SCTP INIT can) are
  // still buffered inside OpenSSL.
  if (state_ == DtlsState::connected) read_application_data();
}

bool DtlsTransport::verify_peer_fingerprint(std::string* reason) {
  X509Ptr peer(SSL_get1_peer_certificate(ssl_));
  if (!peer) {
    *reason = "fingerprint mismatch: the peer sent no certificate";
    return false;
  }
  return fingerprint_matches(peer.get(), remote_fingerprint_, reason);
}

bool DtlsTransport::export_keys(DtlsSrtpKeys& keys, std::string* reason) {
  const SRTP_PROTECTION_PROFILE* profile = SSL_get_selected_srtp_profile(ssl_);
  if (profile == nullptr) {
    *reason = "no SRTP profile negotiated (the peer accepted none of the use_srtp profiles)";
    return false;
  }
  const std::optional<SrtpSuite> suite = suite_from_profile_id(profile->id);
  if (!suite) {
    *reason = std::string("unsupported SRTP profile negotiated: ") +
              (profile->name != nullptr ? profile->name : "?");
    return false;
  }
  const size_t key_len = kSrtpKeyLength;
  const size_t salt_len = *suite == SrtpSuite::aead_aes_128_gcm ? kGcmSaltLength : kCmSaltLength;
  if (key_len + salt_len != srtp_master_length(*suite)) {
    *reason = "internal error: SRTP key length mismatch";
    return false;
  }

  // RFC 5764 4.2: client key | server key | client salt | server salt.
  std::vector<uint8_t> material(2 * (key_len + salt_len));
  ERR_clear_error();
  if (SSL_export_keying_material(ssl_, material.data(), material.size(), kExporterLabel,
                                 sizeof kExporterLabel - 1, nullptr, 0, 0) != 1) {
    *reason = "DTLS-SRTP key export failed: " + openssl_errors();
    return false;
  }
  const uint8_t* client_key = material.data();
  const uint8_t* server_key = client_key + key_len;
  const uint8_t* client_salt = server_key + key_len;
  const uint8_t* server_salt = client_salt + salt_len;
  auto master = [&](const uint8_t* key, const uint8_t* salt) {
    std::vector<uint8_t> m(key, key + key_len);
    m.insert(m.end(), salt, salt + salt_len);
    return m;
  };
  const bool client = role_ == DtlsRole::client;
  keys.suite = *suite;
  keys.local = client ? master(client_key, client_salt) : master(server_key, server_salt);
  keys.remote = client ? master(server_key, server_salt) : master(client_key, client_salt);
  OPENSSL_cleanse(material.data(), material.size());
  return true;
}

void DtlsTransport::read_application_data() {
  std::array<uint8_t, kReadBufferSize> buf;
  for (;;) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
    if (n > 0) {
      incoming_ = nullptr;
      incoming_len_ = 0;
      flush_outgoing();
      listener_.on_dtls_application_data(buf.data(), static_cast<size_t>(n));
      if (state_ != DtlsState::connected) return;
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    incoming_ = nullptr;
    incoming_len_ = 0;
    // A retransmitted final flight from the peer makes OpenSSL resend ours from in here.
    flush_outgoing();
    switch (err) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        return;
      case SSL_ERROR_ZERO_RETURN:
        state_ = DtlsState::closed;
        listener_.on_dtls_closed();
        return;
      default:
        fail("DTLS error: " + openssl_errors());
        return;
    }
  }
}

std::optional<uint64_t> DtlsTransport::next_timeout_ms() const {
  if (state_ != DtlsState::connecting || ssl_ == nullptr) return std::nullopt;
  uint64_t deadline = started_ms_ + options_.handshake_timeout_ms;
  timeval tv{};
  if (DTLSv1_get_timeout(ssl_, &tv) == 1) {
    // OpenSSL says how long from now (its wall clock); rebase that on the moment the caller
    // last told us its time, so the answer is stable however late it is asked.
    const uint64_t remaining_us =
        static_cast<uint64_t>(tv.tv_sec) * 1000000u + static_cast<uint64_t>(tv.tv_usec);
    if (remaining_us == 0) {
      // Expired for OpenSSL (it rounds the last 15 ms down to 0): due at once. Measuring
      // from the anchor here would chase real time and never come due on a lagging clock.
      deadline = std::min(deadline, now_ms_);
    } else {
      const uint64_t expiry_wall_us = wall_us() + remaining_us;
      const uint64_t after_anchor_us =
          expiry_wall_us > now_wall_us_ ? expiry_wall_us - now_wall_us_ : 0;
      deadline = std::min(deadline, now_ms_ + (after_anchor_us + 999) / 1000);
    }
  }
  return deadline;
}

void DtlsTransport::on_timeout(uint64_t now_ms) {
  if (state_ != DtlsState::connecting || ssl_ == nullptr) return;
  note_time(now_ms);
  if (now_ms >= started_ms_ && now_ms - started_ms_ >= options_.handshake_timeout_ms) {
    fail("handshake timed out after " + std::to_string(now_ms - started_ms_) + " ms");
    return;
  }
  ERR_clear_error();
  // Does nothing unless OpenSSL's own timer (real time) has expired too.
  const int rc = static_cast<int>(DTLSv1_handle_timeout(ssl_));
  if (rc < 0) {
    fail("handshake timed out: " + openssl_errors());
    return;
  }
  flush_outgoing();
}

bool DtlsTransport::send_application_data(const uint8_t* data, size_t len) {
  // OpenSSL treats an oversized DTLS write as a fatal error of the connection.
  if (state_ != DtlsState::connected || data == nullptr || len == 0 ||
      len > SSL3_RT_MAX_PLAIN_LENGTH) {
    return false;
  }
  ERR_clear_error();
  const int n = SSL_write(ssl_, data, static_cast<int>(len));
  if (n > 0) {
    flush_outgoing();
    return static_cast<size_t>(n) == len;
  }
  const int err = SSL_get_error(ssl_, n);
  flush_outgoing();
  if (err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL)
    fail("DTLS write failed: " + openssl_errors());
  return false;
}

void DtlsTransport::close() {
  if (state_ == DtlsState::closed || state_ == DtlsState::failed) return;
  if (state_ == DtlsState::connected) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // only sends close_notify; the peer's reply is not awaited
    ERR_clear_error();
    flush_outgoing();
  }
  early_packets_.clear();
  state_ = DtlsState::closed;
}

void DtlsTransport::fail(const std::string& reason) {
  if (state_ == DtlsState::failed || state_ == DtlsState::closed) return;
  state_ = DtlsState::failed;
  incoming_ = nullptr;
  incoming_len_ = 0;
  ERR_clear_error();
  flush_outgoing();  // the alert OpenSSL wrote, if any
  listener_.on_dtls_failed(reason);
}

void DtlsTransport::flush_outgoing() {
  if (outgoing_.empty()) return;
  // Moved out first: a listener that feeds us synchronously must not invalidate the loop.
  std::vector<std::vector<uint8_t>> out = std::move(outgoing_);
  outgoing_.clear();
  for (const auto& d : out) listener_.on_dtls_send(d.data(), d.size());
}

}  // namespace weir::dp
