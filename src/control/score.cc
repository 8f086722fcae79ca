// Room: the periodic observers, read from the counters the worker writes. One timer step
// every 200 ms: simulcast layer changes (consumerLayersChanged) each step, the
// audio-level observer every 800 ms (activeSpeaker, as the demo's: one entry, threshold
// -80 dBov) and scores every second (producerScore, consumerScore, only on change).
#include "control/score.h"

#include <algorithm>
#include <cmath>

#include "base/log.h"
#include "control/room.h"
#include "control/webrtc_plumbing.h"

namespace weir::control {

using nlohmann::json;

namespace {

constexpr int kObserverStepMs = 200;
constexpr uint64_t kActiveSpeakerSteps = 4;  // 800 ms
constexpr uint64_t kScoreSteps = 5;          // 1 s
constexpr int kActiveSpeakerThresholdDbov = -80;

}  // namespace

int score_from_loss(double fraction) {
  if (fraction <= 0.02) return 10;
  if (fraction >= 0.25) return 0;
  return static_cast<int>(std::lround(10.0 * (1.0 - (fraction - 0.02) / 0.23)));
}

std::optional<ActiveSpeaker> loudest_speaker(const std::vector<AudioLevelReading>& readings,
                                             int threshold_dbov) {
  std::optional<ActiveSpeaker> loudest;
  for (const AudioLevelReading& r : readings) {
    if (r.packets == 0) continue;
    // The volume is minus the mean level.
    const int volume = -static_cast<int>(
        std::lround(static_cast<double>(r.level_sum) / static_cast<double>(r.packets)));
    if (volume <= threshold_dbov) continue;
    if (!loudest || volume > loudest->volume) loudest = ActiveSpeaker{r.peer_id, volume};
  }
  return loudest;
}

void Room::arm_observer_timer() {
  if (!plumbing_) return;  // no event loop: tests call observe_step() themselves
  if (!observer_timer_)
    observer_timer_ = std::make_unique<boost::asio::steady_timer>(plumbing_->io());
  observer_timer_->expires_after(std::chrono::milliseconds(kObserverStepMs));
  std::weak_ptr<bool> alive = alive_;
  observer_timer_->async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    observe_step();
    arm_observer_timer();
  });
}

void Room::observe_step() {
  ++observer_steps_;
  try {
    observe_layers();
    if (observer_steps_ % kActiveSpeakerSteps == 0) observe_active_speaker();
    if (observer_steps_ % kScoreSteps == 0) observe_scores();
  } catch (const std::exception& e) {
    LOG_ERROR("control", "room %s: observers: %s", id_.c_str(), e.what());
  }
}

void Room::observe_layers() {
  for (auto& [cid, consumer] : consumers_) {
    if (consumer->type != "simulcast") continue;
    const uint64_t layer = consumer->counters->current_spatial_layer.get();
    if (layer == consumer->last_layer) continue;
    consumer->last_layer = layer;
    auto owner = peers_.find(consumer->peer_id);
    if (owner == peers_.end()) continue;
    const Producer& producer = *producers_.at(consumer->producer_id);
    // The worker reports the spatial layer; temporal layers are all forwarded up to the
    // preferred one, so that is the one announced.
    const int temporal =
        std::min<int>(consumer->preferred_temporal_layer, producer.temporal_layers - 1);
    notify(*owner->second, "consumerLayersChanged",
           {{"consumerId", cid},
            {"spatialLayer", layer == 0 ? json(nullptr) : json(layer - 1)},
            {"temporalLayer", layer == 0 ? json(nullptr) : json(temporal)}});
  }
}

void Room::observe_scores() {
  for (auto& [pid, producer] : producers_) {
    const dp::ProducerCounters& c = *producer->counters;
    const uint64_t packets = c.packets.get(), lost = c.lost.get();
    const uint64_t received = packets - std::min(packets, producer->last_packets);
    const uint64_t newly_lost = lost - std::min(lost, producer->last_lost);
    producer->last_packets = packets;
    producer->last_lost = lost;
    const int stream_score = received + newly_lost == 0
                                 ? 0
                                 : score_from_loss(static_cast<double>(newly_lost) /
                                                   static_cast<double>(received + newly_lost));
    // A stream that sent nothing this second scores 0 (mediasoup's inactive stream).
    std::vector<int> scores;
    json entries = json::array();
    const json& encodings = producer->rtp_parameters["encodings"];
    const bool simulcast = encodings.size() > 1;
    const size_t n = simulcast ? std::min(encodings.size(), dp::kMaxSimulcastEncodings) : 1;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t total = simulcast ? c.encoding_packets[i].get() : packets;
      const uint64_t delta =
          simulcast ? total - std::min(total, producer->last_encoding_packets[i]) : received;
      if (simulcast) producer->last_encoding_packets[i] = total;
      const int s = delta > 0 ? stream_score : 0;
      scores.push_back(s);
      if (total == 0) continue;  // never seen: not a stream yet
      json entry = {{"encodingIdx", i}, {"score", s}};
      if (encodings[i].contains("ssrc")) entry["ssrc"] = encodings[i]["ssrc"];
      if (encodings[i].contains("rid")) entry["rid"] = encodings[i]["rid"];
      entries.push_back(std::move(entry));
    }
    if (scores == producer->scores) continue;
    producer->scores = std::move(scores);
    auto owner = peers_.find(producer->peer_id);
    // Nothing received yet: no stream to score (mediasoup lists only streams it has).
    if (owner != peers_.end() && !entries.empty()) {
      notify(*owner->second, "producerScore", {{"producerId", pid}, {"score", std::move(entries)}});
    }
  }
  for (auto& [cid, consumer] : consumers_) {
    // The endpoint's receiver reports: fraction lost of the last interval, 0..255.
    consumer->score = score_from_loss(
        static_cast<double>(consumer->counters->reported_fraction_lost.get()) / 256.0);
    if (!consumer->last_score.is_null()) notify_consumer_score(*consumer, false);
  }
}

void Room::observe_active_speaker() {
  std::vector<AudioLevelReading> readings;
  for (auto& [pid, producer] : producers_) {
    if (producer->kind != "audio") continue;
    const uint64_t sum = producer->counters->audio_level_sum.get();
    const uint64_t count = producer->counters->audio_level_packets.get();
    AudioLevelReading r{producer->peer_id, sum - std::min(sum, producer->last_level_sum),
                        count - std::min(count, producer->last_level_packets)};
    producer->last_level_sum = sum;
    producer->last_level_packets = count;
    if (!producer->paused) readings.push_back(std::move(r));  // mediasoup skips paused ones
  }
  const auto speaker = loudest_speaker(readings, kActiveSpeakerThresholdDbov);
  if (speaker) {
    // Every interval someone speaks, as mediasoup's "volumes" event; silence once.
    active_speaker_ = speaker->peer_id;
    notify_joined_except("", "activeSpeaker",
                         {{"peerId", speaker->peer_id}, {"volume", speaker->volume}});
  } else if (!active_speaker_.empty()) {
    active_speaker_.clear();
    notify_joined_except("", "activeSpeaker", {{"peerId", nullptr}});
  }
}

}  // namespace weir::control
