// Proof that the batch protect never touches the heap after a thread's first call: global
// operator new and malloc are replaced by counting versions, and 200 batches of a 128-way
// fan-out over mixed suites must count zero. Under ASAN the sanitizer owns malloc, so the
// test is skipped there.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "counting_allocator.h"
#include "dataplane/srtp_session.h"

namespace weir::dp {
namespace {

TEST(SrtpBatchNoAlloc, FanOutBatchesAllocateNothing) {
#ifdef WEIR_ASAN
  GTEST_SKIP() << "ASAN replaces malloc; allocation counting is meaningless here";
#else
  constexpr size_t kFanOut = 128;
  constexpr size_t kPacket = 12 + 1100;
  const SrtpSuite suites[] = {SrtpSuite::aes_cm_128_hmac_sha1_80,
                              SrtpSuite::aes_cm_128_hmac_sha1_32, SrtpSuite::aead_aes_128_gcm};
  std::vector<std::unique_ptr<SrtpSession> > sessions;
  for (size_t i = 0; i < kFanOut; ++i) {
    const SrtpSuite suite = suites[i % 3];
    std::vector<uint8_t> key(srtp_master_length(suite), static_cast<uint8_t>(i));
    std::string error;
    sessions.push_back(SrtpSession::create(suite, SrtpSession::Direction::outbound, key, &error));
    ASSERT_TRUE(sessions.back()) << error;
  }
  std::vector<uint8_t> plain(kPacket, 0x5a);
  plain[0] = 0x80;
  plain[1] = 96;
  const size_t stride = kPacket + SrtpSession::kMaxTrailer;
  std::vector<uint8_t> buffers(kFanOut * stride);
  std::vector<SrtpProtectRequest> requests(kFanOut);
  bool all_ok = true;
  auto one_batch = [&](uint16_t seq) {
    for (size_t i = 0; i < kFanOut; ++i) {
      uint8_t* p = buffers.data() + i * stride;
      std::memcpy(p, plain.data(), kPacket);
      p[2] = static_cast<uint8_t>(seq >> 8);
      p[3] = static_cast<uint8_t>(seq);
      p[11] = static_cast<uint8_t>(i);  // an SSRC per consumer
      requests[i] = {sessions[i].get(), p, kPacket, stride, SrtpStatus::other};
    }
    srtp_protect_rtp_batch(requests);
    for (const SrtpProtectRequest& r : requests) all_ok = all_ok && r.status == SrtpStatus::ok;
  };
  one_batch(0);  // warm-up: the thread's first call
  ASSERT_TRUE(all_ok);
  g_allocations = 0;
  g_counting = true;
  for (uint16_t seq = 1; seq <= 200; ++seq) one_batch(seq);
  g_counting = false;
  EXPECT_TRUE(all_ok);
  EXPECT_EQ(g_allocations.load(), 0u)
      << "the batch protect allocated (" << srtp_batch_mode_name(srtp_batch_mode()) << ")";
#endif
}

// The counter itself must see allocations, or the test above could never fail.
TEST(SrtpBatchNoAlloc, CounterSeesAllocations) {
#ifdef WEIR_ASAN
  GTEST_SKIP() << "ASAN replaces malloc";
#else
  EXPECT_GE(allocations_seen_by_the_counter(), 2u);
#endif
}

}  // namespace
}  // namespace weir::dp
