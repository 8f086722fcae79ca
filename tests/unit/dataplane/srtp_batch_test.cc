// srtp_protect_rtp_batch against libsrtp2 packet for packet: random batches of mixed
// suites, sessions and SSRCs (repeats, retransmissions, sequence wrap, too-small buffers)
// must give exactly the bytes and statuses of libsrtp2 protecting the same packets in
// order, and libsrtp2 must open them. Registered twice: on ipsec-mb and, with
// WEIR_SRTP_BATCH=loop, as a loop of protect_rtp.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

#include "dataplane/srtp_ipsec_mb.h"
#include "dataplane/srtp_session.h"
#include "wire/byte_io.h"
#include "libsrtp_reference.h"

namespace weir::dp {
namespace {

constexpr SrtpSuite kSuites[] = {SrtpSuite::aes_cm_128_hmac_sha1_80,
                                 SrtpSuite::aes_cm_128_hmac_sha1_32, SrtpSuite::aead_aes_128_gcm};

// One outbound session under test with its libsrtp2 twin (the reference) and a libsrtp2
// receiver, plus the SSRCs it sends and their next sequence numbers.
struct Peer {
  SrtpSuite suite;
  std::unique_ptr<SrtpSession> ours;
  std::unique_ptr<Libsrtp> reference;
  std::unique_ptr<Libsrtp> receiver;
  std::vector<uint32_t> ssrcs;
  std::vector<uint16_t> next_seq;
};

Peer make_peer(std::mt19937& rng, uint32_t id) {
  Peer peer;
  peer.suite = kSuites[rng() % 3];
  std::vector<uint8_t> key(srtp_master_length(peer.suite));
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  // Mostly the OpenSSL backend (whose crypto goes to ipsec-mb); now and then libsrtp, which
  // a batch protects one by one in its place.
  const SrtpBackend backend = rng() % 8 == 0 ? SrtpBackend::libsrtp : SrtpBackend::openssl;
  std::string error;
  peer.ours =
      SrtpSession::create(peer.suite, SrtpSession::Direction::outbound, key, &error, backend);
  EXPECT_TRUE(peer.ours) << error;
  peer.reference = std::make_unique<Libsrtp>(peer.suite, false, key);
  peer.receiver = std::make_unique<Libsrtp>(peer.suite, true, key);
  const size_t n_ssrcs = 1 + rng() % 4;
  for (size_t i = 0; i < n_ssrcs; ++i) {
    peer.ssrcs.push_back(id * 16 + static_cast<uint32_t>(i) + 1);
    // About half start just below the wrap, so the ROC goes 0 -> 1 during the test.
    peer.next_seq.push_back(rng() % 2 == 0 ? static_cast<uint16_t>(65536 - 1 - rng() % 200)
                                           : static_cast<uint16_t>(rng() % 30000));
  }
  return peer;
}

std::vector<uint8_t> rtp_packet(std::mt19937& rng, uint32_t ssrc, uint16_t seq) {
  std::vector<uint8_t> p = {0x80, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  wire::store_be16(&p[2], seq);
  wire::store_be32(&p[4], seq * 3000u);
  wire::store_be32(&p[8], ssrc);
  if (rng() % 4 == 0) {  // CSRCs and a header extension: authenticated, not encrypted
    p[0] = 0x92;
    for (int i = 0; i < 8; ++i) p.push_back(static_cast<uint8_t>(rng()));
    const uint8_t ext[] = {0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00};
    p.insert(p.end(), ext, ext + sizeof ext);
  }
  const size_t payload = rng() % 10 == 0 ? rng() % 4 : rng() % 1300;
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(rng()));
  return p;
}

struct Planned {
  size_t peer;
  std::vector<uint8_t> plain;
  size_t capacity;
  bool fits;
  bool first_send;  // a receiver accepts it (not a retransmission of a sent index)
};

TEST(SrtpBatch, ModeFollowsEnvironment) {
  const char* env = std::getenv("WEIR_SRTP_BATCH");
  const bool loop = env != nullptr && std::string_view(env) == "loop";
  ASSERT_TRUE(loop || srtp_mb_available()) << "no ipsec-mb manager on this machine";
  EXPECT_EQ(srtp_batch_mode(), loop ? SrtpBatchMode::loop : SrtpBatchMode::ipsec_mb);
  std::printf("batch mode %s, ipsec-mb arch %s\n", srtp_batch_mode_name(srtp_batch_mode()),
              srtp_mb_arch_name());
}

TEST(SrtpBatch, RandomBatchesMatchLibsrtpInOrder) {
  ASSERT_TRUE(srtp_library_init(nullptr));
  std::mt19937 rng(20261202);
  for (int trial = 0; trial < 12; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    std::vector<Peer> peers;
    const size_t n_peers = 1 + rng() % 24;
    for (size_t i = 0; i < n_peers; ++i) peers.push_back(make_peer(rng, static_cast<uint32_t>(i)));
    std::set<std::tuple<size_t, uint32_t, uint16_t>> sent;  // seq is enough: < 2^16 per run
    for (int round = 0; round < 8; ++round) {
      // Batch sizes 1..256, small ones often.
      const size_t size = rng() % 3 == 0 ? 1 + rng() % 8 : 1 + rng() % 256;
      std::vector<Planned> plan;
      for (size_t k = 0; k < size; ++k) {
        const size_t pi = rng() % n_peers;
        Peer& peer = peers[pi];
        const size_t si = rng() % peer.ssrcs.size();
        uint16_t seq = peer.next_seq[si]++;
        const uint32_t r = rng() % 20;
        if (r == 0) seq = static_cast<uint16_t>(seq - 1 - rng() % 5);  // a retransmission
        auto plain = rtp_packet(rng, peer.ssrcs[si], seq);
        const size_t trailer = srtp_rtp_trailer_length(peer.suite);
        const bool fits = r != 1;
        const size_t capacity =
            fits ? plain.size() + trailer + rng() % 20 : plain.size() + trailer - 1 - rng() % 3;
        const bool first = fits && sent.insert({pi, peer.ssrcs[si], seq}).second;
        plan.push_back({pi, std::move(plain), capacity, fits, first});
      }

      // The reference: libsrtp2 protecting the same packets one by one, in order.
      std::vector<std::vector<uint8_t>> expected;
      for (const Planned& p : plan) {
        std::vector<uint8_t> b = p.plain;
        b.resize(p.plain.size() + SrtpSession::kMaxTrailer);
        int blen = static_cast<int>(p.plain.size());
        if (p.fits) {
          ASSERT_EQ(srtp_protect(peers[p.peer].reference->session, b.data(), &blen),
                    srtp_err_status_ok);
        }
        b.resize(static_cast<size_t>(blen));
        expected.push_back(std::move(b));
      }

      std::vector<std::vector<uint8_t>> buffers;
      std::vector<SrtpProtectRequest> requests;
      for (const Planned& p : plan) {
        std::vector<uint8_t> b = p.plain;
        b.resize(p.capacity + 8, 0xEE);  // bytes past capacity must stay untouched
        buffers.push_back(std::move(b));
      }
      for (size_t k = 0; k < plan.size(); ++k) {
        requests.push_back({peers[plan[k].peer].ours.get(), buffers[k].data(), plan[k].plain.size(),
                            plan[k].capacity, SrtpStatus::other});
      }
      srtp_protect_rtp_batch(requests);

      for (size_t k = 0; k < plan.size(); ++k) {
        SCOPED_TRACE("round " + std::to_string(round) + " request " + std::to_string(k) + " of " +
                     std::to_string(plan.size()) + ", " +
                     srtp_suite_name(peers[plan[k].peer].suite));
        const SrtpProtectRequest& r = requests[k];
        for (size_t i = plan[k].capacity; i < buffers[k].size(); ++i) {
          ASSERT_EQ(buffers[k][i], 0xEE) << "wrote past capacity at " << i;
        }
        if (!plan[k].fits) {
          EXPECT_EQ(r.status, SrtpStatus::no_space);
          EXPECT_EQ(r.len, plan[k].plain.size());
          EXPECT_EQ(0, std::memcmp(buffers[k].data(), plan[k].plain.data(), r.len));
          continue;
        }
        ASSERT_EQ(r.status, SrtpStatus::ok);
        ASSERT_EQ(r.len, expected[k].size());
        ASSERT_EQ(0, std::memcmp(buffers[k].data(), expected[k].data(), r.len));
        if (!plan[k].first_send) continue;
        int llen = static_cast<int>(r.len);
        ASSERT_EQ(srtp_unprotect(peers[plan[k].peer].receiver->session, buffers[k].data(), &llen),
                  srtp_err_status_ok);
        ASSERT_EQ(static_cast<size_t>(llen), plan[k].plain.size());
        EXPECT_EQ(0, std::memcmp(buffers[k].data(), plan[k].plain.data(), plan[k].plain.size()));
      }
    }
  }
}

// Every request naming one session and one SSRC: the state must advance request by request
// (here across the sequence wrap, where the ROC changes inside the batch).
TEST(SrtpBatch, OneStreamAcrossTheWrapInOneBatch) {
  ASSERT_TRUE(srtp_library_init(nullptr));
  for (SrtpSuite suite : kSuites) {
    SCOPED_TRACE(srtp_suite_name(suite));
    std::vector<uint8_t> key(srtp_master_length(suite));
    for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 11 + 3);
    auto ours = SrtpSession::create(suite, SrtpSession::Direction::outbound, key, nullptr);
    ASSERT_TRUE(ours);
    Libsrtp reference(suite, false, key);
    std::mt19937 rng(7);
    // The first batch makes the stream old enough for ROC estimation; the second wraps.
    for (uint16_t start : {uint16_t{65000}, uint16_t{65400}}) {
      std::vector<std::vector<uint8_t>> buffers, expected;
      std::vector<SrtpProtectRequest> requests;
      for (int k = 0; k < 256; ++k) {
        auto plain = rtp_packet(rng, 0xABCDEF01u, static_cast<uint16_t>(start + k));
        std::vector<uint8_t> e = plain;
        e.resize(plain.size() + SrtpSession::kMaxTrailer);
        int elen = static_cast<int>(plain.size());
        ASSERT_EQ(srtp_protect(reference.session, e.data(), &elen), srtp_err_status_ok);
        e.resize(static_cast<size_t>(elen));
        expected.push_back(std::move(e));
        const size_t len = plain.size();
        plain.resize(len + SrtpSession::kMaxTrailer);
        buffers.push_back(std::move(plain));
      }
      for (auto& b : buffers) {
        requests.push_back({ours.get(), b.data(), b.size() - SrtpSession::kMaxTrailer, b.size(),
                            SrtpStatus::other});
      }
      srtp_protect_rtp_batch(requests);
      for (size_t k = 0; k < requests.size(); ++k) {
        ASSERT_EQ(requests[k].status, SrtpStatus::ok) << k;
        ASSERT_EQ(requests[k].len, expected[k].size()) << k;
        ASSERT_EQ(0, std::memcmp(buffers[k].data(), expected[k].data(), requests[k].len)) << k;
      }
    }
  }
}

// In ipsec-mb mode a lone AES-GCM protect_rtp / unprotect_rtp runs on ipsec-mb too: it
// must seal exactly as libsrtp2 does, open what libsrtp2 sealed (across the wrap), and
// refuse replays and tampering.
TEST(SrtpBatch, SingleGcmPacketsMatchLibsrtpBothWays) {
  ASSERT_TRUE(srtp_library_init(nullptr));
  const SrtpSuite suite = SrtpSuite::aead_aes_128_gcm;
  std::vector<uint8_t> key(srtp_master_length(suite));
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(0xA0 ^ (i * 7));
  auto out = SrtpSession::create(suite, SrtpSession::Direction::outbound, key, nullptr);
  auto in = SrtpSession::create(suite, SrtpSession::Direction::inbound, key, nullptr);
  ASSERT_TRUE(out && in);
  Libsrtp lib_out(suite, false, key), lib_in(suite, true, key);
  std::mt19937 rng(11);
  for (int i = 0; i < 400; ++i) {
    const auto seq = static_cast<uint16_t>(65300 + i);  // wraps after 236 packets
    const auto plain = rtp_packet(rng, 0x600DF00Du + static_cast<uint32_t>(i % 2), seq);
    std::vector<uint8_t> a = plain, b = plain;
    a.resize(plain.size() + SrtpSession::kMaxTrailer);
    b.resize(a.size());
    size_t alen = plain.size();
    int blen = static_cast<int>(plain.size());
    ASSERT_EQ(out->protect_rtp(a.data(), alen, a.size()), SrtpStatus::ok);
    ASSERT_EQ(srtp_protect(lib_out.session, b.data(), &blen), srtp_err_status_ok);
    ASSERT_EQ(alen, static_cast<size_t>(blen)) << i;
    ASSERT_EQ(0, std::memcmp(a.data(), b.data(), alen)) << i;
    if (i % 5 == 0) {  // a flipped bit anywhere must fail and must not mark the index seen
      std::vector<uint8_t> bad(b.begin(), b.begin() + blen);
      bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      size_t bad_len = bad.size();
      ASSERT_NE(in->unprotect_rtp(bad.data(), bad_len), SrtpStatus::ok) << i;
    }
    size_t olen = static_cast<size_t>(blen);
    ASSERT_EQ(in->unprotect_rtp(b.data(), olen), SrtpStatus::ok) << i;
    ASSERT_EQ(olen, plain.size());
    ASSERT_EQ(0, std::memcmp(b.data(), plain.data(), olen)) << i;
    int llen = static_cast<int>(alen);
    std::vector<uint8_t> again(a.begin(), a.begin() + static_cast<long>(alen));
    ASSERT_EQ(srtp_unprotect(lib_in.session, a.data(), &llen), srtp_err_status_ok) << i;
    size_t replay_len = again.size();
    ASSERT_EQ(in->unprotect_rtp(again.data(), replay_len), SrtpStatus::replay) << i;
  }
}

TEST(SrtpBatch, MalformedAndWrongDirectionFailLikeProtect) {
  ASSERT_TRUE(srtp_library_init(nullptr));
  std::vector<uint8_t> key(srtp_master_length(SrtpSuite::aes_cm_128_hmac_sha1_80), 0x42);
  auto out = SrtpSession::create(SrtpSuite::aes_cm_128_hmac_sha1_80,
                                 SrtpSession::Direction::outbound, key, nullptr);
  auto in = SrtpSession::create(SrtpSuite::aes_cm_128_hmac_sha1_80, SrtpSession::Direction::inbound,
                                key, nullptr);
  ASSERT_TRUE(out && in);
  std::vector<uint8_t> good(100, 0), short_packet(8, 0x80), bad_version(100, 0), bad_ext(40, 0),
      inbound(100, 0);
  good[0] = inbound[0] = 0x80;
  bad_version[0] = 0x40;
  bad_ext[0] = 0x90;  // X=1 with an extension longer than the packet
  bad_ext[14] = 0xFF;
  std::vector<SrtpProtectRequest> requests = {
      {out.get(), short_packet.data(), short_packet.size(), 64, SrtpStatus::other},
      {out.get(), bad_version.data(), 80, bad_version.size(), SrtpStatus::other},
      {out.get(), bad_ext.data(), 16, bad_ext.size(), SrtpStatus::other},
      {in.get(), inbound.data(), 80, inbound.size(), SrtpStatus::other},
      {out.get(), good.data(), 80, good.size(), SrtpStatus::other},
  };
  srtp_protect_rtp_batch(requests);
  EXPECT_EQ(requests[0].status, SrtpStatus::bad_packet);
  EXPECT_EQ(requests[1].status, SrtpStatus::bad_packet);
  EXPECT_EQ(requests[2].status, SrtpStatus::bad_packet);
  EXPECT_EQ(requests[3].status, SrtpStatus::other);
  EXPECT_EQ(requests[4].status, SrtpStatus::ok);
  EXPECT_EQ(requests[4].len, 90u);
}

}  // namespace
}  // namespace weir::dp
