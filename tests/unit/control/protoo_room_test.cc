// protoo rooms through the real Control on a real dataplane worker: the recorded real
// sessions (Chromium + mediasoup-client against mediasoup 3.27.1) replayed request by
// request, weir's answers and server-side requests compared with what the known-good SFU
// sent; the join/produce/consume order, pause-until-accepted consumers, peers leaving and
// being replaced, broadcasters as peers, and an error for each bad request.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <map>
#include <set>

#include "base/clock.h"
#include "control/control.h"
#include "control/ortc.h"
#include "dataplane/socket_address.h"
#include "dataplane/udp_engine.h"
#include "dataplane/worker.h"
#include "fake_peer_channel.h"
#include "session_fixture.h"
#include "wire/stun_message.h"

namespace weir::control {
namespace {

using nlohmann::json;
using testing::EventLog;
using testing::FakePeerChannel;
using testing::RecordedSession;

constexpr uint16_t kMinPort = 44000;
constexpr uint16_t kMaxPort = 44999;

class ProtooRoomTest : public ::testing::Test {
 protected:
  // The recorded SFU ran no bot; the bot has its own test.
  void SetUp() override {
    ControlConfig config;
    config.demo_bot = false;
    start(config);
  }
  void start(ControlConfig config) {
    dp::WorkerConfig wc;
    wc.pool_buffers = 8192;
    worker_ = std::make_unique<dp::Worker>(wc);
    std::string error;
    ASSERT_TRUE(worker_->start(&error)) << error;
    config.listen_ip = "127.0.0.1";
    config.rtc_min_port = kMinPort;
    config.rtc_max_port = kMaxPort;
    control_ = std::make_unique<Control>(config, std::vector<dp::Worker*>{worker_.get()}, &io_);
  }
  void TearDown() override {
    control_.reset();
    if (worker_) worker_->stop();
  }

  std::shared_ptr<FakePeerChannel> connect(const std::string& peer, const std::string& room = "r") {
    auto channel = std::make_shared<FakePeerChannel>(peer, &log_);
    ApiResult r = control_->peer_connected(room, peer, channel);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    channels_[peer] = channel;
    return channel;
  }
  ApiResult request(const std::string& peer, const std::string& method, const json& data = {},
                    const std::string& room = "r") {
    ApiResult result{0, nullptr, {}};
    int calls = 0;
    control_->peer_request(room, peer, channels_.at(peer).get(), method, data, [&](ApiResult r) {
      result = std::move(r);
      ++calls;
    });
    EXPECT_EQ(calls, 1) << method;
    return result;
  }
  json ok(const std::string& peer, const std::string& method, const json& data = {}) {
    ApiResult r = request(peer, method, data);
    EXPECT_EQ(r.status, 200) << method << ": " << r.body.dump();
    return r.body;
  }
  void expect_error(const ApiResult& r, int code, const std::string& reason) {
    EXPECT_EQ(r.status, code) << r.body.dump();
    EXPECT_EQ(r.body.value("errorReason", ""), reason);
  }
  // A peer with a sending and a receiving transport, joined with the router's caps.
  struct Joined {
    std::string send_transport, recv_transport;
  };
  // connectWebRtcTransport as mediasoup-client sends it (DTLS starts only once ICE has a
  // tuple, which never happens here).
  void connect_transport(const std::string& peer, const std::string& transport) {
    ok(peer, "connectWebRtcTransport",
       {{"transportId", transport},
        {"dtlsParameters",
         {{"role", "client"},
          {"fingerprints",
           {{{"algorithm", "sha-256"},
             {"value",
              "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:"
              "44:55:66:77:88:99"}}}}}}});
  }
  Joined join(const std::string& peer, const json& caps) {
    connect(peer);
    Joined j;
    j.send_transport =
        ok(peer, "createWebRtcTransport", {{"producing", true}, {"consuming", false}})["id"];
    connect_transport(peer, j.send_transport);
    j.recv_transport =
        ok(peer, "createWebRtcTransport", {{"producing", false}, {"consuming", true}})["id"];
    ok(peer, "join",
       {{"displayName", peer}, {"device", {{"name", "test"}}}, {"rtpCapabilities", caps}});
    return j;
  }
  size_t index_in_log(const std::string& entry) const {
    auto it = std::find(log_.begin(), log_.end(), entry);
    return it == log_.end() ? SIZE_MAX : static_cast<size_t>(it - log_.begin());
  }

  boost::asio::io_context io_;
  std::unique_ptr<dp::Worker> worker_;
  std::unique_ptr<Control> control_;
  std::map<std::string, std::shared_ptr<FakePeerChannel>> channels_;
  EventLog log_;
};

// What a browser sends in join: the router's codecs as mediasoup-client derives them.
json browser_caps() {
  json caps = generate_router_rtp_capabilities(default_media_codecs());
  for (auto& codec : caps["codecs"]) codec["parameters"].erase("x-google-start-bitrate");
  return caps;
}

json opus_produce(const std::string& transport, uint32_t ssrc = 1111) {
  return {{"transportId", transport},
          {"kind", "audio"},
          {"rtpParameters",
           {{"mid", "0"},
            {"codecs",
             {{{"mimeType", "audio/opus"},
               {"payloadType", 111},
               {"clockRate", 48000},
               {"channels", 2}}}},
            {"headerExtensions",
             {{{"uri", "urn:ietf:params:rtp-hdrext:sdes:mid"}, {"id", 4}},
              {{"uri", "urn:ietf:params:rtp-hdrext:ssrc-audio-level"}, {"id", 1}}}},
            {"encodings", {{{"ssrc", ssrc}}}},
            {"rtcp", {{"cname", "abc"}}}}},
          {"appData", {{"source", "mic"}}}};
}

// --- the recorded sessions, replayed -------------------------------------------------

class RecordedReplayTest : public ProtooRoomTest,
                           public ::testing::WithParamInterface<const char*> {};

// The recorded consumer parameters minus what each SFU draws itself (SSRCs).
json without_ssrcs(json params) {
  for (auto& e : params["encodings"]) {
    e.erase("ssrc");
    if (e.contains("rtx")) e["rtx"].erase("ssrc");
  }
  return params;
}

TEST_P(RecordedReplayTest, AnswersAndServerRequestsMatchTheRecording) {
  RecordedSession session(GetParam());
  const std::vector<std::string> peers = session.peers();
  ASSERT_EQ(peers.size(), 2u);
  const std::string a = peers[0], b = peers[1];

  // Replays one peer's requests up to its join; transport ids are mapped recorded -> ours.
  std::map<std::string, std::string> transport_ids;
  auto setup = [&](const std::string& peer) {
    connect(peer);
    EXPECT_EQ(channels_[peer]->notifications.at(0).method, "mediasoup-version");
    EXPECT_EQ(ok(peer, "getRouterRtpCapabilities"),
              session.first("s2c-response", "getRouterRtpCapabilities", peer));
    const auto creates = session.all("c2s-request", "createWebRtcTransport", peer);
    const auto recorded = session.all("s2c-response", "createWebRtcTransport", peer);
    ASSERT_EQ(creates.size(), 2u);
    for (size_t i = 0; i < creates.size(); ++i) {
      json answer = ok(peer, "createWebRtcTransport", creates[i]);
      ASSERT_TRUE(answer["id"].is_string());
      transport_ids[recorded[i]["id"]] = answer["id"];
      EXPECT_EQ(answer["iceParameters"]["iceLite"], true);
      EXPECT_EQ(answer["iceParameters"]["usernameFragment"].get<std::string>().size(),
                recorded[i]["iceParameters"]["usernameFragment"].get<std::string>().size());
      ASSERT_FALSE(answer["iceCandidates"].empty());
      for (const auto& c : answer["iceCandidates"]) {
        EXPECT_EQ(c["protocol"], "udp");  // no ICE-TCP: forceTcp or not
        EXPECT_EQ(c["ip"], "127.0.0.1");
        EXPECT_EQ(c["address"], "127.0.0.1");
      }
      EXPECT_EQ(answer["dtlsParameters"]["fingerprints"].back()["algorithm"], "sha-256");
      if (answer.contains("sctpParameters")) {
        EXPECT_EQ(answer["sctpParameters"]["port"], 5000);
      }
    }
    // The browser's DTLS parameters; a second connect is refused as mediasoup does.
    for (json connect : session.all("c2s-request", "connectWebRtcTransport", peer)) {
      connect["transportId"] = transport_ids.at(connect["transportId"]);
      EXPECT_EQ(ok(peer, "connectWebRtcTransport", connect), json::object());
      expect_error(request(peer, "connectWebRtcTransport", connect), 500,
                   "connect() already called");
    }
    json join = session.first("c2s-request", "join", peer);
    EXPECT_EQ(ok(peer, "join", join), session.first("s2c-response", "join", peer));
  };
  auto replay_produce = [&](const std::string& peer) {
    std::vector<std::string> ids;
    for (json produce : session.all("c2s-request", "produce", peer)) {
      produce["transportId"] = transport_ids.at(produce["transportId"]);
      json answer = ok(peer, "produce", produce);
      ids.push_back(answer["id"]);
    }
    for (json produce_data : session.all("c2s-request", "produceData", peer)) {
      produce_data["transportId"] = transport_ids.at(produce_data["transportId"]);
      ok(peer, "produceData", produce_data);
    }
    return ids;
  };
  // A's newConsumer requests compared with the recorded ones of the same kind.
  auto expect_consumers_like_recorded = [&](const std::string& consumer_peer,
                                            const std::string& producer_peer) {
    const auto recorded = session.all("s2c-request", "newConsumer", consumer_peer);
    const auto sent = channels_[consumer_peer]->requested("newConsumer");
    ASSERT_EQ(sent.size(), recorded.size());
    for (size_t i = 0; i < sent.size(); ++i) {
      const json& ours = sent[i]->data;
      const json& theirs = recorded[i];
      EXPECT_EQ(ours["peerId"], producer_peer);
      EXPECT_EQ(ours["kind"], theirs["kind"]);
      EXPECT_EQ(ours["type"], theirs["type"]);
      EXPECT_EQ(ours["appData"], theirs["appData"]);
      EXPECT_EQ(ours["producerPaused"], false);
      // Codecs, extensions, mid (a per-transport counter), cname (the transport's first
      // producer's), msid, scalabilityMode and maxBitrate: equal; SSRCs are drawn.
      EXPECT_EQ(without_ssrcs(ours["rtpParameters"]), without_ssrcs(theirs["rtpParameters"]))
          << ours["rtpParameters"].dump() << "\n"
          << theirs["rtpParameters"].dump();
      const json& enc = ours["rtpParameters"]["encodings"];
      ASSERT_EQ(enc.size(), 1u);
      EXPECT_TRUE(enc[0]["ssrc"].is_number_unsigned());
      if (enc[0].contains("rtx")) {
        EXPECT_EQ(enc[0]["rtx"]["ssrc"], enc[0]["ssrc"].get<uint32_t>() + 1);
      }
    }
    const auto recorded_data = session.all("s2c-request", "newDataConsumer", consumer_peer);
    const auto sent_data = channels_[consumer_peer]->requested("newDataConsumer");
    ASSERT_EQ(sent_data.size(), recorded_data.size());
    for (size_t i = 0; i < sent_data.size(); ++i) {
      for (const char* key : {"peerId", "sctpStreamParameters", "label", "protocol", "appData"}) {
        EXPECT_EQ(sent_data[i]->data[key], recorded_data[i][key]) << key;
      }
    }
  };

  setup(a);
  const std::vector<std::string> a_producers = replay_produce(a);
  setup(b);
  // B joined: A's producers offered to B before A hears of B (contract 3.2).
  expect_consumers_like_recorded(b, a);
  EXPECT_LT(index_in_log(b + " request newConsumer"), index_in_log(a + " notify newPeer"));
  EXPECT_LT(index_in_log(b + " request newDataConsumer"), index_in_log(a + " notify newPeer"));
  ASSERT_EQ(channels_[a]->notified("newPeer").size(), 1u);
  EXPECT_EQ(channels_[a]->notified("newPeer")[0], session.first("s2c-notify", "newPeer", a));

  // Created paused; resumed only once B accepted, then its score.
  const std::string b_audio_consumer = channels_[b]->requested("newConsumer")[0]->data["id"];
  EXPECT_EQ(ok(b, "getConsumerStats", {{"consumerId", b_audio_consumer}})[0]["paused"], true);
  channels_[b]->answer_all();
  EXPECT_EQ(ok(b, "getConsumerStats", {{"consumerId", b_audio_consumer}})[0]["paused"], false);
  const auto scores = channels_[b]->notified("consumerScore");
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_EQ(scores[0]["consumerId"], b_audio_consumer);
  EXPECT_TRUE(scores[0]["score"]["producerScores"].is_array());

  replay_produce(b);
  expect_consumers_like_recorded(a, b);
  channels_[a]->answer_all();

  // A's microphone muted and unmuted: B hears of its consumer's producer.
  ok(a, "pauseProducer", {{"producerId", a_producers[0]}});
  ASSERT_EQ(channels_[b]->notified("consumerPaused").size(), 1u);
  EXPECT_EQ(channels_[b]->notified("consumerPaused")[0]["consumerId"], b_audio_consumer);
  ok(a, "resumeProducer", {{"producerId", a_producers[0]}});
  ASSERT_EQ(channels_[b]->notified("consumerResumed").size(), 1u);

  // A leaves: peerClosed first, then its consumers and data consumers at B.
  std::set<std::string> b_consumers, b_data_consumers;
  for (const auto* r : channels_[b]->requested("newConsumer")) b_consumers.insert(r->data["id"]);
  for (const auto* r : channels_[b]->requested("newDataConsumer"))
    b_data_consumers.insert(r->data["id"]);
  const size_t before = channels_[b]->notifications.size();
  control_->peer_disconnected("r", a, channels_[a].get());
  std::vector<FakePeerChannel::Message> after(channels_[b]->notifications.begin() + before,
                                              channels_[b]->notifications.end());
  ASSERT_EQ(after.size(), 1 + b_consumers.size() + b_data_consumers.size());
  EXPECT_EQ(after[0].method, "peerClosed");
  EXPECT_EQ(after[0].data, json({{"peerId", a}}));
  std::set<std::string> closed, data_closed;
  for (size_t i = 1; i < after.size(); ++i) {
    if (after[i].method == "consumerClosed") closed.insert(after[i].data["consumerId"]);
    if (after[i].method == "dataConsumerClosed")
      data_closed.insert(after[i].data["dataConsumerId"]);
  }
  EXPECT_EQ(closed, b_consumers);
  EXPECT_EQ(data_closed, b_data_consumers);
  EXPECT_FALSE(channels_[a]->closed);  // it closed itself: not closed again
  EXPECT_EQ(control_->server_stats().body["rooms"], 1);
  control_->peer_disconnected("r", b, channels_[b].get());
  EXPECT_EQ(control_->server_stats().body["rooms"], 0);  // an empty room closes
  EXPECT_EQ(control_->server_stats().body["transports"], 0);
}

INSTANTIATE_TEST_SUITE_P(RealSessions, RecordedReplayTest,
                         ::testing::Values("vp8.jsonl", "h264.jsonl", "simulcast.jsonl"));

// --- flows -----------------------------------------------------------------------------

TEST_F(ProtooRoomTest, ConsumerRefusedByTheClientStaysPaused) {
  Joined a = join("a", browser_caps());
  const std::string p = ok("a", "produce", opus_produce(a.send_transport))["id"];
  join("b", browser_caps());
  auto requests = channels_["b"]->requested("newConsumer");
  ASSERT_EQ(requests.size(), 1u);
  const std::string c = requests[0]->data["id"];
  EXPECT_EQ(requests[0]->data["producerId"], p);
  channels_["b"]->answer(0, false, 403, "I do not want to consume");
  EXPECT_EQ(ok("b", "getConsumerStats", {{"consumerId", c}})[0]["paused"], true);
  EXPECT_TRUE(channels_["b"]->notified("consumerScore").empty());
}

TEST_F(ProtooRoomTest, NoConsumersWithoutCapabilitiesOrConsumingTransport) {
  Joined a = join("a", browser_caps());
  ok("a", "produce", opus_produce(a.send_transport));
  // b joined without rtpCapabilities (it will not consume).
  connect("b");
  ok("b", "createWebRtcTransport", {{"producing", false}, {"consuming", true}});
  ok("b", "join", {{"displayName", "b"}, {"device", json::object()}});
  EXPECT_TRUE(channels_["b"]->requested("newConsumer").empty());
  // c has capabilities but only a sending transport.
  connect("c");
  ok("c", "createWebRtcTransport", {{"producing", true}, {"consuming", false}});
  ok("c", "join", {{"displayName", "c"}, {"rtpCapabilities", browser_caps()}});
  EXPECT_TRUE(channels_["c"]->requested("newConsumer").empty());
  // The peers lists: everybody joined before, in the join answer of the next.
  connect("d");
  json peers = ok("d", "join", {{"displayName", "d"}})["peers"];
  std::set<std::string> ids;
  for (const auto& p : peers) ids.insert(p["id"]);
  EXPECT_EQ(ids, (std::set<std::string>{"a", "b", "c"}));
}

TEST_F(ProtooRoomTest, ProducerClosedClosesItsConsumers) {
  Joined a = join("a", browser_caps());
  join("b", browser_caps());
  const std::string p = ok("a", "produce", opus_produce(a.send_transport))["id"];
  auto requests = channels_["b"]->requested("newConsumer");
  ASSERT_EQ(requests.size(), 1u);  // produce after b joined: offered at once
  const std::string c = requests[0]->data["id"];
  EXPECT_EQ(requests[0]->data["appData"], json({{"source", "mic"}, {"peerId", "a"}}));
  channels_["b"]->answer_all();
  ok("a", "closeProducer", {{"producerId", p}});
  ASSERT_EQ(channels_["b"]->notified("consumerClosed").size(), 1u);
  EXPECT_EQ(channels_["b"]->notified("consumerClosed")[0]["consumerId"], c);
  expect_error(request("b", "getConsumerStats", {{"consumerId", c}}), 500,
               "consumer with id \"" + c + "\" not found");
}

TEST_F(ProtooRoomTest, ConsumerPauseIsLocalAndNotNotified) {
  Joined a = join("a", browser_caps());
  join("b", browser_caps());
  ok("a", "produce", opus_produce(a.send_transport));
  channels_["b"]->answer_all();
  const std::string c = channels_["b"]->requested("newConsumer")[0]->data["id"];
  ok("b", "pauseConsumer", {{"consumerId", c}});
  EXPECT_EQ(ok("b", "getConsumerStats", {{"consumerId", c}})[0]["paused"], true);
  ok("b", "resumeConsumer", {{"consumerId", c}});
  EXPECT_EQ(ok("b", "getConsumerStats", {{"consumerId", c}})[0]["paused"], false);
  EXPECT_TRUE(channels_["b"]->notified("consumerPaused").empty());
  ok("b", "setConsumerPriority", {{"consumerId", c}, {"priority", 3}});
  EXPECT_EQ(ok("b", "getConsumerStats", {{"consumerId", c}})[0]["priority"], 3);
  ok("b", "requestConsumerKeyFrame", {{"consumerId", c}});
  // Preferred layers of a simple consumer: accepted, nothing to choose.
  ok("b", "setConsumerPreferredLayers", {{"consumerId", c}, {"spatialLayer", 2}});
}

TEST_F(ProtooRoomTest, SimulcastPreferredLayersAreClamped) {
  RecordedSession session("simulcast.jsonl");
  Joined a = join("a", browser_caps());
  join("b", browser_caps());
  json produce;
  for (const json& p : session.all("c2s-request", "produce")) {
    if (p["kind"] == "video") produce = p;
  }
  produce["transportId"] = a.send_transport;
  ok("a", "produce", produce);
  auto requests = channels_["b"]->requested("newConsumer");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]->data["type"], "simulcast");
  EXPECT_EQ(requests[0]->data["rtpParameters"]["encodings"][0]["scalabilityMode"], "L3T3");
  const std::string c = requests[0]->data["id"];
  json stats = ok("b", "getConsumerStats", {{"consumerId", c}});
  EXPECT_EQ(stats[0]["preferredSpatialLayer"], 2);  // the highest by default
  EXPECT_EQ(stats[0]["spatialLayer"], nullptr);     // nothing forwarded yet
  ASSERT_EQ(stats.size(), 4u);                      // consumer + one item per encoding
  EXPECT_EQ(stats[3]["rid"], "r2");
  ok("b", "setConsumerPreferredLayers",
     {{"consumerId", c}, {"spatialLayer", 7}, {"temporalLayer", 9}});
  stats = ok("b", "getConsumerStats", {{"consumerId", c}});
  EXPECT_EQ(stats[0]["preferredSpatialLayer"], 2);
  EXPECT_EQ(stats[0]["preferredTemporalLayer"], 2);
  ok("b", "setConsumerPreferredLayers", {{"consumerId", c}, {"spatialLayer", 0}});
  stats = ok("b", "getConsumerStats", {{"consumerId", c}});
  EXPECT_EQ(stats[0]["preferredSpatialLayer"], 0);
  EXPECT_EQ(stats[0]["preferredTemporalLayer"], 2);  // no temporal layer given: the highest
  expect_error(request("b", "setConsumerPreferredLayers", {{"consumerId", c}}), 500,
               "missing field data.spatialLayer");
}

TEST_F(ProtooRoomTest, DuplicatePeerIdReplacesTheOldConnection) {
  join("a", browser_caps());
  join("b", browser_caps());
  auto old_channel = channels_["a"];
  auto fresh = connect("a");  // the same peerId again
  EXPECT_TRUE(old_channel->closed);
  ASSERT_EQ(channels_["b"]->notified("peerClosed").size(), 1u);
  EXPECT_EQ(channels_["b"]->notified("peerClosed")[0]["peerId"], "a");
  // The new connection is a fresh, not-yet-joined peer.
  expect_error(request("a", "produce", opus_produce("x")), 500, "Peer not yet joined");
  // The old connection's requests and close are ignored.
  int calls = 0;
  control_->peer_request("r", "a", old_channel.get(), "getRouterRtpCapabilities", {},
                         [&](ApiResult r) {
                           ++calls;
                           EXPECT_EQ(r.status, 500);
                         });
  EXPECT_EQ(calls, 1);
  control_->peer_disconnected("r", "a", old_channel.get());
  EXPECT_EQ(ok("a", "join", {{"displayName", "a again"}})["peers"].size(), 1u);
  // b joined after a (it saw a in its join answer): the new a is announced to it.
  ASSERT_EQ(channels_["b"]->notified("newPeer").size(), 1u);
  EXPECT_EQ(channels_["b"]->notified("newPeer")[0]["displayName"], "a again");
}

TEST_F(ProtooRoomTest, TheOnlyPeerReplacedKeepsTheRoom) {
  Joined a = join("a", browser_caps());
  ok("a", "produce", opus_produce(a.send_transport));
  connect("a");
  json stats = control_->server_stats().body;
  EXPECT_EQ(stats["rooms"], 1);
  EXPECT_EQ(stats["producers"], 0);  // the old peer's went with it
  EXPECT_EQ(stats["transports"], 0);
  ok("a", "join", {{"displayName", "a"}});
}

TEST_F(ProtooRoomTest, DisplayNameChangeIsAnnounced) {
  join("a", browser_caps());
  join("b", browser_caps());
  ok("a", "changeDisplayName", {{"displayName", "Alice"}});
  ASSERT_EQ(channels_["b"]->notified("peerDisplayNameChanged").size(), 1u);
  EXPECT_EQ(channels_["b"]->notified("peerDisplayNameChanged")[0],
            json({{"peerId", "a"}, {"displayName", "Alice"}, {"oldDisplayName", "a"}}));
  EXPECT_TRUE(channels_["a"]->notified("peerDisplayNameChanged").empty());
}

TEST_F(ProtooRoomTest, BroadcastersArePeers) {
  join("a", browser_caps());
  json body = {{"id", "bc"}, {"displayName", "Broadcaster"}, {"device", {{"name", "FFmpeg"}}}};
  ASSERT_EQ(control_->create_broadcaster("r", body).status, 200);
  ASSERT_EQ(channels_["a"]->notified("newPeer").size(), 1u);
  EXPECT_EQ(channels_["a"]->notified("newPeer")[0],
            json({{"id", "bc"},
                  {"displayName", "Broadcaster"},
                  {"device", {{"flag", "broadcaster"}, {"name", "FFmpeg"}}}}));
  const std::string t = control_->create_transport("r", "bc", {{"type", "plain"}}).body["id"];
  json produce = opus_produce(t);
  produce["rtpParameters"].erase("mid");
  ApiResult p = control_->create_producer("r", "bc", t, produce);
  ASSERT_EQ(p.status, 200) << p.body.dump();
  auto requests = channels_["a"]->requested("newConsumer");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]->data["peerId"], "bc");
  const std::string c = requests[0]->data["id"];
  // A peer joining later sees the broadcaster and consumes its producer.
  join("b", browser_caps());
  EXPECT_EQ(channels_["b"]->requested("newConsumer").size(), 1u);
  // Deleting the broadcaster: peerClosed, then its consumers close.
  EXPECT_EQ(control_->delete_broadcaster("r", "bc").status, 200);
  ASSERT_EQ(channels_["a"]->notified("peerClosed").size(), 1u);
  EXPECT_EQ(channels_["a"]->notified("peerClosed")[0]["peerId"], "bc");
  ASSERT_EQ(channels_["a"]->notified("consumerClosed").size(), 1u);
  EXPECT_EQ(channels_["a"]->notified("consumerClosed")[0]["consumerId"], c);
  EXPECT_LT(index_in_log("a notify peerClosed"), index_in_log("a notify consumerClosed"));
}

TEST_F(ProtooRoomTest, LastBroadcasterDeletedClosesTheRoom) {
  json body = {{"id", "bc"}, {"displayName", "Broadcaster"}, {"device", {{"name", "FFmpeg"}}}};
  ASSERT_EQ(control_->create_broadcaster("r", body).status, 200);
  EXPECT_EQ(control_->server_stats().body["rooms"], 1);
  EXPECT_EQ(control_->delete_broadcaster("r", "bc").status, 200);
  EXPECT_EQ(control_->server_stats().body["rooms"], 0);
}

TEST_F(ProtooRoomTest, ChatDataProducersReachEveryOtherPeer) {
  Joined a = join("a", browser_caps());
  join("b", browser_caps());
  join("c", browser_caps());
  json chat = {
      {"transportId", a.send_transport},
      {"sctpStreamParameters", {{"streamId", 0}, {"ordered", false}, {"maxRetransmits", 1}}},
      {"label", "chat"},
      {"protocol", ""},
      {"appData", {{"info", "my-chat-DataProducer"}}}};
  const std::string d = ok("a", "produceData", chat)["id"];
  for (const char* peer : {"b", "c"}) {
    auto requests = channels_[peer]->requested("newDataConsumer");
    ASSERT_EQ(requests.size(), 1u) << peer;
    EXPECT_EQ(requests[0]->data["dataProducerId"], d);
    EXPECT_EQ(requests[0]->data["peerId"], "a");
    EXPECT_EQ(requests[0]->data["sctpStreamParameters"],
              json({{"streamId", 0}, {"ordered", false}, {"maxRetransmits", 1}}));
  }
  EXPECT_TRUE(channels_["a"]->requested("newDataConsumer").empty());
  // bot: consumed by nobody (weir runs no server bot); a second chat gets stream id 1.
  json bot = chat;
  bot["label"] = "bot";
  bot["sctpStreamParameters"] = {{"streamId", 1}, {"ordered", false}, {"maxPacketLifeTime", 2000}};
  ok("a", "produceData", bot);
  EXPECT_EQ(channels_["b"]->requested("newDataConsumer").size(), 1u);
  json chat2 = chat;
  chat2["sctpStreamParameters"] = {{"streamId", 2}};
  ok("a", "produceData", chat2);
  auto requests = channels_["b"]->requested("newDataConsumer");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1]->data["sctpStreamParameters"], json({{"streamId", 1}, {"ordered", true}}));
  // A late joiner gets both chats (not the bot).
  join("d", browser_caps());
  EXPECT_EQ(channels_["d"]->requested("newDataConsumer").size(), 2u);
  json stats = ok("a", "getDataProducerStats", {{"dataProducerId", d}});
  ASSERT_TRUE(stats.is_array());
  EXPECT_EQ(stats[0]["type"], "data-producer");
  EXPECT_EQ(stats[0]["label"], "chat");
  const std::string dc = channels_["b"]->requested("newDataConsumer")[0]->data["id"];
  EXPECT_EQ(ok("b", "getDataConsumerStats", {{"dataConsumerId", dc}})[0]["type"], "data-consumer");
  // a leaves: its data consumers at the others close.
  control_->peer_disconnected("r", "a", channels_["a"].get());
  EXPECT_EQ(channels_["b"]->notified("dataConsumerClosed").size(), 2u);
}

class ProtooBotTest : public ProtooRoomTest {
 protected:
  void SetUp() override { start(ControlConfig{}); }
};

// Contract 3.2 step 4: after the other peers' data producers, the bot's (peerId null),
// before newPeer; a peer's "bot" data producer is consumed by nobody else.
TEST_F(ProtooBotTest, JoinedPeersConsumeTheBot) {
  Joined a = join("a", browser_caps());
  auto a_requests = channels_["a"]->requested("newDataConsumer");
  ASSERT_EQ(a_requests.size(), 1u);
  EXPECT_EQ(a_requests[0]->data["peerId"], nullptr);
  EXPECT_EQ(a_requests[0]->data["label"], "bot");
  EXPECT_EQ(a_requests[0]->data["sctpStreamParameters"],
            json({{"streamId", 0}, {"ordered", true}}));
  json chat = {{"transportId", a.send_transport},
               {"sctpStreamParameters", {{"streamId", 0}}},
               {"label", "chat"}};
  ok("a", "produceData", chat);
  chat["label"] = "bot";
  chat["sctpStreamParameters"] = {{"streamId", 1}};
  ok("a", "produceData", chat);
  join("b", browser_caps());
  auto b_requests = channels_["b"]->requested("newDataConsumer");
  ASSERT_EQ(b_requests.size(), 2u);
  EXPECT_EQ(b_requests[0]->data["label"], "chat");
  EXPECT_EQ(b_requests[1]->data["peerId"], nullptr);
  EXPECT_EQ(b_requests[1]->data["sctpStreamParameters"]["streamId"], 1);
  EXPECT_LT(index_in_log("b request newDataConsumer"), index_in_log("a notify newPeer"));
  // The bot stays while peers come and go; the room still closes when they are gone.
  control_->peer_disconnected("r", "a", channels_["a"].get());
  EXPECT_TRUE(channels_["b"]->notified("dataConsumerClosed").size() == 1u);
  control_->peer_disconnected("r", "b", channels_["b"].get());
  EXPECT_EQ(control_->server_stats().body["rooms"], 0);
}

// --- errors ----------------------------------------------------------------------------

TEST_F(ProtooRoomTest, ErrorsForBadRequests) {
  connect("a");
  const std::string t =
      ok("a", "createWebRtcTransport", {{"producing", true}, {"consuming", false}})["id"];
  // Before join.
  for (const char* method :
       {"produce", "closeProducer", "pauseProducer", "resumeProducer", "pauseConsumer",
        "resumeConsumer", "setConsumerPreferredLayers", "setConsumerPriority",
        "requestConsumerKeyFrame", "produceData", "changeDisplayName"}) {
    expect_error(request("a", method, {{"transportId", t}}), 500, "Peer not yet joined");
  }
  // Transports and stats need no join.
  EXPECT_TRUE(ok("a", "getTransportStats", {{"transportId", t}}).is_array());
  ok("a", "join", {{"displayName", "a"}, {"rtpCapabilities", browser_caps()}});
  expect_error(request("a", "join", {{"displayName", "a"}}), 500, "Peer already joined");
  expect_error(request("a", "nope"), 500, "unknown request.method \"nope\"");
  expect_error(request("a", "applyNetworkThrottle", {{"secret", "x"}}), 403,
               "operation not allowed: weir has no network throttle");
  expect_error(request("a", "resetNetworkThrottle"), 403,
               "operation not allowed: weir has no network throttle");

  // Unknown ids.
  expect_error(request("a", "produce", opus_produce("nope")), 500,
               "transport with id \"nope\" not found");
  expect_error(request("a", "connectWebRtcTransport", {{"transportId", "nope"}}), 500,
               "transport with id \"nope\" not found");
  expect_error(request("a", "restartIce", {{"transportId", "nope"}}), 500,
               "transport with id \"nope\" not found");
  expect_error(request("a", "getTransportStats", {{"transportId", "nope"}}), 500,
               "transport with id \"nope\" not found");
  for (const char* method :
       {"closeProducer", "pauseProducer", "resumeProducer", "getProducerStats"}) {
    expect_error(request("a", method, {{"producerId", "nope"}}), 500,
                 "producer with id \"nope\" not found");
  }
  for (const char* method : {"pauseConsumer", "resumeConsumer", "setConsumerPriority",
                             "requestConsumerKeyFrame", "getConsumerStats"}) {
    expect_error(request("a", method, {{"consumerId", "nope"}}), 500,
                 "consumer with id \"nope\" not found");
  }
  expect_error(request("a", "getDataProducerStats", {{"dataProducerId", "nope"}}), 500,
               "dataProducer with id \"nope\" not found");
  expect_error(request("a", "getDataConsumerStats", {{"dataConsumerId", "nope"}}), 500,
               "dataConsumer with id \"nope\" not found");
  expect_error(request("a", "closeProducer"), 500, "missing field data.producerId");

  // Another peer's transport is not found either.
  connect("b");
  expect_error(request("b", "getTransportStats", {{"transportId", t}}), 500,
               "transport with id \"" + t + "\" not found");

  // Produce and produceData before connectWebRtcTransport.
  const std::string not_connected =
      "transport with id \"" + t + "\" is not connected (connectWebRtcTransport first)";
  expect_error(request("a", "produce", opus_produce(t)), 500, not_connected);
  expect_error(request("a", "produceData",
                       {{"transportId", t},
                        {"label", "chat"},
                        {"sctpStreamParameters", {{"streamId", 0}}}}),
               500, not_connected);
  connect_transport("a", t);

  // Bad rtpParameters.
  json bad = opus_produce(t);
  bad["rtpParameters"]["codecs"][0]["payloadType"] = "111";
  expect_error(request("a", "produce", bad), 500,
               "invalid field data.rtpParameters.codecs[0].payloadType (must be an integer)");
  bad = opus_produce(t);
  bad["rtpParameters"]["codecs"][0]["mimeType"] = "audio/G729";
  expect_error(request("a", "produce", bad), 500,
               "unsupported codec [mimeType:audio/G729, payloadType:111]");
  bad = opus_produce(t);
  bad["rtpParameters"]["encodings"] = {{{"dtx", false}}};
  bad["rtpParameters"].erase("mid");
  expect_error(request("a", "produce", bad), 500,
               "missing field data.rtpParameters.encodings[0].ssrc (or rid)");
  bad = opus_produce(t);
  bad["kind"] = "video";
  expect_error(request("a", "produce", bad), 500,
               "invalid field data.rtpParameters.codecs[0].mimeType (not a video codec)");
  // One encoding, no ssrc, a MID: routed by MID, allowed.
  json by_mid = opus_produce(t);
  by_mid["rtpParameters"]["encodings"] = {{{"dtx", false}}};
  ok("a", "produce", by_mid);
  ok("a", "produce", opus_produce(t, 2222));

  // Bad sctpStreamParameters.
  auto produce_data = [&](json stream) {
    return request(
        "a", "produceData",
        {{"transportId", t}, {"label", "chat"}, {"sctpStreamParameters", std::move(stream)}});
  };
  expect_error(produce_data({{"ordered", false}}), 500,
               "missing field data.sctpStreamParameters.streamId");
  expect_error(produce_data({{"streamId", "0"}}), 500,
               "invalid field data.sctpStreamParameters.streamId (must be an integer)");
  expect_error(produce_data({{"streamId", 0}, {"maxPacketLifeTime", 10}, {"maxRetransmits", 1}}),
               500,
               "invalid field data.sctpStreamParameters (maxPacketLifeTime and maxRetransmits "
               "are mutually exclusive)");
  expect_error(produce_data({{"streamId", 0}, {"ordered", true}, {"maxRetransmits", 1}}), 500,
               "invalid field data.sctpStreamParameters.ordered (ordered with "
               "maxPacketLifeTime or maxRetransmits)");
  expect_error(request("a", "produceData", {{"transportId", t}, {"label", "chat"}}), 500,
               "missing field data.sctpStreamParameters");
  ok("a", "produceData", {{"transportId", t}, {"sctpStreamParameters", {{"streamId", 5}}}});
  expect_error(produce_data({{"streamId", 5}}), 500, "streamId 5 already in use");

  // Bad createWebRtcTransport / consumer requests.
  expect_error(request("a", "createWebRtcTransport",
                       {{"sctpCapabilities", {{"numStreams", {{"OS", 1024}}}}}}),
               500, "missing field data.sctpCapabilities.numStreams.MIS");
  expect_error(request("a", "setConsumerPriority", {{"consumerId", "nope"}, {"priority", 0}}), 500,
               "consumer with id \"nope\" not found");
  // Requests for an unknown room or from an unknown peer.
  int calls = 0;
  control_->peer_request("other", "a", channels_["a"].get(), "join", {}, [&](ApiResult r) {
    ++calls;
    EXPECT_EQ(r.status, 500);
  });
  EXPECT_EQ(calls, 1);
}

// One ICE check with USE-CANDIDATE from a UDP socket: the transport becomes connected.
void send_ice_check(int fd, const json& transport) {
  const json& candidate = transport["iceCandidates"][0];
  const auto to = *dp::SocketAddress::parse(candidate["ip"].get<std::string>(),
                                            candidate["port"].get<uint16_t>());
  uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  uint8_t msg[256];
  wire::StunWriter w(msg, sizeof msg, wire::kStunMethodBinding, wire::StunClass::request, tid);
  w.add_username(transport["iceParameters"]["usernameFragment"].get<std::string>() + ":peer");
  w.add_priority(1845501695);
  w.add_ice_controlling(0x1122334455667788ull);
  w.add_use_candidate();
  w.add_message_integrity(transport["iceParameters"]["password"].get<std::string>());
  w.add_fingerprint();
  ::sendto(fd, msg, w.size(), 0, to.sockaddr_ptr(), to.length());
}

class ProtooConsentTest : public ProtooRoomTest {
 protected:
  void SetUp() override {
    ControlConfig config;
    config.ice_consent_timeout_ms = 300;
    start(config);
  }
};

// DEMO policy: a transport whose ICE consent is lost (disconnected) closes its peer.
TEST_F(ProtooConsentTest, IceDisconnectedClosesThePeer) {
  connect("a");
  const json t = ok("a", "createWebRtcTransport", {{"producing", true}, {"consuming", false}});
  ok("a", "join", {{"displayName", "a"}});
  join("b", browser_caps());
  const int fd = dp::open_udp_socket(*dp::SocketAddress::parse("127.0.0.1", 0), nullptr);
  ASSERT_GE(fd, 0);
  send_ice_check(fd, t);
  const uint64_t deadline = weir::now_ns() + 5'000'000'000ull;
  bool connected = false;
  while (!channels_["a"]->closed && weir::now_ns() < deadline) {
    io_.run_for(std::chrono::milliseconds(20));
    if (!connected) {
      json stats = ok("a", "getTransportStats", {{"transportId", t["id"]}});
      connected = stats[0]["iceState"] != "new";
    }
  }
  ::close(fd);
  EXPECT_TRUE(connected);
  ASSERT_TRUE(channels_["a"]->closed);
  ASSERT_EQ(channels_["b"]->notified("peerClosed").size(), 1u);
  EXPECT_EQ(channels_["b"]->notified("peerClosed")[0]["peerId"], "a");
  EXPECT_EQ(control_->server_stats().body["transports"], 2);  // b's two
  // b's transports are idle too, but never connected: "new" is not a loss.
  EXPECT_FALSE(channels_["b"]->closed);
}

TEST_F(ProtooRoomTest, PriorityBelowOneIsRefused) {
  Joined a = join("a", browser_caps());
  join("b", browser_caps());
  ok("a", "produce", opus_produce(a.send_transport));
  const std::string c = channels_["b"]->requested("newConsumer")[0]->data["id"];
  expect_error(request("b", "setConsumerPriority", {{"consumerId", c}, {"priority", 0}}), 500,
               "invalid field data.priority (must be in 1..255)");
  expect_error(request("b", "setConsumerPriority", {{"consumerId", c}, {"priority", -1}}), 500,
               "invalid field data.priority (must be in 1..255)");
}

TEST_F(ProtooRoomTest, PendingNewConsumerOfALeavingPeerIsHarmless) {
  Joined a = join("a", browser_caps());
  ok("a", "produce", opus_produce(a.send_transport));
  join("b", browser_caps());
  ASSERT_EQ(channels_["b"]->requested("newConsumer").size(), 1u);
  // b leaves before answering; its answer arrives afterwards.
  control_->peer_disconnected("r", "b", channels_["b"].get());
  channels_["b"]->answer_all();
  EXPECT_EQ(control_->server_stats().body["consumers"], 0);
  // a's producer closing must not notify the gone peer.
  EXPECT_TRUE(channels_["b"]->notified("consumerClosed").empty());
}

}  // namespace
}  // namespace weir::control
