#include "dataplane/srtp_ipsec_mb.h"

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include <cstring>
#include <new>

#include "wire/byte_io.h"

namespace weir::dp {

// Only what the suite uses is allocated: an outbound session per consumer's transport
// makes per-session bytes count (AES-CM 256, GCM about 1 KiB).
struct SrtpMbKeys {
  bool gcm = false;
};

namespace {

struct CmKeys : SrtpMbKeys {
  alignas(16) uint32_t aes_enc[4 * 11] = {};  // AES-128 round keys
  alignas(16) uint8_t hmac_ipad[20] = {};     // SHA-1 state after (auth key ^ ipad)
  alignas(16) uint8_t hmac_opad[20] = {};     // SHA-1 state after (auth key ^ opad)
};

struct GcmKeys : SrtpMbKeys {
  alignas(64) gcm_key_data keys{};  // the AVX-512 code loads it 64 bytes at a time
};

const CmKeys& cm_keys(const SrtpMbJob& job) { return *static_cast<const CmKeys*>(job.keys); }
const GcmKeys& gcm_keys(const SrtpMbJob& job) { return *static_cast<const GcmKeys*>(job.keys); }

// One manager per thread: a worker's jobs are only ever in its own manager's lanes. The
// manager is about 200 KiB (out-of-order lane state per algorithm), made once.
class ThreadManager {
 public:
  ThreadManager() {
    mgr_ = alloc_mb_mgr(0);
    if (mgr_ == nullptr) return;
    // The best code path for this CPU (AVX-512, AVX2, SSE, or no AES-NI at all).
    init_mb_mgr_auto(mgr_, &arch_);
    if (imb_get_errno(mgr_) != 0) {
      free_mb_mgr(mgr_);
      mgr_ = nullptr;
    }
  }
  ~ThreadManager() {
    if (mgr_ != nullptr) free_mb_mgr(mgr_);
  }
  ThreadManager(const ThreadManager&) = delete;
  ThreadManager& operator=(const ThreadManager&) = delete;
  IMB_MGR* get() const { return mgr_; }
  IMB_ARCH arch() const { return arch_; }

 private:
  IMB_MGR* mgr_ = nullptr;
  IMB_ARCH arch_ = IMB_ARCH_NONE;
};

ThreadManager& thread_manager() {
  thread_local ThreadManager manager;
  return manager;
}

constexpr size_t kHmacSha1TagLen = 12;  // the shortest tag ipsec-mb writes for HMAC-SHA1

void fill_cm_job(IMB_JOB* j, SrtpMbJob& job) {
  const CmKeys& k = cm_keys(job);
  // RFC 3711 4.2: the tag covers header, encrypted payload and ROC. The ROC goes where the
  // tag will be, so one contiguous hash input; the tag overwrites it once the hash is done.
  wire::store_be32(job.packet + job.len, job.roc);
  const uint32_t payload = job.len - job.header_len;
  j->cipher_mode = payload > 0 ? IMB_CIPHER_CNTR : IMB_CIPHER_NULL;
  j->cipher_direction = IMB_DIR_ENCRYPT;
  j->chain_order = IMB_ORDER_CIPHER_HASH;
  j->enc_keys = k.aes_enc;
  j->dec_keys = k.aes_enc;  // CTR decrypts with the encryption schedule
  j->key_len_in_bytes = 16;
  j->src = job.packet;
  j->dst = job.packet + job.header_len;
  j->cipher_start_src_offset_in_bytes = job.header_len;
  j->msg_len_to_cipher_in_bytes = payload;
  j->iv = job.iv;
  j->iv_len_in_bytes = 16;  // SRTP's whole counter block; its low 16 bits count blocks
  j->hash_alg = IMB_AUTH_HMAC_SHA_1;
  j->hash_start_src_offset_in_bytes = 0;
  j->msg_len_to_hash_in_bytes = job.len + 4;
  j->u.HMAC._hashed_auth_key_xor_ipad = k.hmac_ipad;
  j->u.HMAC._hashed_auth_key_xor_opad = k.hmac_opad;
  j->auth_tag_output = job.tag;
  j->auth_tag_output_len_in_bytes = kHmacSha1TagLen;
}

void fill_gcm_job(IMB_JOB* j, SrtpMbJob& job) {
  const GcmKeys& k = gcm_keys(job);
  const uint32_t payload = job.len - job.header_len;
  j->cipher_mode = IMB_CIPHER_GCM;
  j->cipher_direction = IMB_DIR_ENCRYPT;
  j->chain_order = IMB_ORDER_CIPHER_HASH;
  j->enc_keys = &k.keys;
  j->dec_keys = &k.keys;
  j->key_len_in_bytes = 16;
  j->src = job.packet;
  j->dst = job.packet + job.header_len;
  j->cipher_start_src_offset_in_bytes = job.header_len;
  j->msg_len_to_cipher_in_bytes = payload;
  j->hash_start_src_offset_in_bytes = job.header_len;
  j->msg_len_to_hash_in_bytes = payload;
  j->iv = job.iv;
  j->iv_len_in_bytes = 12;
  j->hash_alg = IMB_AUTH_AES_GMAC;
  // RFC 7714 8.1: the RTP header (with CSRCs and extension) is the AAD.
  j->u.GCM.aad = job.packet;
  j->u.GCM.aad_len_in_bytes = job.header_len;
  j->auth_tag_output = job.packet + job.len;
  j->auth_tag_output_len_in_bytes = 16;
}

void complete(const IMB_JOB* j) {
  auto& job = *static_cast<SrtpMbJob*>(j->user_data);
  job.ok = j->status == IMB_STATUS_COMPLETED;
  if (job.ok && !job.gcm) std::memcpy(job.packet + job.len, job.tag, job.tag_len);
}

}  // namespace

void SrtpMbKeysFree::operator()(SrtpMbKeys* keys) const {
  if (keys->gcm) {
    auto* k = static_cast<GcmKeys*>(keys);
    OPENSSL_cleanse(&k->keys, sizeof k->keys);
    delete k;
  } else {
    auto* k = static_cast<CmKeys*>(keys);
    OPENSSL_cleanse(k->aes_enc, sizeof k->aes_enc);
    OPENSSL_cleanse(k->hmac_ipad, sizeof k->hmac_ipad);
    OPENSSL_cleanse(k->hmac_opad, sizeof k->hmac_opad);
    delete k;
  }
}

SrtpMbKeysPtr srtp_mb_make_keys(bool gcm, std::span<const uint8_t, 16> cipher_key,
                                std::span<const uint8_t, 20> auth_key) {
  IMB_MGR* m = thread_manager().get();
  if (m == nullptr) return nullptr;
  if (gcm) {
    auto* k = new (std::nothrow) GcmKeys;
    if (k == nullptr) return nullptr;
    k->gcm = true;
    IMB_AES128_GCM_PRE(m, cipher_key.data(), &k->keys);
    return SrtpMbKeysPtr(k);
  }
  auto* k = new (std::nothrow) CmKeys;
  if (k == nullptr) return nullptr;
  SrtpMbKeysPtr owned(k);
  alignas(16) uint32_t aes_dec[4 * 11];
  IMB_AES_KEYEXP_128(m, cipher_key.data(), k->aes_enc, aes_dec);
  OPENSSL_cleanse(aes_dec, sizeof aes_dec);
  // RFC 2104: the pads are one 64-byte SHA-1 block each, absorbed once per session.
  alignas(16) uint8_t ipad[64], opad[64];
  std::memset(ipad, 0x36, sizeof ipad);
  std::memset(opad, 0x5c, sizeof opad);
  for (size_t i = 0; i < auth_key.size(); ++i) {
    ipad[i] ^= auth_key[i];
    opad[i] ^= auth_key[i];
  }
  IMB_SHA1_ONE_BLOCK(m, ipad, k->hmac_ipad);
  IMB_SHA1_ONE_BLOCK(m, opad, k->hmac_opad);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
  return owned;
}

void srtp_mb_protect_rtp(std::span<SrtpMbJob> jobs) {
  IMB_MGR* m = thread_manager().get();
  if (m == nullptr) {
    for (SrtpMbJob& job : jobs) job.ok = false;
    return;
  }
  for (SrtpMbJob& job : jobs) {
    job.ok = false;
    IMB_JOB* j = IMB_GET_NEXT_JOB(m);
    if (job.gcm) {
      fill_gcm_job(j, job);
    } else {
      fill_cm_job(j, job);
    }
    j->user_data = &job;
    // A submit hands back jobs that completed (lanes full), oldest first.
    const IMB_JOB* done = IMB_SUBMIT_JOB(m);
    while (done != nullptr) {
      complete(done);
      done = IMB_GET_COMPLETED_JOB(m);
    }
  }
  const IMB_JOB* done = IMB_FLUSH_JOB(m);
  while (done != nullptr) {
    complete(done);
    done = IMB_FLUSH_JOB(m);
  }
}

bool srtp_mb_unprotect_rtp_gcm(SrtpMbJob& job) {
  IMB_MGR* m = thread_manager().get();
  if (m == nullptr || !job.gcm) return false;
  IMB_JOB* j = IMB_GET_NEXT_JOB(m);
  fill_gcm_job(j, job);
  j->cipher_direction = IMB_DIR_DECRYPT;
  j->chain_order = IMB_ORDER_HASH_CIPHER;
  j->auth_tag_output = job.tag;  // computed over the ciphertext, compared below
  j->user_data = nullptr;
  // GCM is not spread over lanes: a submit completes it (a flush is there for safety).
  const IMB_JOB* done = IMB_SUBMIT_JOB(m);
  if (done == nullptr) done = IMB_FLUSH_JOB(m);
  if (done != j || done->status != IMB_STATUS_COMPLETED) return false;
  return CRYPTO_memcmp(job.tag, job.packet + job.len, 16) == 0;
}

bool srtp_mb_available() { return thread_manager().get() != nullptr; }

const char* srtp_mb_arch_name() {
  const ThreadManager& t = thread_manager();
  if (t.get() == nullptr) return "none";
  switch (t.arch()) {
    case IMB_ARCH_NOAESNI:
      return "no-aesni";
    case IMB_ARCH_SSE:
      return "sse";
    case IMB_ARCH_AVX:
      return "avx";
    case IMB_ARCH_AVX2:
      return "avx2";
    case IMB_ARCH_AVX512:
      return "avx512";
    default:
      return "unknown";
  }
}

}  // namespace weir::dp
