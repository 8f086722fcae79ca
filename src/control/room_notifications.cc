// Room: what peers are told. Broadcasters have no channel and hear nothing.
#include "base/log.h"
#include "control/room.h"

namespace weir::control {

using nlohmann::json;

void Room::notify(const Peer& peer, const char* method, json data) {
  if (!peer.channel) return;
  peer.channel->notify(method, std::move(data));
}

void Room::notify_joined_except(const std::string& except_peer_id, const char* method,
                                const json& data) {
  // Copies: a channel may close (and the room change) inside notify in a test double.
  std::vector<std::shared_ptr<PeerChannel>> channels;
  for (const auto& [pid, peer] : peers_) {
    if (pid != except_peer_id && peer->joined && peer->channel) channels.push_back(peer->channel);
  }
  for (const auto& channel : channels) channel->notify(method, data);
}

void Room::notify_consumer_score(Consumer& consumer, bool always) {
  auto p = producers_.find(consumer.producer_id);
  auto owner = peers_.find(consumer.peer_id);
  if (p == producers_.end() || owner == peers_.end()) return;
  const Producer& producer = *p->second;
  json producer_scores = json::array();
  for (int i = 0; i < producer.spatial_layers && producer.type == "simulcast"; ++i) {
    producer_scores.push_back(static_cast<size_t>(i) < producer.scores.size() ? producer.scores[i]
                                                                              : 0);
  }
  if (producer.type != "simulcast") {
    producer_scores.push_back(producer.scores.empty() ? 0 : producer.scores[0]);
  }
  // The producer's score is that of the stream this consumer forwards now.
  int producer_score = 0;
  if (producer.type == "simulcast") {
    const uint64_t layer = consumer.counters->current_spatial_layer.get();
    if (layer > 0 && layer - 1 < producer.scores.size())
      producer_score = producer.scores[layer - 1];
  } else if (!producer.scores.empty()) {
    producer_score = producer.scores[0];
  }
  json score = {{"score", consumer.score},
                {"producerScore", producer_score},
                {"producerScores", std::move(producer_scores)}};
  if (!always && score == consumer.last_score) return;
  consumer.last_score = score;
  notify(*owner->second, "consumerScore",
         {{"consumerId", consumer.id}, {"score", std::move(score)}});
}

}  // namespace weir::control
