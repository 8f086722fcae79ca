#include "signaling/tls_context.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include "base/log.h"

namespace weir::signaling {

namespace ssl = boost::asio::ssl;
namespace fs = std::filesystem;

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error" : out;
}

std::string fingerprint(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), digest, &len) != 1) return "?";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (i != 0) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A self-signed certificate a browser accepts for https://localhost and 127.0.0.1 once
// the user allows it: v3, SAN, serverAuth, one year.
bool generate_pair(std::string* cert_pem, std::string* key_pem, std::string* error) {
  ERR_clear_error();
  auto fail = [error](const char* what) {
    *error = std::string("TLS certificate generation: ") + what + ": " + openssl_errors();
    return false;
  };
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return fail("P-256 key");
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return fail("X509_new");
  unsigned char serial[8];
  if (RAND_bytes(serial, sizeof serial) != 1) return fail("RAND_bytes");
  serial[0] &= 0x7F;  // positive
  serial[7] |= 0x01;  // non-zero
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool serial_ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  if (!serial_ok) return fail("serial number");
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600L) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24L * 3600L) == nullptr) {
    return fail("validity");
  }
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return fail("public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("weir"), -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return fail("subject");
  }
  if (!add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
      !add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !add_extension(cert.get(), NID_subject_key_identifier, "hash")) {
    return fail("extensions");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return fail("signature");

  BioPtr cbio(BIO_new(BIO_s_mem()));
  BioPtr kbio(BIO_new(BIO_s_mem()));
  if (!cbio || !kbio || PEM_write_bio_X509(cbio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(kbio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return fail("PEM encoding");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(cbio.get(), &data);
  cert_pem->assign(data, static_cast<size_t>(n));
  n = BIO_get_mem_data(kbio.get(), &data);
  key_pem->assign(data, static_cast<size_t>(n));
  return true;
}

bool read_file(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// Writes through a temporary file and rename(), so that a weir started at the same time
// never reads half a key; the key file is created 0600.
bool write_file_atomically(const fs::path& path, const std::string& text, mode_t mode,
                           std::string* error) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    *error = "cannot create " + tmp.string() + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      *error = "cannot write " + tmp.string() + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot save " + path.string() + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

X509Ptr parse_certificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Loads a PEM pair into a fresh server context; nullptr with *error if OpenSSL refuses
// either, or the key does not belong to the certificate.
std::shared_ptr<ssl::context> context_from_pem(const std::string& cert_pem,
                                               const std::string& key_pem, std::string* error) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) {
    *error = "certificate: " + ec.message();
    return nullptr;
  }
  ctx->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) {
    *error = "private key: " + ec.message();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    *error = "the private key does not match the certificate";
    ERR_clear_error();
    return nullptr;
  }
  return ctx;
}

bool still_valid(X509* cert) {
  // At least a day left, so that a certificate is not handed out as it expires.
  time_t soon = time(nullptr) + 24 * 3600;
  return X509_cmp_time(X509_get0_notAfter(cert), &soon) > 0;
}

}  // namespace

std::string default_state_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/weir";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    return std::string(home) + "/.local/state/weir";
  }
  return {};
}

TlsSetup make_tls_setup(const TlsOptions& options, std::string* error) {
  TlsSetup out;
  std::string cert_pem, key_pem;
  if (!options.certificate_file.empty()) {
    if (!read_file(options.certificate_file, &cert_pem)) {
      *error = "cannot read TLS certificate file \"" + options.certificate_file +
               "\": " + std::strerror(errno);
      return out;
    }
    if (!read_file(options.private_key_file, &key_pem)) {
      *error = "cannot read TLS private key file \"" + options.private_key_file +
               "\": " + std::strerror(errno);
      return out;
    }
    std::string why;
    out.context = context_from_pem(cert_pem, key_pem, &why);
    if (!out.context) {
      *error = "cannot use TLS certificate " + options.certificate_file + " with key " +
               options.private_key_file + ": " + why;
      return out;
    }
    X509Ptr cert = parse_certificate(cert_pem);
    out.fingerprint_sha256 = fingerprint(cert.get());
    out.description = "from " + options.certificate_file;
    return out;
  }

  fs::path dir = options.state_dir;
  fs::path cert_path = dir / kGeneratedCertificateName;
  fs::path key_path = dir / kGeneratedPrivateKeyName;
  if (!options.state_dir.empty() && read_file(cert_path, &cert_pem) &&
      read_file(key_path, &key_pem)) {
    X509Ptr cert = parse_certificate(cert_pem);
    std::string why;
    if (!cert) {
      why = "no PEM certificate";
    } else if (!still_valid(cert.get())) {
      why = "expired or about to expire";
    } else {
      out.context = context_from_pem(cert_pem, key_pem, &why);
    }
    if (out.context) {
      out.fingerprint_sha256 = fingerprint(cert.get());
      out.description = "self-signed, reused from " + cert_path.string();
      return out;
    }
    LOG_WARN("http", "saved TLS certificate %s not usable (%s): generating a new one",
             cert_path.c_str(), why.c_str());
    ERR_clear_error();
  }

  if (!generate_pair(&cert_pem, &key_pem, error)) return out;
  out.context = context_from_pem(cert_pem, key_pem, error);
  if (!out.context) return out;
  X509Ptr cert = parse_certificate(cert_pem);
  out.fingerprint_sha256 = fingerprint(cert.get());

  std::string why;
  std::error_code ec;
  if (options.state_dir.empty()) {
    why = "no state directory";
  } else if (fs::create_directories(dir, ec); ec) {
    why = "cannot create " + dir.string() + ": " + ec.message();
  } else if (!write_file_atomically(key_path, key_pem, 0600, &why) ||
             !write_file_atomically(cert_path, cert_pem, 0644, &why)) {
    // why is set
  }
  if (why.empty()) {
    out.description = "self-signed, generated and saved in " + cert_path.string();
  } else {
    out.description = "self-signed, generated for this run only (" + why + ")";
  }
  return out;
}

}  // namespace weir::signaling
