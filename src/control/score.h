// The observers' arithmetic, pure so it can be tested without a worker: stream scores
// from loss and the audio-level observer's choice of the active speaker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace weir::control {

// 0..10 from the fraction of packets lost in an interval (0..1): up to 2 % loss is
// perfect, and the score falls linearly to 0 at 25 % (where video is unwatchable).
int score_from_loss(double fraction);

// One audio producer over an interval: the growth of its ssrc-audio-level counters.
struct AudioLevelReading {
  std::string peer_id;
  uint64_t level_sum = 0;  // of RFC 6464 levels (-dBov, 0 loudest, 127 silence)
  uint64_t packets = 0;    // that carried a level
};
struct ActiveSpeaker {
  std::string peer_id;
  int volume;  // dBov, -127..0
};
// The loudest reading above threshold_dbov (mediasoup's AudioLevelObserver with one
// entry); nullopt: silence.
std::optional<ActiveSpeaker> loudest_speaker(const std::vector<AudioLevelReading>& readings,
                                             int threshold_dbov);

}  // namespace weir::control
