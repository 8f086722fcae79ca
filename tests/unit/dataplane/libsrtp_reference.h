// libsrtp2, the reference the SRTP tests check weir's own backends against: one session
// per direction with the policy weir's SrtpSession uses (any SSRC, a 1,024-packet replay
// window, repeated indices allowed when sending, so that retransmissions go out).
#pragma once

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <cstdint>
#include <vector>

#include "dataplane/srtp_session.h"

namespace weir::dp {

struct Libsrtp {
  srtp_t session = nullptr;
  Libsrtp(SrtpSuite suite, bool inbound, const std::vector<uint8_t>& key) {
    srtp_init();
    srtp_policy_t p{};
    switch (suite) {
      case SrtpSuite::aes_cm_128_hmac_sha1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
        break;
      case SrtpSuite::aes_cm_128_hmac_sha1_32:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
        break;
      case SrtpSuite::aead_aes_128_gcm:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
        break;
    }
    p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    p.key = const_cast<uint8_t*>(key.data());
    p.window_size = 1024;
    p.allow_repeat_tx = inbound ? 0 : 1;
    EXPECT_EQ(srtp_create(&session, &p), srtp_err_status_ok);
  }
  ~Libsrtp() { srtp_dealloc(session); }
  Libsrtp(const Libsrtp&) = delete;
  Libsrtp& operator=(const Libsrtp&) = delete;
};

}  // namespace weir::dp
