#include "control/h264_profile_level_id.h"

#include <gtest/gtest.h>

namespace weir::control {
namespace {

TEST(H264ProfileLevelId, ParsesTheProfilesBrowsersOffer) {
  auto cb = parse_h264_profile_level_id("42e01f");
  ASSERT_TRUE(cb);
  EXPECT_EQ(cb->profile, H264Profile::constrained_baseline);
  EXPECT_EQ(cb->level, 31);
  EXPECT_EQ(parse_h264_profile_level_id("42001f")->profile, H264Profile::baseline);
  EXPECT_EQ(parse_h264_profile_level_id("4d0032")->profile, H264Profile::main);
  EXPECT_EQ(parse_h264_profile_level_id("4D001F")->profile, H264Profile::main);
  EXPECT_EQ(parse_h264_profile_level_id("640032")->profile, H264Profile::high);
  EXPECT_EQ(parse_h264_profile_level_id("640c1f")->profile, H264Profile::constrained_high);
  EXPECT_EQ(parse_h264_profile_level_id("f4001f")->profile, H264Profile::predictive_high_444);
  // constraint_set3 with level 11 is level 1b.
  EXPECT_EQ(parse_h264_profile_level_id("42f00b")->level, 0);
}

TEST(H264ProfileLevelId, RefusesMalformedText) {
  EXPECT_FALSE(parse_h264_profile_level_id(""));
  EXPECT_FALSE(parse_h264_profile_level_id("42e01"));
  EXPECT_FALSE(parse_h264_profile_level_id("42e01fff"));
  EXPECT_FALSE(parse_h264_profile_level_id("42e0zz"));
  EXPECT_FALSE(parse_h264_profile_level_id("000000"));
  EXPECT_FALSE(parse_h264_profile_level_id("42e0ff"));  // no level 255
  EXPECT_FALSE(parse_h264_profile_level_id("ff001f"));  // no profile 0xff
}

TEST(H264ProfileLevelId, SameProfileIgnoresLevelAndDefaultsTo42e01f) {
  using nlohmann::json;
  EXPECT_TRUE(
      h264_is_same_profile({{"profile-level-id", "4d0032"}}, {{"profile-level-id", "4d001f"}}));
  EXPECT_FALSE(
      h264_is_same_profile({{"profile-level-id", "4d0032"}}, {{"profile-level-id", "42e01f"}}));
  EXPECT_TRUE(h264_is_same_profile(json::object(), {{"profile-level-id", "42e01f"}}));
  EXPECT_FALSE(
      h264_is_same_profile({{"profile-level-id", 0x42e01f}}, {{"profile-level-id", "42e01f"}}));
}

}  // namespace
}  // namespace weir::control
