#include "result_line.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace weir::pktgen {
namespace {

TEST(ResultLine, KeysInBenchmarksOrder) {
  FanoutResult r;
  r.suite = "AES_CM_128_HMAC_SHA1_80";
  r.consumers = 500;
  r.offered_pps = 100;
  r.duration_s = 10;
  r.sent = 1000;
  r.expected = 500000;
  r.forwarded = 499990;
  r.server_cpu_s = 1.23;
  r.latency_p50_us = 80;
  r.latency_p99_us = 400;
  r.server_rss_mb = 61;
  r.protect_ns = 850.4;
  r.git = "abc1234";
  EXPECT_EQ(format_fanout_line(r),
            "{\"scenario\":\"fanout\",\"mode\":\"uring\",\"suite\":\"AES_CM_128_HMAC_SHA1_80\","
            "\"producers\":1,\"consumers\":500,\"offered_pps\":100,\"duration_s\":10.0,"
            "\"sent\":1000,\"expected\":500000,\"forwarded\":499990,\"loss_pct\":0.002,"
            "\"server_cpu_s\":1.23,\"cpu_ns_per_fwd\":2460,\"latency_us\":{\"p50\":80,\"p99\":400},"
            "\"server_rss_mb\":61.0,\"protect_ns\":850,\"git\":\"abc1234\"}");
}

TEST(ResultLine, MemoryPerConsumerFromTheGrowthOverTheRun) {
  FanoutResult r;
  r.consumers = 5000;
  r.expected = 10;
  r.server_rss_mb = 94.0;
  EXPECT_FALSE(nlohmann::json::parse(format_fanout_line(r)).contains("server_kib_per_consumer"));
  r.server_rss_before_mb = 28.5;
  const auto j = nlohmann::json::parse(format_fanout_line(r));
  EXPECT_DOUBLE_EQ(j["server_kib_per_consumer"].get<double>(), 13.4);  // 65.5 MiB / 5000
  r.consumers = 0;
  EXPECT_FALSE(nlohmann::json::parse(format_fanout_line(r)).contains("server_kib_per_consumer"));
}

TEST(ResultLine, UnmeasuredServerFiguresAreNull) {
  FanoutResult r;
  r.expected = 10;
  r.forwarded = 0;
  const auto j = nlohmann::json::parse(format_fanout_line(r));
  EXPECT_TRUE(j["server_cpu_s"].is_null());
  EXPECT_TRUE(j["cpu_ns_per_fwd"].is_null());
  EXPECT_TRUE(j["server_rss_mb"].is_null());
  EXPECT_EQ(j["loss_pct"].get<double>(), 100.0);
}

TEST(ResultLine, MeetingKeysInOrder) {
  MeetingResult m;
  m.rooms = 2;
  m.peers = 3;
  m.audio_pps = 50;
  m.video_pps = 100;
  FanoutResult& r = m.figures;
  r.suite = "AEAD_AES_128_GCM";
  r.producers = 12;
  r.consumers = 24;
  r.offered_pps = 900;
  r.duration_s = 2;
  r.sent = 1800;
  r.expected = 3600;
  r.forwarded = 3600;
  r.server_cpu_s = 0.036;
  r.latency_p50_us = 90;
  r.latency_p99_us = 300;
  r.server_rss_mb = 20;
  r.protect_ns = 500;
  r.git = "abc1234";
  EXPECT_EQ(format_meeting_line(m),
            "{\"scenario\":\"meeting\",\"mode\":\"uring\",\"suite\":\"AEAD_AES_128_GCM\","
            "\"rooms\":2,\"peers\":3,\"producers\":12,\"consumers\":24,\"offered_pps\":900,"
            "\"audio_pps\":50,\"video_pps\":100,\"duration_s\":2.0,\"sent\":1800,"
            "\"expected\":3600,\"forwarded\":3600,\"loss_pct\":0.0,\"server_cpu_s\":0.036,"
            "\"cpu_ns_per_fwd\":10000,\"latency_us\":{\"p50\":90,\"p99\":300},"
            "\"server_rss_mb\":20.0,\"protect_ns\":500,\"git\":\"abc1234\"}");
}

TEST(ResultLine, LossPct) {
  EXPECT_DOUBLE_EQ(loss_pct(0, 0), 0.0);
  EXPECT_DOUBLE_EQ(loss_pct(1000, 999), 0.1);
  EXPECT_DOUBLE_EQ(loss_pct(1000, 1000), 0.0);
}

}  // namespace
}  // namespace weir::pktgen
