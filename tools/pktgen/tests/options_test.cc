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
  EXPECT_EQ(o.api, "http://127.0.0.1:4443");
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
                                                     {"--mode", "dpdk"},
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

TEST(Options, HelpMentionsEveryOption) {
  const std::string text = usage_text();
  for (const char* name : {"--api", "--room", "--consumers", "--rate", "--duration", "--warmup",
                           "--payload", "--suite", "--server-pid", "--local-ip", "--mode", "--git",
                           "--verify-sample", "--quiet", "--help"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace weir::pktgen
