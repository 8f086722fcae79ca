#include "options.h"

#include <gtest/gtest.h>

#include <vector>

namespace weir::pktgen {
namespace {

bool parse(std::vector<const char*> args, Options& o, std::string& error) {
  args.insert(args.begin(), "pktgen");
  return parse_options(static_cast<int>(args.size()), args.data(), o, &error);
}

TEST(Options, Defaults) {
  Options o;
  std::string error;
  ASSERT_TRUE(parse({}, o, error));
  EXPECT_EQ(o.api, "https://127.0.0.1:4443");
  EXPECT_EQ(o.consumers, 100u);
  EXPECT_EQ(o.rate_pps, 100u);
  EXPECT_EQ(o.duration_s, 10);
  EXPECT_EQ(o.warmup_s, 2);
  EXPECT_EQ(o.payload_bytes, 1100u);
  EXPECT_EQ(o.suite, "AES_CM_128_HMAC_SHA1_80");
  EXPECT_EQ(o.mode, "uring");
  EXPECT_EQ(o.git, "unknown");
  EXPECT_EQ(o.verify_sample, 1u);
  EXPECT_FALSE(o.quiet);
}

TEST(Options, BothSpellingsOfValues) {
  Options o;
  std::string error;
  ASSERT_TRUE(parse(
      {"--consumers", "500", "--rate=50", "--suite", "AEAD_AES_128_GCM", "--server-pid=1234",
       "--duration", "2.5", "--git", "abc123", "--quiet", "--room", "r1", "--verify-sample", "4"},
      o, error))
      << error;
  EXPECT_EQ(o.consumers, 500u);
  EXPECT_EQ(o.rate_pps, 50u);
  EXPECT_EQ(o.suite, "AEAD_AES_128_GCM");
  EXPECT_EQ(o.server_pid, 1234);
  EXPECT_DOUBLE_EQ(o.duration_s, 2.5);
  EXPECT_EQ(o.git, "abc123");
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(o.room, "r1");
  EXPECT_EQ(o.verify_sample, 4u);
}

TEST(Options, RejectsBadInput) {
  const std::vector<std::vector<const char*>> bad = {{"--consumers", "0"},
                                                     {"--consumers", "12x"},
                                                     {"--rate", "-1"},
                                                     {"--suite", "ROT13"},
                                                     {"--mode", "xdp"},
                                                     {"--payload", "10"},
                                                     {"--duration", "abc"},
                                                     {"--frobnicate"},
                                                     {"--api"},
                                                     {"stray"},
                                                     {"--verify-sample", "0"}};
  for (const auto& args : bad) {
    Options o;
    std::string error;
    EXPECT_FALSE(parse(args, o, error)) << args[0];
    EXPECT_FALSE(error.empty());
  }
}

TEST(Options, WebRtcOptions) {
  Options o;
  std::string error;
  ASSERT_TRUE(parse({"--transport",
                     "webrtc",
                     "--consumers",
                     "20",
                     "--dtls-role=mixed",
                     "--consent-interval",
                     "0.5",
                     "--bad-fingerprint-consumers",
                     "3",
                     "--silent-consumers",
                     "1",
                     "--silence-at",
                     "2",
                     "--restart-ice",
                     "both",
                     "--restart-ice-at",
                     "1.5",
                     "--rtcp-interval",
                     "0",
                     "--report",
                     "/tmp/r.json"},
                    o, error))
      << error;
  EXPECT_EQ(o.transport, "webrtc");
  EXPECT_EQ(o.dtls_role, "mixed");
  EXPECT_DOUBLE_EQ(o.consent_interval_s, 0.5);
  EXPECT_EQ(o.bad_fingerprint_consumers, 3u);
  EXPECT_EQ(o.silent_consumers, 1u);
  EXPECT_DOUBLE_EQ(o.silence_at_s, 2);
  EXPECT_EQ(o.restart_ice, "both");
  EXPECT_DOUBLE_EQ(o.restart_ice_at_s, 1.5);
  EXPECT_DOUBLE_EQ(o.rtcp_interval_s, 0);
  EXPECT_EQ(o.report_path, "/tmp/r.json");
  Options d;
  ASSERT_TRUE(parse({}, d, error));
  EXPECT_EQ(d.transport, "plain");
  EXPECT_EQ(d.dtls_role, "client");
  EXPECT_DOUBLE_EQ(d.consent_interval_s, 3);
  EXPECT_TRUE(d.restart_ice.empty());
}

TEST(Options, RejectsOptionsThatDoNotGoTogether) {
  const std::vector<std::vector<const char*>> bad = {
      {"--dtls-role", "client"},  // webrtc-only, in plain mode
      {"--bad-fingerprint-consumers", "1"},
      {"--transport", "webrtc", "--suite", "none"},
      {"--transport", "webrtc", "--consumers", "4", "--bad-fingerprint-consumers", "2",
       "--silent-consumers", "2"},
      {"--transport", "webrtc", "--duration", "3", "--silent-consumers", "1", "--silence-at", "3"},
      {"--transport", "webrtc", "--duration", "3", "--restart-ice", "producer", "--restart-ice-at",
       "5"},
      {"--transport", "webrtc", "--restart-ice", "everyone"},
      {"--transport", "webrtc", "--dtls-role", "auto"},
      {"--transport", "quic"}};
  for (const auto& args : bad) {
    Options o;
    std::string error;
    EXPECT_FALSE(parse(args, o, error)) << args[0] << " " << args[1];
    EXPECT_FALSE(error.empty());
  }
}

TEST(Options, HelpMentionsEveryOption) {
  const std::string text = usage_text();
  for (const char* name : {"--api",
                           "--room",
                           "--consumers",
                           "--rate",
                           "--duration",
                           "--warmup",
                           "--payload",
                           "--suite",
                           "--server-pid",
                           "--local-ip",
                           "--mode",
                           "--git",
                           "--verify-sample",
                           "--quiet",
                           "--help",
                           "--transport",
                           "--report",
                           "--dtls-role",
                           "--consent-interval",
                           "--rtcp-interval",
                           "--bad-fingerprint-consumers",
                           "--silent-consumers",
                           "--silence-at",
                           "--restart-ice",
                           "--restart-ice-at"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

TEST(Options, MeetingOptions) {
  Options o;
  std::string error;
  ASSERT_TRUE(parse({"--scenario", "meeting", "--rooms", "10", "--peers=4", "--audio-rate", "25",
                     "--audio-payload", "120", "--rate", "50"},
                    o, error))
      << error;
  EXPECT_EQ(o.scenario, "meeting");
  EXPECT_EQ(o.rooms, 10u);
  EXPECT_EQ(o.peers, 4u);
  EXPECT_EQ(o.audio_rate_pps, 25u);
  EXPECT_EQ(o.audio_payload_bytes, 120u);
  EXPECT_EQ(o.rate_pps, 50u);
  Options d;
  ASSERT_TRUE(parse({"--scenario", "meeting"}, d, error)) << error;
  EXPECT_EQ(d.rooms, 1u);
  EXPECT_EQ(d.peers, 4u);
  EXPECT_EQ(d.audio_rate_pps, 50u);
  EXPECT_EQ(d.audio_payload_bytes, 160u);
  Options f;
  ASSERT_TRUE(parse({"--scenario=fanout", "--consumers", "3"}, f, error)) << error;
  EXPECT_EQ(f.scenario, "fanout");
}

TEST(Options, RejectsMeetingCombinations) {
  const std::vector<std::vector<const char*>> bad = {
      {"--rooms", "2"},  // meeting-only, in a fanout
      {"--peers", "3"},
      {"--audio-rate", "50"},
      {"--scenario", "conference"},
      {"--scenario", "meeting", "--peers", "1"},
      {"--scenario", "meeting", "--peers", "51"},
      {"--scenario", "meeting", "--rooms", "0"},
      {"--scenario", "meeting", "--rooms", "1000", "--peers", "11"},
      {"--scenario", "meeting", "--audio-payload", "19"},
      {"--scenario", "meeting", "--consumers", "10"},  // fanout-only, in a meeting
      {"--scenario", "meeting", "--report", "/tmp/r.json"},
      {"--scenario", "meeting", "--transport", "webrtc"}};
  for (const auto& args : bad) {
    Options o;
    std::string error;
    EXPECT_FALSE(parse(args, o, error)) << args[0] << " " << args[1];
    EXPECT_FALSE(error.empty());
  }
}

TEST(Options, DpdkOptions) {
  Options o;
  std::string error;
  ASSERT_TRUE(
      parse({"--mode", "dpdk", "--local-ip", "10.77.0.2", "--dpdk-eal-args",
             "--no-huge --no-pci -m 512 --vdev=net_memif0,role=client", "--dpdk-prefix-length=16",
             "--dpdk-mbufs", "8191", "--dpdk-queues", "2", "--consumers", "5000"},
            o, error))
      << error;
  EXPECT_EQ(o.mode, "dpdk");
  EXPECT_EQ(o.local_ip, "10.77.0.2");
  EXPECT_EQ(o.dpdk_eal_args, "--no-huge --no-pci -m 512 --vdev=net_memif0,role=client");
  EXPECT_EQ(o.dpdk_prefix_length, 16u);
  EXPECT_EQ(o.dpdk_mbufs, 8191u);
  EXPECT_EQ(o.dpdk_queues, 2u);
  Options d;
  ASSERT_TRUE(
      parse({"--mode", "dpdk", "--local-ip", "10.0.0.2", "--dpdk-eal-args", "--no-pci"}, d, error))
      << error;
  EXPECT_EQ(d.dpdk_prefix_length, 24u);
  EXPECT_EQ(d.dpdk_mbufs, 65535u);
  EXPECT_EQ(d.dpdk_queues, 1u);
  Options m;
  ASSERT_TRUE(parse({"--scenario", "meeting", "--rooms", "2", "--peers", "3", "--mode", "dpdk",
                     "--local-ip", "10.0.0.2", "--dpdk-eal-args", "--no-pci"},
                    m, error))
      << error;
  // WebRTC transports run over pktgen's DPDK port too.
  Options w;
  ASSERT_TRUE(parse({"--mode", "dpdk", "--local-ip", "10.0.0.2", "--dpdk-eal-args", "--no-pci",
                     "--transport", "webrtc"},
                    w, error))
      << error;
  EXPECT_EQ(w.transport, "webrtc");
}

TEST(Options, RejectsDpdkCombinations) {
  const std::vector<std::vector<const char*>> bad = {
      {"--dpdk-queues", "2"},  // DPDK-only, in uring mode
      {"--dpdk-eal-args", "--no-pci"},
      {"--mode", "dpdk", "--local-ip", "10.0.0.2"},       // no EAL arguments
      {"--mode", "dpdk", "--dpdk-eal-args", "--no-pci"},  // loopback --local-ip
      {"--mode", "dpdk", "--local-ip", "::1", "--dpdk-eal-args", "--no-pci"},
      {"--mode", "dpdk", "--local-ip", "10.0.0.2", "--dpdk-eal-args", "--no-pci", "--consumers",
       "50001"},
      {"--mode", "dpdk", "--local-ip", "10.0.0.2", "--dpdk-eal-args", "--no-pci", "--dpdk-queues",
       "0"},
      {"--mode", "dpdk", "--local-ip", "10.0.0.2", "--dpdk-eal-args", "--no-pci", "--dpdk-queues",
       "9"},
      {"--mode", "dpdk", "--local-ip", "10.0.0.2", "--dpdk-eal-args", "--no-pci",
       "--dpdk-prefix-length", "33"},
      {"--mode", "dpdk", "--local-ip", "10.0.0.2", "--dpdk-eal-args", "--no-pci", "--dpdk-mbufs",
       "100"},
      {"--mode", "dpdk", "--local-ip", "10.0.0.2", "--dpdk-eal-args", ""}};
  for (const auto& args : bad) {
    Options o;
    std::string error;
    EXPECT_FALSE(parse(args, o, error)) << args[0] << " " << args[1];
    EXPECT_FALSE(error.empty());
  }
}

TEST(Options, HelpMentionsTheDpdkOptions) {
  const std::string text = usage_text();
  for (const char* name :
       {"--dpdk-eal-args", "--dpdk-prefix-length", "--dpdk-mbufs", "--dpdk-queues", "dpdk"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

TEST(Options, HelpMentionsTheMeetingOptions) {
  const std::string text = usage_text();
  for (const char* name : {"--scenario", "--rooms", "--peers", "--audio-rate", "--audio-payload"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace weir::pktgen
