// The RTCP building blocks on their own: receive statistics (RFC 3550 A.1, A.3, A.8),
// NACK generation, the retransmission ring, transport-cc feedback and the send-side
// estimator. Deterministic: every time is passed in.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "dataplane/nack_generator.h"
#include "dataplane/packet_pool.h"
#include "dataplane/retransmission_buffer.h"
#include "dataplane/rtp_receive_stats.h"
#include "dataplane/send_side_bandwidth_estimator.h"
#include "dataplane/transport_cc_receiver.h"
#include "wire/rtcp_transport_layer_cc.h"

namespace weir::dp {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;

// ---------------------------------------------------------------------------------------
// SequenceTracker

TEST(SequenceTracker, ReturnsTheGapOnlyWhenTheMaximumAdvances) {
  SequenceTracker t;
  EXPECT_EQ(t.update(10), 0);  // first
  EXPECT_EQ(t.update(11), 0);  // in order
  EXPECT_EQ(t.update(14), 2);  // 12, 13 skipped
  EXPECT_EQ(t.update(13), 0);  // reordered
  EXPECT_EQ(t.update(14), 0);  // duplicate
  EXPECT_EQ(t.update(12), 0);
  EXPECT_EQ(t.received, 6u);
  EXPECT_EQ(t.lost(), 0u);  // duplicates make up for nothing here: clamped at 0
  EXPECT_EQ(t.extended_max(), 14u);
}

TEST(SequenceTracker, GapAcrossWrap) {
  SequenceTracker t;
  EXPECT_EQ(t.update(65533), 0);
  EXPECT_EQ(t.update(1), 3);  // 65534, 65535, 0
  EXPECT_EQ(t.cycles, 0x10000u);
  EXPECT_EQ(t.extended_max(), 0x10001u);
  EXPECT_EQ(t.lost(), 3u);
  EXPECT_EQ(t.update(65535), 0);  // late, from before the wrap
  EXPECT_EQ(t.cycles, 0x10000u);
  EXPECT_EQ(t.lost(), 2u);
}

TEST(SequenceTracker, LargestForwardGap) {
  SequenceTracker t;
  t.update(0);
  EXPECT_EQ(t.update(0x7FFF), 0x7FFE);
  EXPECT_EQ(t.update(0xFFFF), 0);  // exactly half way round: treated as old
  EXPECT_EQ(t.extended_max(), 0x7FFFu);
  EXPECT_EQ(t.update(0xFFFE), 0x7FFE);
}

// ---------------------------------------------------------------------------------------
// RtpReceiveStats

TEST(RtpReceiveStats, FractionLostCoversTheIntervalSinceTheLastReport) {
  RtpReceiveStats st;
  for (uint16_t s = 0; s < 8; ++s) {
    if (s == 2 || s == 6) continue;
    st.on_packet(s, s * 3000u, (1 + s) * kMs);
  }
  auto r = st.make_report(0x1234, 20 * kMs);
  EXPECT_EQ(r.ssrc, 0x1234u);
  EXPECT_EQ(r.fraction_lost, 64);  // 2 of 8: (2 << 8) / 8
  EXPECT_EQ(r.cumulative_lost, 2);
  EXPECT_EQ(r.extended_highest_sequence, 7u);

  for (uint16_t s = 8; s < 12; ++s) st.on_packet(s, s * 3000u, (1 + s) * kMs);
  r = st.make_report(0x1234, 40 * kMs);
  EXPECT_EQ(r.fraction_lost, 0);  // nothing lost since the last report
  EXPECT_EQ(r.cumulative_lost, 2);
  EXPECT_EQ(r.extended_highest_sequence, 11u);

  // One of the four new sequence numbers lost, and one old one recovered late: the
  // interval's received count makes up for the loss, so the fraction is 0.
  st.on_packet(13, 13 * 3000u, 41 * kMs);
  st.on_packet(14, 14 * 3000u, 42 * kMs);
  st.on_packet(15, 15 * 3000u, 43 * kMs);
  st.on_packet(2, 2 * 3000u, 44 * kMs);
  r = st.make_report(0x1234, 50 * kMs);
  EXPECT_EQ(r.fraction_lost, 0);
  EXPECT_EQ(r.cumulative_lost, 2);  // 6 and 12

  // 3 of 4 lost: (3 << 8) / 4 = 192.
  st.on_packet(19, 19 * 3000u, 60 * kMs);
  r = st.make_report(0x1234, 70 * kMs);
  EXPECT_EQ(r.fraction_lost, 192);
  EXPECT_EQ(r.cumulative_lost, 5);
  EXPECT_EQ(r.extended_highest_sequence, 19u);
}

TEST(RtpReceiveStats, DuplicatesMakeCumulativeLossNegative) {
  RtpReceiveStats st;
  st.on_packet(100, 0, kMs);
  st.on_packet(101, 0, 2 * kMs);
  st.on_packet(101, 0, 3 * kMs);
  st.on_packet(101, 0, 4 * kMs);
  const auto r = st.make_report(1, 5 * kMs);
  EXPECT_EQ(r.cumulative_lost, -2);
  EXPECT_EQ(r.fraction_lost, 0);
  EXPECT_EQ(r.extended_highest_sequence, 101u);
}

TEST(RtpReceiveStats, ExtendedHighestSequenceCountsCycles) {
  RtpReceiveStats st;
  st.on_packet(65535, 0, kMs);
  st.on_packet(0, 0, 2 * kMs);
  st.on_packet(2, 0, 3 * kMs);
  const auto r = st.make_report(1, 4 * kMs);
  EXPECT_EQ(r.extended_highest_sequence, 0x10002u);
  EXPECT_EQ(r.cumulative_lost, 1);
  EXPECT_EQ(r.fraction_lost, 64);  // 1 of 4
}

TEST(RtpReceiveStats, NothingReceivedReportsZeros) {
  RtpReceiveStats st;
  const auto r = st.make_report(7, 5 * kSec);
  EXPECT_EQ(r, (wire::RtcpReceptionReport{7, 0, 0, 0, 0, 0, 0}));
}

// 20 ms packets at 90 kHz (1800 ticks each) whose arrivals are late by 0, 0, 1, 0, 2 ms
// (90 ticks per ms): transits 0, 0, 90, 0, 180 relative, so D = 0, 90, 90, 180 and, with
// the RFC's J += |D| - ((J + 8) >> 4) on J = 16 x jitter: 0, 90, 174, 343 -> 343 >> 4 = 21.
void feed_jitter_sequence(RtpReceiveStats& st, uint64_t origin_ns, uint32_t ts_origin) {
  const uint64_t late_ms[] = {0, 0, 1, 0, 2};
  for (uint32_t i = 0; i < 5; ++i)
    st.on_packet(static_cast<uint16_t>(1000 + i), ts_origin + 1800 * i,
                 origin_ns + (20 * i + late_ms[i]) * kMs);
}

TEST(RtpReceiveStats, JitterFollowsRfc3550) {
  RtpReceiveStats st(90000);
  feed_jitter_sequence(st, 5 * kSec, 12345);
  EXPECT_EQ(st.jitter(), 21u);
  EXPECT_EQ(st.make_report(1, 6 * kSec).jitter, 21u);
}

TEST(RtpReceiveStats, FirstPacketDoesNotMoveJitter) {
  RtpReceiveStats st(90000);
  st.on_packet(1, 0xDEADBEEF, 777 * kMs);
  EXPECT_EQ(st.jitter(), 0u);
  st.on_packet(2, 0xDEADBEEF + 1800, 797 * kMs);  // exactly on time
  EXPECT_EQ(st.jitter(), 0u);
}

TEST(RtpReceiveStats, JitterSurvivesLongUptimeAndTimestampWrap) {
  // Three days of uptime: arrival_ns * 90000 no longer fits 64 bits, and the RTP
  // timestamps wrap through 2^32 in the middle of the sequence.
  RtpReceiveStats st(90000);
  feed_jitter_sequence(st, 3 * 86400 * kSec + 123 * kMs, 0xFFFFF000u);
  EXPECT_EQ(st.jitter(), 21u);
}

TEST(RtpReceiveStats, JitterOtherClockRate) {
  // 48 kHz, 20 ms = 960 ticks, 1 ms = 48 ticks: D = 0, 48, 48, 96 ->
  // J = 0, 48, 48 + 48 - 3 = 93, 93 + 96 - 6 = 183 -> 11.
  RtpReceiveStats st(48000);
  const uint64_t late_ms[] = {0, 0, 1, 0, 2};
  for (uint32_t i = 0; i < 5; ++i)
    st.on_packet(static_cast<uint16_t>(i), 960 * i, kSec + (20 * i + late_ms[i]) * kMs);
  EXPECT_EQ(st.jitter(), 11u);
}

TEST(RtpReceiveStats, RestartGapDoesNotFeedJitter) {
  RtpReceiveStats st(90000);
  feed_jitter_sequence(st, 5 * kSec, 0);
  // A jump of 5000 sequence numbers with an unrelated timestamp: a restarted sender.
  EXPECT_EQ(st.on_packet(uint16_t{1004 + 5001}, 0x70000000, 5 * kSec + 100 * kMs), 5000);
  EXPECT_EQ(st.jitter(), 21u);
  // The next packet is compared with the restarted stream: on time, so only the decay.
  st.on_packet(uint16_t{1004 + 5002}, 0x70000000 + 1800, 5 * kSec + 120 * kMs);
  EXPECT_EQ(st.jitter(), (343u - ((343u + 8) >> 4)) >> 4);  // 322 >> 4 = 20
}

TEST(RtpReceiveStats, LsrAndDlsr) {
  RtpReceiveStats st;
  st.on_packet(1, 0, kSec);
  auto r = st.make_report(1, 2 * kSec);
  EXPECT_EQ(r.last_sender_report, 0u);
  EXPECT_EQ(r.delay_since_last_sender_report, 0u);

  // The SR's NTP time is 2026-01-01T00:00:00.5Z.
  const uint64_t ntp = ntp_from_unix_ns(1'767'225'600ull * kSec + 500 * kMs);
  ASSERT_EQ(ntp, 0xED003780'80000000ull);
  st.on_sender_report(ntp, 10 * kSec);
  r = st.make_report(1, 11 * kSec + 500 * kMs);
  EXPECT_EQ(r.last_sender_report, 0x37808000u);
  EXPECT_EQ(r.delay_since_last_sender_report, 98304u);  // 1.5 s * 65536

  // An hour later, exactly; days later (more than 32 bits of 1/65536 s) it saturates.
  r = st.make_report(1, 10 * kSec + 3600 * kSec);
  EXPECT_EQ(r.delay_since_last_sender_report, 3600u * 65536);
  r = st.make_report(1, 10 * kSec + 100 * 3600 * kSec);
  EXPECT_EQ(r.delay_since_last_sender_report, 0xFFFFFFFFu);

  // A newer SR replaces the old one.
  st.on_sender_report(0x0123456789ABCDEFull, 20 * kSec);
  r = st.make_report(1, 20 * kSec + 250 * kMs);
  EXPECT_EQ(r.last_sender_report, 0x456789ABu);
  EXPECT_EQ(r.delay_since_last_sender_report, 16384u);
}

TEST(NtpTime, FromUnixTime) {
  // 2026-01-01T00:00:00Z is Unix 1767225600; + 2208988800 = 3976214400 = 0xED003780.
  EXPECT_EQ(ntp_from_unix_ns(1'767'225'600ull * kSec), 0xED003780'00000000ull);
  EXPECT_EQ(ntp_from_unix_ns(0), 0x83AA7E80'00000000ull);
  EXPECT_EQ(ntp_from_unix_ns(250 * kMs), 0x83AA7E80'40000000ull);
  EXPECT_EQ(ntp_from_unix_ns(1), 0x83AA7E80'00000004ull);  // 2^32 / 1e9 = 4.29
  EXPECT_EQ(ntp_from_unix_ns(kSec - 1), 0x83AA7E80'FFFFFFFBull);
  EXPECT_EQ(ntp_middle32(0xED003780'80000000ull), 0x37808000u);
}

// ---------------------------------------------------------------------------------------
// NackGenerator

std::vector<uint16_t> due(NackGenerator& g, uint64_t now, size_t max = 64) {
  std::array<uint16_t, 512> out{};
  const size_t n = g.due(now, std::span<uint16_t>(out.data(), max));
  return {out.begin(), out.begin() + static_cast<ptrdiff_t>(n)};
}

TEST(NackGenerator, AddsGapsAndRemovesWhatArrives) {
  NackGenerator g;
  g.on_packet(10, 0, kSec);
  EXPECT_EQ(g.pending(), 0u);
  g.on_packet(14, 3, kSec);
  EXPECT_EQ(g.pending(), 3u);
  EXPECT_EQ(due(g, kSec), (std::vector<uint16_t>{11, 12, 13}));
  EXPECT_TRUE(due(g, kSec).empty());    // just requested
  g.on_packet(12, 0, kSec + 10 * kMs);  // the retransmission
  EXPECT_EQ(g.pending(), 2u);
  g.on_packet(12, 0, kSec + 11 * kMs);  // a second copy changes nothing
  EXPECT_EQ(g.pending(), 2u);
  EXPECT_TRUE(due(g, kSec + 99 * kMs).empty());
  EXPECT_EQ(due(g, kSec + 100 * kMs), (std::vector<uint16_t>{11, 13}));
  EXPECT_EQ(g.given_up(), 0u);
}

TEST(NackGenerator, OldestFirstAcrossGaps) {
  NackGenerator g;
  g.on_packet(100, 2, kSec);             // 98, 99
  g.on_packet(105, 1, kSec + 5 * kMs);   // 104
  g.on_packet(110, 2, kSec + 10 * kMs);  // 108, 109
  EXPECT_EQ(due(g, kSec + 20 * kMs), (std::vector<uint16_t>{98, 99, 104, 108, 109}));
}

TEST(NackGenerator, RetriesThenGivesUp) {
  NackGenerator::Options o;
  o.retry_interval_ns = 100 * kMs;
  o.max_retries = 3;
  o.max_age_ns = 10 * kSec;
  NackGenerator g(o);
  g.on_packet(5, 1, kSec);
  EXPECT_EQ(due(g, kSec), (std::vector<uint16_t>{4}));
  EXPECT_EQ(due(g, kSec + 100 * kMs), (std::vector<uint16_t>{4}));
  EXPECT_EQ(due(g, kSec + 150 * kMs).size(), 0u);
  EXPECT_EQ(due(g, kSec + 200 * kMs), (std::vector<uint16_t>{4}));
  EXPECT_EQ(g.pending(), 1u);
  EXPECT_TRUE(due(g, kSec + 300 * kMs).empty());  // three requests were all it gets
  EXPECT_EQ(g.pending(), 0u);
  EXPECT_EQ(g.given_up(), 1u);
}

TEST(NackGenerator, GivesUpWhenTooOld) {
  NackGenerator::Options o;
  o.retry_interval_ns = 400 * kMs;
  o.max_age_ns = kSec;
  NackGenerator g(o);
  g.on_packet(5, 2, kSec);              // 3, 4
  g.on_packet(8, 1, kSec + 500 * kMs);  // 7
  EXPECT_EQ(due(g, kSec + 500 * kMs), (std::vector<uint16_t>{3, 4, 7}));
  EXPECT_EQ(due(g, 2 * kSec), (std::vector<uint16_t>{3, 4, 7}));  // exactly max_age: kept
  EXPECT_EQ(due(g, 2 * kSec + 400 * kMs), (std::vector<uint16_t>{7}));
  EXPECT_EQ(g.given_up(), 2u);
  EXPECT_EQ(g.pending(), 1u);
  EXPECT_TRUE(due(g, 2 * kSec + 501 * kMs).empty());
  EXPECT_EQ(g.given_up(), 3u);
}

TEST(NackGenerator, OutputIsLimitedByTheSpan) {
  NackGenerator g;
  g.on_packet(10, 5, kSec);  // 5..9
  EXPECT_EQ(due(g, kSec, 2), (std::vector<uint16_t>{5, 6}));
  EXPECT_EQ(due(g, kSec, 2), (std::vector<uint16_t>{7, 8}));  // never asked yet
  EXPECT_EQ(due(g, kSec, 2), (std::vector<uint16_t>{9}));
  EXPECT_EQ(g.pending(), 5u);
}

TEST(NackGenerator, OverflowDropsTheOldest) {
  NackGenerator g;
  g.on_packet(201, 200, kSec);        // 1..200
  g.on_packet(302, 100, kSec + kMs);  // 202..301: 44 of the oldest must go
  EXPECT_EQ(g.pending(), NackGenerator::kCapacity);
  EXPECT_EQ(g.given_up(), 44u);
  const auto out = due(g, kSec + 2 * kMs, 512);
  ASSERT_EQ(out.size(), NackGenerator::kCapacity);
  EXPECT_EQ(out.front(), 45);
  EXPECT_EQ(out[155], 200);
  EXPECT_EQ(out[156], 202);
  EXPECT_EQ(out.back(), 301);
}

TEST(NackGenerator, GapLargerThanTheTableKeepsTheNewest) {
  NackGenerator g;
  g.on_packet(1000, 300, kSec);  // 700..999, only 744..999 fit
  EXPECT_EQ(g.pending(), NackGenerator::kCapacity);
  EXPECT_EQ(g.given_up(), 44u);
  const auto out = due(g, kSec, 512);
  EXPECT_EQ(out.front(), 744);
  EXPECT_EQ(out.back(), 999);
}

TEST(NackGenerator, RestartGapAsksNothing) {
  NackGenerator g;
  g.on_packet(2000, 1001, kSec);
  EXPECT_EQ(g.pending(), 0u);
  g.on_packet(3000, 1000, kSec);  // max_gap itself is still loss
  EXPECT_EQ(g.pending(), NackGenerator::kCapacity);
}

TEST(NackGenerator, WrapAround65535) {
  NackGenerator g;
  g.on_packet(65533, 0, kSec);
  g.on_packet(2, 4, kSec + kMs);  // 65534, 65535, 0, 1
  EXPECT_EQ(due(g, kSec + kMs), (std::vector<uint16_t>{65534, 65535, 0, 1}));
  g.on_packet(65535, 0, kSec + 2 * kMs);
  g.on_packet(0, 0, kSec + 2 * kMs);
  EXPECT_EQ(due(g, kSec + 200 * kMs), (std::vector<uint16_t>{65534, 1}));
}

TEST(NackGenerator, Clear) {
  NackGenerator g;
  g.on_packet(10, 3, kSec);
  g.clear();
  EXPECT_EQ(g.pending(), 0u);
  EXPECT_TRUE(due(g, 2 * kSec).empty());
}

// ---------------------------------------------------------------------------------------
// RetransmissionBuffer

// A pool buffer holding seq in its first two bytes, with the caller's reference.
PacketBuffer* packet(PacketPool& pool, uint16_t seq) {
  PacketBuffer* b = pool.alloc();
  b->data()[0] = static_cast<uint8_t>(seq >> 8);
  b->data()[1] = static_cast<uint8_t>(seq);
  b->len = 2;
  return b;
}

TEST(RetransmissionBuffer, StoresByReferenceAndOverwritesOldest) {
  PacketPool pool(8, 256, 16);
  {
    RetransmissionBuffer rb(pool, 4);
    EXPECT_TRUE(rb.enabled());
    EXPECT_EQ(rb.capacity(), 4u);
    PacketBuffer* held[4];
    for (uint16_t s = 0; s < 4; ++s) {
      held[s] = packet(pool, s);
      rb.store(s, held[s], kSec);
      EXPECT_EQ(held[s]->refcnt, 2);
      pool.release(held[s]);  // the forwarding path is done with it
    }
    EXPECT_EQ(pool.available(), 4u);
    for (uint16_t s = 0; s < 4; ++s) EXPECT_EQ(rb.find(s), held[s]);
    EXPECT_EQ(rb.find(4), nullptr);

    PacketBuffer* b4 = packet(pool, 4);
    rb.store(4, b4, kSec);  // slot 0: seq 0 is released
    pool.release(b4);
    EXPECT_EQ(rb.find(0), nullptr);
    EXPECT_EQ(rb.find(4), b4);
    EXPECT_EQ(b4->refcnt, 1);
    EXPECT_EQ(pool.available(), 4u);  // one freed, one taken
    EXPECT_EQ(rb.find(1), held[1]);
  }
  EXPECT_EQ(pool.available(), 8u);  // the destructor released the four held
}

TEST(RetransmissionBuffer, ClearAndStoreTheSameBufferTwice) {
  PacketPool pool(4, 256, 16);
  RetransmissionBuffer rb(pool, 8);
  PacketBuffer* b = packet(pool, 7);
  rb.store(7, b, kSec);
  rb.store(7, b, kSec);  // the slot's own buffer again: must not be freed in between
  EXPECT_EQ(b->refcnt, 2);
  EXPECT_EQ(rb.find(7), b);
  rb.store(15, b, kSec);  // same slot, same buffer, new number
  EXPECT_EQ(b->refcnt, 2);
  EXPECT_EQ(rb.find(7), nullptr);
  EXPECT_EQ(rb.find(15), b);
  pool.release(b);
  EXPECT_EQ(pool.available(), 3u);
  rb.clear();
  EXPECT_EQ(pool.available(), 4u);
  EXPECT_EQ(rb.find(15), nullptr);
  rb.clear();  // twice is harmless
  EXPECT_EQ(pool.available(), 4u);
}

TEST(RetransmissionBuffer, WrapAndRoundUp) {
  PacketPool pool(8, 256, 16);
  RetransmissionBuffer rb(pool, 3);  // rounded up to 4
  EXPECT_EQ(rb.capacity(), 4u);
  PacketBuffer* a = packet(pool, 65535);
  PacketBuffer* z = packet(pool, 0);
  rb.store(65535, a, kSec);
  rb.store(0, z, kSec);
  pool.release(a);
  pool.release(z);
  EXPECT_EQ(rb.find(65535), a);
  EXPECT_EQ(rb.find(0), z);
  EXPECT_EQ(rb.find(3), nullptr);  // slot of 65535, other number
  EXPECT_EQ(rb.find(4), nullptr);  // slot of 0, other number
  PacketBuffer* c = packet(pool, 3);
  rb.store(3, c, kSec);
  pool.release(c);
  EXPECT_EQ(rb.find(65535), nullptr);
  EXPECT_EQ(rb.find(3), c);
  EXPECT_EQ(pool.available(), 6u);
  rb.store(3, nullptr, kSec);  // storing nothing empties the slot
  EXPECT_EQ(rb.find(3), nullptr);
  EXPECT_EQ(pool.available(), 7u);
}

TEST(RetransmissionBuffer, DisabledHoldsNothing) {
  PacketPool pool(2, 256, 16);
  RetransmissionBuffer rb(pool, 0);
  EXPECT_FALSE(rb.enabled());
  PacketBuffer* b = packet(pool, 1);
  rb.store(1, b, kSec);
  EXPECT_EQ(b->refcnt, 1);
  EXPECT_EQ(rb.find(1), nullptr);
  rb.clear();
  pool.release(b);
  EXPECT_EQ(pool.available(), 2u);
}

// ---------------------------------------------------------------------------------------
// TransportCcReceiver

struct Feedback {
  size_t size = 0;
  wire::TransportCcFeedback header;
  std::vector<wire::TransportCcPacketStatus> statuses;
  // The arrival time the sender reconstructs for each received status, in microseconds.
  std::vector<int64_t> arrival_us;
};

Feedback write_and_parse(TransportCcReceiver& r, size_t capacity = 1500) {
  std::vector<uint8_t> buf(capacity);
  Feedback f;
  f.size = r.write_feedback(buf.data(), buf.size(), 0x11111111, 0x22222222);
  if (f.size == 0) return f;
  std::vector<wire::TransportCcPacketStatus> out(0x10000);
  size_t count = 0;
  EXPECT_TRUE(wire::parse_rtcp_transport_cc(buf.data(), f.size, f.header, out, count));
  EXPECT_EQ(f.header.sender_ssrc, 0x11111111u);
  EXPECT_EQ(f.header.media_ssrc, 0x22222222u);
  EXPECT_EQ(f.header.status_count, count);
  f.statuses.assign(out.begin(), out.begin() + static_cast<ptrdiff_t>(count));
  int64_t t = static_cast<int64_t>(f.header.reference_time) * 64000;
  for (const auto& s : f.statuses) {
    if (s.received) t += s.delta_us;
    f.arrival_us.push_back(s.received ? t : -1);
  }
  return f;
}

// The reconstructed time is the true one rounded down to a 250 us tick.
void expect_arrival(const Feedback& f, size_t i, uint64_t arrival_ns) {
  ASSERT_LT(i, f.statuses.size());
  EXPECT_TRUE(f.statuses[i].received) << i;
  const auto truth = static_cast<int64_t>(arrival_ns / 1000);
  EXPECT_LE(f.arrival_us[i], truth) << i;
  EXPECT_GT(f.arrival_us[i], truth - 250) << i;
}

TEST(TransportCcReceiver, InOrderRoundTrip) {
  TransportCcReceiver r;
  EXPECT_FALSE(r.has_pending());
  EXPECT_EQ(write_and_parse(r).size, 0u);
  const uint64_t t0 = kSec + 3'300'000;  // 1.0033 s: reference 15 (960 ms), delta 43.3 ms
  for (uint16_t i = 0; i < 10; ++i) r.on_packet(100 + i, t0 + i * 5'100'000);
  EXPECT_TRUE(r.has_pending());
  const Feedback f = write_and_parse(r);
  ASSERT_GT(f.size, 0u);
  EXPECT_EQ(f.size % 4, 0u);
  EXPECT_EQ(f.header.base_sequence, 100);
  EXPECT_EQ(f.header.status_count, 10);
  EXPECT_EQ(f.header.reference_time, 15u);
  EXPECT_EQ(f.header.feedback_count, 0);
  for (uint16_t i = 0; i < 10; ++i) {
    EXPECT_EQ(f.statuses[i].sequence, 100 + i);
    expect_arrival(f, i, t0 + i * 5'100'000);
  }
  EXPECT_FALSE(r.has_pending());
  EXPECT_EQ(write_and_parse(r).size, 0u);
}

TEST(TransportCcReceiver, LossIsReportedAndTheNextFeedbackContinues) {
  TransportCcReceiver r;
  for (uint16_t s = 100; s < 110; ++s)
    if (s != 103 && s != 104) r.on_packet(s, kSec + s * kMs);
  Feedback f = write_and_parse(r);
  ASSERT_EQ(f.statuses.size(), 10u);
  for (uint16_t s = 100; s < 110; ++s) {
    EXPECT_EQ(f.statuses[s - 100].received, s != 103 && s != 104) << s;
    if (f.statuses[s - 100].received) expect_arrival(f, s - 100, kSec + s * kMs);
  }
  EXPECT_EQ(f.statuses[3].delta_us, 0);

  r.on_packet(104, kSec + 200 * kMs);  // too late: already reported lost
  EXPECT_FALSE(r.has_pending());
  r.on_packet(112, kSec + 212 * kMs);
  r.on_packet(113, kSec + 213 * kMs);
  f = write_and_parse(r);
  EXPECT_EQ(f.header.base_sequence, 110);  // 110, 111 missing since the last feedback
  EXPECT_EQ(f.header.feedback_count, 1);
  ASSERT_EQ(f.statuses.size(), 4u);
  EXPECT_FALSE(f.statuses[0].received);
  EXPECT_FALSE(f.statuses[1].received);
  expect_arrival(f, 2, kSec + 212 * kMs);
  expect_arrival(f, 3, kSec + 213 * kMs);
}

TEST(TransportCcReceiver, ReorderedAndDuplicatePackets) {
  TransportCcReceiver r;
  const uint64_t t0 = 7 * kSec;
  r.on_packet(50, t0);
  r.on_packet(52, t0 + 2 * kMs);
  r.on_packet(51, t0 + 3 * kMs);  // arrives after 52: 52's delta is negative
  r.on_packet(52, t0 + 9 * kMs);  // duplicate: the first arrival counts
  r.on_packet(54, t0 + 4 * kMs);
  r.on_packet(49, t0 + 5 * kMs);  // from before the first one, still unreported
  const Feedback f = write_and_parse(r);
  EXPECT_EQ(f.header.base_sequence, 49);
  ASSERT_EQ(f.statuses.size(), 6u);
  expect_arrival(f, 0, t0 + 5 * kMs);
  expect_arrival(f, 1, t0);
  expect_arrival(f, 2, t0 + 3 * kMs);
  expect_arrival(f, 3, t0 + 2 * kMs);
  EXPECT_FALSE(f.statuses[4].received);
  expect_arrival(f, 5, t0 + 4 * kMs);
  EXPECT_LT(f.statuses[1].delta_us, 0);
  EXPECT_LT(f.statuses[3].delta_us, 0);
}

TEST(TransportCcReceiver, WrapAround65535) {
  TransportCcReceiver r;
  const uint64_t t0 = 3 * kSec;
  r.on_packet(65533, t0);
  r.on_packet(65534, t0 + kMs);
  r.on_packet(0, t0 + 3 * kMs);
  r.on_packet(65535, t0 + 4 * kMs);  // reordered across the wrap
  r.on_packet(2, t0 + 5 * kMs);
  Feedback f = write_and_parse(r);
  EXPECT_EQ(f.header.base_sequence, 65533);
  ASSERT_EQ(f.statuses.size(), 6u);
  const uint16_t seqs[] = {65533, 65534, 65535, 0, 1, 2};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(f.statuses[i].sequence, seqs[i]);
  expect_arrival(f, 0, t0);
  expect_arrival(f, 1, t0 + kMs);
  expect_arrival(f, 2, t0 + 4 * kMs);
  expect_arrival(f, 3, t0 + 3 * kMs);
  EXPECT_FALSE(f.statuses[4].received);
  expect_arrival(f, 5, t0 + 5 * kMs);

  r.on_packet(65535, t0 + 6 * kMs);  // long reported
  r.on_packet(3, t0 + 7 * kMs);
  f = write_and_parse(r);
  EXPECT_EQ(f.header.base_sequence, 3);
  ASSERT_EQ(f.statuses.size(), 1u);
}

TEST(TransportCcReceiver, LongPauseSplitsTheFeedback) {
  TransportCcReceiver r;
  r.on_packet(100, kSec);
  r.on_packet(101, kSec + 10 * kMs);
  r.on_packet(102, kSec + 10 * kSec);  // 10 s later: beyond a 16-bit delta (8.19 s)
  r.on_packet(103, kSec + 10 * kSec + kMs);
  Feedback f = write_and_parse(r);
  EXPECT_EQ(f.header.base_sequence, 100);
  ASSERT_EQ(f.statuses.size(), 2u);
  expect_arrival(f, 1, kSec + 10 * kMs);
  EXPECT_TRUE(r.has_pending());
  f = write_and_parse(r);
  EXPECT_EQ(f.header.base_sequence, 102);
  EXPECT_EQ(f.header.feedback_count, 1);
  EXPECT_EQ(f.header.reference_time, (11 * kSec) / (64 * kMs));
  ASSERT_EQ(f.statuses.size(), 2u);
  expect_arrival(f, 0, 11 * kSec);
  expect_arrival(f, 1, 11 * kSec + kMs);
  EXPECT_FALSE(r.has_pending());
}

TEST(TransportCcReceiver, LargeButRepresentableDeltas) {
  TransportCcReceiver r;
  r.on_packet(1, kSec);
  r.on_packet(2, kSec + 8 * kSec);   // +8 s: fits 2-byte ticks (32000)
  r.on_packet(3, kSec + 100 * kMs);  // -7.9 s, reordered arrival
  const Feedback f = write_and_parse(r);
  ASSERT_EQ(f.statuses.size(), 3u);
  expect_arrival(f, 0, kSec);
  expect_arrival(f, 1, 9 * kSec);
  expect_arrival(f, 2, kSec + 100 * kMs);
}

TEST(TransportCcReceiver, ReferenceTimeWraps24Bits) {
  TransportCcReceiver r;
  const uint64_t t = ((1ull << 24) + 5) * 64 * kMs + kMs;
  r.on_packet(9, t);
  const Feedback f = write_and_parse(r);
  EXPECT_EQ(f.header.reference_time, 5u);
  ASSERT_EQ(f.statuses.size(), 1u);
  EXPECT_EQ(f.statuses[0].delta_us, 1000);
}

TEST(TransportCcReceiver, SmallBufferSplitsAcrossFeedbacks) {
  TransportCcReceiver r;
  std::vector<bool> seen(200, false);
  for (uint16_t s = 0; s < 200; ++s)
    if (s % 7 != 3) r.on_packet(s, kSec + s * 300 * 1000);  // 0.3 ms apart
  size_t feedbacks = 0;
  uint16_t next = 0;
  while (r.has_pending()) {
    const Feedback f = write_and_parse(r, 48);
    ASSERT_GT(f.size, 0u);
    EXPECT_LE(f.size, 48u);
    EXPECT_EQ(f.header.base_sequence, next);
    EXPECT_EQ(f.header.feedback_count, static_cast<uint8_t>(feedbacks));
    ASSERT_FALSE(f.statuses.empty());
    EXPECT_TRUE(f.statuses.back().received);  // ends on a received packet
    for (size_t i = 0; i < f.statuses.size(); ++i) {
      const uint16_t s = f.statuses[i].sequence;
      ASSERT_LT(s, 200);
      EXPECT_FALSE(seen[s]);
      seen[s] = true;
      EXPECT_EQ(f.statuses[i].received, s % 7 != 3) << s;
      if (f.statuses[i].received) expect_arrival(f, i, kSec + s * 300 * 1000);
    }
    next = static_cast<uint16_t>(f.header.base_sequence + f.statuses.size());
    ++feedbacks;
    ASSERT_LT(feedbacks, 200u);
  }
  EXPECT_GT(feedbacks, 1u);
  // 199 was never received and nothing after it was: no feedback can say it is lost yet.
  for (uint16_t s = 0; s < 199; ++s) EXPECT_TRUE(seen[s]) << s;
  EXPECT_FALSE(seen[199]);
}

TEST(TransportCcReceiver, BufferTooSmallKeepsEverything) {
  TransportCcReceiver r;
  r.on_packet(1, kSec);
  uint8_t buf[16];
  EXPECT_EQ(r.write_feedback(buf, sizeof(buf), 1, 2), 0u);
  EXPECT_TRUE(r.has_pending());
  EXPECT_EQ(write_and_parse(r).statuses.size(), 1u);
}

TEST(TransportCcReceiver, WindowIsCappedAtCapacity) {
  TransportCcReceiver r;
  r.on_packet(0, kSec);
  r.on_packet(1500, kSec + kMs);  // 1499 lost between: more than one feedback covers
  Feedback f = write_and_parse(r);
  EXPECT_EQ(f.header.base_sequence, 0);
  EXPECT_EQ(f.statuses.size(), 1u);  // 1500 is past base + kCapacity: it waits
  f = write_and_parse(r);
  // The rest of the loss run cannot anchor a reference time: the report starts at 1500.
  EXPECT_EQ(f.header.base_sequence, 1500);
  EXPECT_EQ(f.statuses.size(), 1u);

  r.on_packet(1501, kSec + 2 * kMs);
  r.on_packet(1501 + 1000, kSec + 3 * kMs);  // within the window: reported with the loss
  f = write_and_parse(r);
  EXPECT_EQ(f.header.base_sequence, 1501);
  EXPECT_EQ(f.statuses.size(), 1001u);
}

TEST(TransportCcReceiver, OverdueFeedbackForgetsTheOldest) {
  TransportCcReceiver r;
  const size_t n = TransportCcReceiver::kCapacity + 6;
  for (size_t s = 0; s < n; ++s) r.on_packet(static_cast<uint16_t>(s), kSec + s * 100'000);
  r.on_packet(2, kSec + 200 * kMs);  // already forgotten: not taken back
  const Feedback f = write_and_parse(r, 4096);
  EXPECT_EQ(f.header.base_sequence, 6);
  ASSERT_EQ(f.statuses.size(), TransportCcReceiver::kCapacity);
  for (size_t i = 0; i < f.statuses.size(); ++i) expect_arrival(f, i, kSec + (i + 6) * 100'000);
  EXPECT_FALSE(r.has_pending());
}

// ---------------------------------------------------------------------------------------
// SendSideBandwidthEstimator

// Statuses for packets seqs sent and received at a steady spacing, except those lost.
std::vector<wire::TransportCcPacketStatus> statuses_for(const std::vector<uint16_t>& seqs,
                                                        int32_t spacing_us,
                                                        const std::vector<bool>& lost = {}) {
  std::vector<wire::TransportCcPacketStatus> out;
  bool first = true;
  int32_t pending_delta = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const bool is_lost = i < lost.size() && lost[i];
    if (!first) pending_delta += spacing_us;
    if (is_lost) {
      out.push_back({seqs[i], false, 0});
    } else {
      out.push_back({seqs[i], true, first ? 1000 : pending_delta});
      pending_delta = 0;
    }
    first = false;
  }
  return out;
}

// Sends count packets of bytes each, 10 ms apart from *now, and feeds back their receipt
// with the same spacing, losing every packet i with lost[i].
void feed_round(SendSideBandwidthEstimator& e, uint64_t& now, size_t count, size_t bytes,
                const std::vector<bool>& lost = {}) {
  std::vector<uint16_t> seqs;
  for (size_t i = 0; i < count; ++i) {
    seqs.push_back(e.on_send(bytes, now));
    now += 10 * kMs;
  }
  const auto st = statuses_for(seqs, 10'000, lost);
  wire::TransportCcFeedback fb;
  fb.base_sequence = seqs.front();
  fb.status_count = static_cast<uint16_t>(st.size());
  e.on_feedback(fb, st, now);
}

TEST(SendSideBandwidthEstimator, NumbersPacketsAndWraps) {
  SendSideBandwidthEstimator e;
  EXPECT_EQ(e.on_send(100, kSec), 1);
  EXPECT_EQ(e.on_send(100, kSec), 2);
  for (uint32_t i = 0; i < 65533; ++i) e.on_send(100, kSec);
  EXPECT_EQ(e.on_send(100, kSec), 0);  // 65535 was the last one
  EXPECT_EQ(e.on_send(100, kSec), 1);
}

TEST(SendSideBandwidthEstimator, GrowsOnCleanFeedbackUpToWhatWasDelivered) {
  SendSideBandwidthEstimator e(300'000);
  uint64_t now = kSec;
  feed_round(e, now, 10, 1200);  // 12000 bytes over 90 ms of arrivals
  EXPECT_EQ(e.feedbacks(), 1u);
  EXPECT_EQ(e.last_loss_fraction(), 0.0);
  EXPECT_EQ(e.delivered_bitrate_bps(), uint64_t{12000} * 8 * 1000000 / 90000);  // 1066666
  EXPECT_EQ(e.available_bitrate_bps(), 324'000u);                               // +8 %
  for (int i = 0; i < 50; ++i) feed_round(e, now, 10, 1200);
  // Growth stops at 1.5 x delivered + 100 kbps.
  EXPECT_EQ(e.available_bitrate_bps(), 1'066'666u * 3 / 2 + 100'000);
}

TEST(SendSideBandwidthEstimator, HighEstimateHoldsWhenTheSenderSendsLittle) {
  SendSideBandwidthEstimator e(2'000'000);
  uint64_t now = kSec;
  feed_round(e, now, 3, 200);  // 600 bytes over 20 ms: 240 kbps delivered
  EXPECT_EQ(e.delivered_bitrate_bps(), 240'000u);
  EXPECT_EQ(e.available_bitrate_bps(), 2'000'000u);
}

TEST(SendSideBandwidthEstimator, BurstUsesTheSendSpan) {
  SendSideBandwidthEstimator e(300'000);
  std::vector<uint16_t> seqs;
  for (uint64_t i = 0; i < 5; ++i) seqs.push_back(e.on_send(1000, kSec + i * 10 * kMs));
  // Arrivals bunched within 1 ms (a burst after a queue): the 40 ms send span is used.
  const auto st = statuses_for(seqs, 250);
  e.on_feedback({}, st, 2 * kSec);
  EXPECT_EQ(e.delivered_bitrate_bps(), uint64_t{5000} * 8 * 1000000 / 40000);  // 1 Mbps
}

TEST(SendSideBandwidthEstimator, CutsOnLossAndHoldsOnModerateLoss) {
  SendSideBandwidthEstimator e(1'000'000);
  uint64_t now = kSec;
  std::vector<bool> lost(10, false);
  lost[3] = lost[7] = true;
  feed_round(e, now, 10, 1200, lost);  // 20 %
  EXPECT_DOUBLE_EQ(e.last_loss_fraction(), 0.2);
  EXPECT_NEAR(static_cast<double>(e.available_bitrate_bps()), 900'000.0, 1.0);
  const uint64_t after_cut = e.available_bitrate_bps();

  std::vector<bool> some(20, false);
  some[5] = true;
  feed_round(e, now, 20, 1200, some);  // 5 %: neither cut nor grow
  EXPECT_DOUBLE_EQ(e.last_loss_fraction(), 0.05);
  EXPECT_EQ(e.available_bitrate_bps(), after_cut);
}

TEST(SendSideBandwidthEstimator, NeverBelowTheFloor) {
  SendSideBandwidthEstimator e(200'000);
  uint64_t now = kSec;
  const std::vector<bool> all(10, true);
  for (int i = 0; i < 20; ++i) feed_round(e, now, 10, 1200, all);
  EXPECT_EQ(e.last_loss_fraction(), 1.0);
  EXPECT_EQ(e.delivered_bitrate_bps(), 0u);
  EXPECT_EQ(e.available_bitrate_bps(), 50'000u);
}

TEST(SendSideBandwidthEstimator, RembCaps) {
  SendSideBandwidthEstimator e(1'000'000);
  e.on_remb(400'000);
  EXPECT_EQ(e.available_bitrate_bps(), 400'000u);
  uint64_t now = kSec;
  for (int i = 0; i < 10; ++i) feed_round(e, now, 10, 1200);
  EXPECT_EQ(e.available_bitrate_bps(), 400'000u);
  e.on_remb(10'000);  // below the floor: the floor wins
  EXPECT_EQ(e.available_bitrate_bps(), 50'000u);
  e.on_remb(5'000'000);  // a higher REMB lets it grow again, from where it is
  feed_round(e, now, 10, 1200);
  EXPECT_EQ(e.available_bitrate_bps(), 54'000u);
}

TEST(SendSideBandwidthEstimator, IgnoresUnknownPackets) {
  SendSideBandwidthEstimator e(500'000);
  const auto st = statuses_for({1000, 1001, 1002}, 10'000, {true, true, false});
  e.on_feedback({}, st, kSec);  // nothing with these numbers was sent
  EXPECT_EQ(e.feedbacks(), 1u);
  EXPECT_EQ(e.available_bitrate_bps(), 500'000u);
  EXPECT_EQ(e.last_loss_fraction(), 0.0);
}

TEST(SendSideBandwidthEstimator, EndToEndWithTheReceiver) {
  SendSideBandwidthEstimator e(300'000);
  TransportCcReceiver r;
  uint64_t now = 5 * kSec;
  std::vector<wire::TransportCcPacketStatus> statuses(TransportCcReceiver::kCapacity);
  for (int fb = 0; fb < 20; ++fb) {
    for (int i = 0; i < 20; ++i) {
      const uint16_t seq = e.on_send(1000, now);
      if (i != 7 || fb % 2 == 0) r.on_packet(seq, now + 30 * kMs);  // 5 % loss every other
      now += 5 * kMs;
    }
    uint8_t buf[1500];
    const size_t size = r.write_feedback(buf, sizeof(buf), 1, 2);
    ASSERT_GT(size, 0u);
    wire::TransportCcFeedback header;
    size_t count = 0;
    ASSERT_TRUE(wire::parse_rtcp_transport_cc(buf, size, header, statuses, count));
    e.on_feedback(header, std::span(statuses.data(), count), now);
  }
  EXPECT_EQ(e.feedbacks(), 20u);
  // The last feedback lost one: 19000 bytes over 95 ms of arrivals.
  EXPECT_EQ(e.delivered_bitrate_bps(), uint64_t{19000} * 8 * 1000000 / 95000);
  EXPECT_DOUBLE_EQ(e.last_loss_fraction(), 0.05);
  EXPECT_GT(e.available_bitrate_bps(), 300'000u);
  EXPECT_LE(e.available_bitrate_bps(), e.delivered_bitrate_bps() * 3 / 2 + 100'000);
}

}  // namespace
}  // namespace weir::dp
