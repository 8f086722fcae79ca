// The observers' arithmetic: scores from loss, and the audio-level observer's choice.
#include "control/score.h"

#include <gtest/gtest.h>

namespace weir::control {
namespace {

TEST(Score, FromLoss) {
  EXPECT_EQ(score_from_loss(0.0), 10);
  EXPECT_EQ(score_from_loss(0.02), 10);
  EXPECT_EQ(score_from_loss(0.135), 5);
  EXPECT_EQ(score_from_loss(0.25), 0);
  EXPECT_EQ(score_from_loss(1.0), 0);
  EXPECT_GT(score_from_loss(0.05), score_from_loss(0.10));
}

TEST(ActiveSpeaker, LoudestAboveThreshold) {
  // Levels are -dBov: 30 means -30 dBov.
  std::vector<AudioLevelReading> readings = {
      {"quiet", 90 * 10, 10}, {"loud", 30 * 50, 50}, {"medium", 50 * 20, 20}, {"mute", 0, 0}};
  auto speaker = loudest_speaker(readings, -80);
  ASSERT_TRUE(speaker);
  EXPECT_EQ(speaker->peer_id, "loud");
  EXPECT_EQ(speaker->volume, -30);
  // Only below the threshold (or nothing received): silence.
  EXPECT_FALSE(loudest_speaker({{"quiet", 90 * 10, 10}, {"none", 0, 0}}, -80));
  EXPECT_FALSE(loudest_speaker({{"edge", 80, 1}}, -80));  // -80 is not above -80
  EXPECT_TRUE(loudest_speaker({{"edge", 79, 1}}, -80));
}

}  // namespace
}  // namespace weir::control
