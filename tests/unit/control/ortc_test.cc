// ORTC against sessions recorded with real Chromium + mediasoup-client and a known-good
// SFU (mediasoup 3.27.1): weir must compute the same router capabilities and, from the
// same produce/join messages, the same consumer RtpParameters.
#include "control/ortc.h"

#include <gtest/gtest.h>

#include "control/control_error.h"
#include "control/rtp_validation.h"
#include "session_fixture.h"

namespace weir::control {
namespace {

using nlohmann::json;
using testing::RecordedSession;

// The README of the fixtures says the router had opus, VP8 and H264 42e01f, but the
// recorded getRouterRtpCapabilities answer holds the mediasoup-demo default list (opus,
// VP8, VP9 profile-id 2, H264 4d0032, H264 42e01f, PTs 100..108): that recording is the
// ground truth, so the tests configure that list.
json router_caps() { return generate_router_rtp_capabilities(default_media_codecs()); }

class RecordedSessionTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RecordedSessionTest, RouterCapabilitiesEqualTheRecordedAnswer) {
  RecordedSession session(GetParam());
  const auto answers = session.all("s2c-response", "getRouterRtpCapabilities");
  ASSERT_EQ(answers.size(), 2u);
  const json caps = router_caps();
  for (const auto& recorded : answers) {
    ASSERT_EQ(caps["codecs"].size(), recorded["codecs"].size());
    for (size_t i = 0; i < caps["codecs"].size(); ++i) {
      EXPECT_EQ(caps["codecs"][i], recorded["codecs"][i]) << "codec " << i;
    }
    EXPECT_EQ(caps["headerExtensions"], recorded["headerExtensions"]);
  }
}

// The consumer the SFU created for `consumer_peer` of the producer `produce` of the other
// peer: computed by weir, compared with the recorded newConsumer field by field.
void expect_consumer_like_recorded(const RecordedSession& session, const json& produce,
                                   const std::string& consumer_peer) {
  const json caps = router_caps();
  json params = produce["rtpParameters"];
  validate_rtp_parameters(params, "rtpParameters");
  const std::string kind = produce["kind"];
  validate_producer_rtp_parameters(params, kind, "rtpParameters");

  json join = session.first("c2s-request", "join", consumer_peer);
  json peer_caps = join["rtpCapabilities"];
  validate_rtp_capabilities(peer_caps, "rtpCapabilities");

  const RtpMapping mapping = get_producer_rtp_parameter_mapping(params, caps, 100000000);
  const json consumable = get_consumable_rtp_parameters(kind, params, caps, mapping);
  ASSERT_TRUE(can_consume(consumable, peer_caps));
  // The demo creates every consumer with enableRtx:true (NACK kept for opus too); the
  // recording shows it in the audio consumer's "nack" feedback.
  const uint32_t ssrc = 123456789;
  json actual = get_consumer_rtp_parameters(consumable, peer_caps, true, ssrc);

  json recorded;
  for (const auto& nc : session.all("s2c-request", "newConsumer", consumer_peer)) {
    if (nc["kind"] == kind) recorded = nc;
  }
  ASSERT_TRUE(recorded.is_object()) << "no recorded " << kind << " newConsumer";
  EXPECT_EQ(producer_type(params), recorded["type"]);
  const json& expected = recorded["rtpParameters"];

  EXPECT_EQ(actual["codecs"], expected["codecs"]);
  EXPECT_EQ(actual["headerExtensions"], expected["headerExtensions"]);
  EXPECT_EQ(actual["msid"], expected["msid"]);
  EXPECT_EQ(actual["rtcp"]["reducedSize"], expected["rtcp"]["reducedSize"]);
  // cname: mediasoup replaces every producer's cname with the transport's first one (a
  // simulcast producer may send ""); the room model does that, not ORTC, so only the
  // presence is compared. mid: a per-consumer-transport counter the room assigns (plain
  // consumers have none). ssrc: drawn at random per consumer.
  EXPECT_TRUE(actual["rtcp"]["cname"].is_string());
  EXPECT_FALSE(actual.contains("mid"));
  ASSERT_EQ(actual["encodings"].size(), 1u);
  ASSERT_EQ(expected["encodings"].size(), 1u);
  json actual_encoding = actual["encodings"][0];
  json expected_encoding = expected["encodings"][0];
  EXPECT_EQ(actual_encoding["ssrc"], ssrc);
  if (expected_encoding.contains("rtx")) {
    // RTX SSRC is the media SSRC + 1 in both.
    EXPECT_EQ(expected_encoding["rtx"]["ssrc"], expected_encoding["ssrc"].get<uint32_t>() + 1);
    EXPECT_EQ(actual_encoding["rtx"]["ssrc"], ssrc + 1);
  }
  for (json* e : {&actual_encoding, &expected_encoding}) {
    e->erase("ssrc");
    e->erase("rtx");
  }
  EXPECT_EQ(actual_encoding, expected_encoding);
  EXPECT_EQ(actual.contains("encodings") && actual["encodings"][0].contains("rtx"),
            expected["encodings"][0].contains("rtx"));
}

TEST_P(RecordedSessionTest, ConsumerParametersEqualTheRecordedNewConsumer) {
  RecordedSession session(GetParam());
  const auto peers = session.peers();
  ASSERT_EQ(peers.size(), 2u);
  for (int p = 0; p < 2; ++p) {
    const std::string producer_peer = peers[p];
    const std::string consumer_peer = peers[1 - p];
    const auto produces = session.all("c2s-request", "produce", producer_peer);
    ASSERT_EQ(produces.size(), 2u);
    for (const auto& produce : produces) {
      SCOPED_TRACE(producer_peer + " " + produce["kind"].get<std::string>());
      expect_consumer_like_recorded(session, produce, consumer_peer);
    }
  }
}

TEST_P(RecordedSessionTest, ProducerPayloadTypesMapToRouterPayloadTypes) {
  RecordedSession session(GetParam());
  const json caps = router_caps();
  for (const auto& produce : session.all("c2s-request", "produce")) {
    json params = produce["rtpParameters"];
    validate_rtp_parameters(params, "rtpParameters");
    const RtpMapping mapping = get_producer_rtp_parameter_mapping(params, caps, 500000000);
    ASSERT_EQ(mapping.codecs.size(), params["codecs"].size());
    for (const auto& m : mapping.codecs) {
      // Every mapped PT is a router PT whose codec matches the producer codec's mime.
      const json* producer_codec = nullptr;
      for (const auto& c : params["codecs"]) {
        if (c["payloadType"] == m.payload_type) producer_codec = &c;
      }
      ASSERT_NE(producer_codec, nullptr);
      bool found = false;
      for (const auto& rc : caps["codecs"]) {
        if (rc["preferredPayloadType"] == m.mapped_payload_type) {
          found = true;
          EXPECT_EQ(rc["mimeType"].get<std::string>().size(),
                    (*producer_codec)["mimeType"].get<std::string>().size());
        }
      }
      EXPECT_TRUE(found);
    }
    ASSERT_EQ(mapping.encodings.size(), params["encodings"].size());
    for (size_t i = 0; i < mapping.encodings.size(); ++i) {
      EXPECT_EQ(mapping.encodings[i].mapped_ssrc, 500000000u + i);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RealSessions, RecordedSessionTest,
                         ::testing::Values("vp8.jsonl", "h264.jsonl", "simulcast.jsonl"));

TEST(Ortc, Vp8AndH264MapToTheRecordedRouterPayloadTypes) {
  const json caps = router_caps();
  {
    RecordedSession s("vp8.jsonl");
    json video = s.all("c2s-request", "produce")[1]["rtpParameters"];
    validate_rtp_parameters(video, "p");
    const auto m = get_producer_rtp_parameter_mapping(video, caps, 1);
    ASSERT_EQ(m.codecs.size(), 2u);
    EXPECT_EQ(m.codecs[0].payload_type, 96);
    EXPECT_EQ(m.codecs[0].mapped_payload_type, 101);
    EXPECT_EQ(m.codecs[1].payload_type, 97);
    EXPECT_EQ(m.codecs[1].mapped_payload_type, 102);
  }
  {
    // Chromium's H264 Main 4d001f matches the router's Main 4d0032 (PT 105), not 42e01f.
    RecordedSession s("h264.jsonl");
    json video = s.all("c2s-request", "produce")[1]["rtpParameters"];
    validate_rtp_parameters(video, "p");
    const auto m = get_producer_rtp_parameter_mapping(video, caps, 1);
    ASSERT_EQ(m.codecs.size(), 2u);
    EXPECT_EQ(m.codecs[0].payload_type, 116);
    EXPECT_EQ(m.codecs[0].mapped_payload_type, 105);
    EXPECT_EQ(m.codecs[1].mapped_payload_type, 106);
  }
}

json simple_video_params(json codec_parameters) {
  json params = {{"codecs",
                  {{{"mimeType", "video/H264"},
                    {"payloadType", 96},
                    {"clockRate", 90000},
                    {"parameters", std::move(codec_parameters)}}}},
                 {"encodings", {{{"ssrc", 1111}}}}};
  validate_rtp_parameters(params, "rtpParameters");
  return params;
}

std::string refusal(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ControlError& e) {
    return std::to_string(e.http_status()) + " " + e.what();
  }
  return "no error";
}

TEST(Ortc, PacketizationModeAsStringNeverMatchesTheNumber) {
  const json caps = router_caps();
  const json as_number =
      simple_video_params({{"packetization-mode", 1}, {"profile-level-id", "42e01f"}});
  EXPECT_EQ(get_producer_rtp_parameter_mapping(as_number, caps, 1).codecs[0].mapped_payload_type,
            107);
  const json as_string =
      simple_video_params({{"packetization-mode", "1"}, {"profile-level-id", "42e01f"}});
  EXPECT_EQ(refusal([&] { get_producer_rtp_parameter_mapping(as_string, caps, 1); }),
            "500 unsupported codec [mimeType:video/H264, payloadType:96]");
}

TEST(Ortc, H264WithoutPacketizationModeOrWithOtherProfileIsUnsupported) {
  const json caps = router_caps();
  const json mode0 = simple_video_params({{"profile-level-id", "42e01f"}});
  EXPECT_EQ(refusal([&] { get_producer_rtp_parameter_mapping(mode0, caps, 1); }),
            "500 unsupported codec [mimeType:video/H264, payloadType:96]");
  const json high =
      simple_video_params({{"packetization-mode", 1}, {"profile-level-id", "640032"}});
  EXPECT_EQ(refusal([&] { get_producer_rtp_parameter_mapping(high, caps, 1); }),
            "500 unsupported codec [mimeType:video/H264, payloadType:96]");
}

TEST(Ortc, Vp9ProfileIdMustMatch) {
  const json caps = router_caps();
  json vp9 = {{"codecs", {{{"mimeType", "video/VP9"}, {"payloadType", 98}, {"clockRate", 90000}}}},
              {"encodings", {{{"ssrc", 5}}}}};
  validate_rtp_parameters(vp9, "p");
  // The router has only profile-id 2; a missing profile-id means 0.
  EXPECT_EQ(refusal([&] { get_producer_rtp_parameter_mapping(vp9, caps, 1); }),
            "500 unsupported codec [mimeType:video/VP9, payloadType:98]");
  vp9["codecs"][0]["parameters"]["profile-id"] = 2;
  EXPECT_EQ(get_producer_rtp_parameter_mapping(vp9, caps, 1).codecs[0].mapped_payload_type, 103);
}

TEST(Ortc, UnsupportedCodecAndRtxWithoutMedia) {
  const json caps = router_caps();
  json h265 = {
      {"codecs", {{{"mimeType", "video/H265"}, {"payloadType", 96}, {"clockRate", 90000}}}}};
  validate_rtp_parameters(h265, "p");
  EXPECT_EQ(refusal([&] { get_producer_rtp_parameter_mapping(h265, caps, 1); }),
            "500 unsupported codec [mimeType:video/H265, payloadType:96]");

  json rtx_alone = {{"codecs",
                     {{{"mimeType", "video/VP8"}, {"payloadType", 96}, {"clockRate", 90000}},
                      {{"mimeType", "video/rtx"},
                       {"payloadType", 97},
                       {"clockRate", 90000},
                       {"parameters", {{"apt", 120}}}}}}};
  validate_rtp_parameters(rtx_alone, "p");
  EXPECT_EQ(refusal([&] { get_producer_rtp_parameter_mapping(rtx_alone, caps, 1); }),
            "400 missing media codec found for RTX PT 97");

  // Opus has no RTX codec in the router.
  json opus_rtx = {
      {"codecs",
       {{{"mimeType", "audio/opus"}, {"payloadType", 111}, {"clockRate", 48000}, {"channels", 2}},
        {{"mimeType", "audio/rtx"},
         {"payloadType", 112},
         {"clockRate", 48000},
         {"parameters", {{"apt", 111}}}}}}};
  validate_rtp_parameters(opus_rtx, "p");
  EXPECT_EQ(refusal([&] { get_producer_rtp_parameter_mapping(opus_rtx, caps, 1); }),
            "500 no RTX codec for capability codec PT 100");
}

TEST(Ortc, ConsumerWithoutCompatibleCodecs) {
  const json caps = router_caps();
  RecordedSession s("vp8.jsonl");
  json video = s.all("c2s-request", "produce")[1]["rtpParameters"];
  validate_rtp_parameters(video, "p");
  const auto mapping = get_producer_rtp_parameter_mapping(video, caps, 1);
  const json consumable = get_consumable_rtp_parameters("video", video, caps, mapping);

  json h264_only = {{"codecs",
                     {{{"mimeType", "video/H264"},
                       {"preferredPayloadType", 107},
                       {"clockRate", 90000},
                       {"parameters", {{"packetization-mode", 1}, {"profile-level-id", "42e01f"}}}},
                      {{"mimeType", "video/rtx"},
                       {"preferredPayloadType", 102},
                       {"clockRate", 90000},
                       {"parameters", {{"apt", 101}}}}}}};
  validate_rtp_capabilities(h264_only, "rtpCapabilities");
  // Only the RTX codec matches: the first match is RTX, so nothing can be consumed.
  EXPECT_FALSE(can_consume(consumable, h264_only));
  EXPECT_EQ(refusal([&] { get_consumer_rtp_parameters(consumable, h264_only, true, 1); }),
            "500 no compatible media codecs");
}

TEST(Ortc, WithoutRtxPlainNackAndRtxCodecsAreDropped) {
  const json caps = router_caps();
  RecordedSession s("vp8.jsonl");
  json video = s.all("c2s-request", "produce")[1]["rtpParameters"];
  validate_rtp_parameters(video, "p");
  json peer_caps = s.first("c2s-request", "join")["rtpCapabilities"];
  validate_rtp_capabilities(peer_caps, "c");
  const auto mapping = get_producer_rtp_parameter_mapping(video, caps, 1);
  const json consumable = get_consumable_rtp_parameters("video", video, caps, mapping);
  const json consumer = get_consumer_rtp_parameters(consumable, peer_caps, false, 42);
  ASSERT_EQ(consumer["codecs"].size(), 1u);
  for (const auto& fb : consumer["codecs"][0]["rtcpFeedback"]) {
    EXPECT_FALSE(fb["type"] == "nack" && fb["parameter"] == "");
  }
  EXPECT_FALSE(consumer["encodings"][0].contains("rtx"));
}

TEST(Ortc, ConsumableParametersUseRouterIdsAndSendableExtensions) {
  const json caps = router_caps();
  json opus = {{"codecs",
                {{{"mimeType", "audio/opus"},
                  {"payloadType", 100},
                  {"clockRate", 48000},
                  {"channels", 2},
                  {"parameters", {{"sprop-stereo", 1}}}}}},
               {"encodings", {{{"ssrc", 1111}}}}};
  validate_rtp_parameters(opus, "p");
  const auto mapping = get_producer_rtp_parameter_mapping(opus, caps, 200000000);
  const json consumable = get_consumable_rtp_parameters("audio", opus, caps, mapping);
  EXPECT_EQ(consumable["codecs"][0]["parameters"]["sprop-stereo"], 1);
  EXPECT_EQ(consumable["encodings"][0]["ssrc"], 200000000);
  std::vector<int> ids;
  for (const auto& e : consumable["headerExtensions"]) ids.push_back(e["id"]);
  // audio: mid, abs-send-time, audio-level, abs-capture-time, playout-delay, packet-id;
  // not twcc, which is receive-only for audio.
  EXPECT_EQ(ids, (std::vector<int>{1, 4, 6, 10, 11, 12}));
}

TEST(Ortc, ProducerTypes) {
  auto type_of = [](json encodings, const char* mime) {
    json p = {{"codecs", {{{"mimeType", mime}, {"payloadType", 96}, {"clockRate", 90000}}}},
              {"encodings", std::move(encodings)}};
    validate_rtp_parameters(p, "p");
    return producer_type(p);
  };
  EXPECT_EQ(type_of({{{"ssrc", 1}}}, "video/VP8"), "simple");
  EXPECT_EQ(type_of({{{"ssrc", 1}, {"scalabilityMode", "L1T3"}}}, "video/VP8"), "simulcast");
  EXPECT_EQ(type_of({{{"ssrc", 1}, {"scalabilityMode", "L3T3_KEY"}}}, "video/VP9"), "svc");
  EXPECT_EQ(type_of({{{"rid", "a"}}, {{"rid", "b"}}}, "video/VP8"), "simulcast");
}

TEST(Ortc, ScalabilityModes) {
  EXPECT_EQ(parse_scalability_mode("L1T3").temporal_layers, 3);
  EXPECT_EQ(parse_scalability_mode("S3T3").spatial_layers, 3);
  EXPECT_TRUE(parse_scalability_mode("L3T3_KEY").ksvc);
  EXPECT_EQ(parse_scalability_mode("bogus").spatial_layers, 1);
  EXPECT_EQ(parse_scalability_mode("L12T3").spatial_layers, 12);
  EXPECT_EQ(parse_scalability_mode("L2T3h").temporal_layers, 3);  // a prefix is enough
  EXPECT_EQ(parse_scalability_mode("L0T3").temporal_layers, 1);   // layers start at 1
  EXPECT_EQ(parse_scalability_mode("L2X3").spatial_layers, 1);
  EXPECT_FALSE(parse_scalability_mode("L3T3_KE").ksvc);
}

TEST(Ortc, RouterCapabilityErrors) {
  EXPECT_EQ(refusal([] {
              generate_router_rtp_capabilities(
                  json::array({{{"mimeType", "video/H265"}, {"clockRate", 90000}}}));
            }),
            "500 media codec not supported [mimeType:video/H265]");
  EXPECT_EQ(
      refusal([] {
        generate_router_rtp_capabilities(json::array(
            {{{"mimeType", "audio/opus"},
              {"clockRate", 48000},
              {"channels", 2},
              {"preferredPayloadType", 100}},
             {{"mimeType", "video/VP8"}, {"clockRate", 90000}, {"preferredPayloadType", 100}}}));
      }),
      "400 duplicated codec.preferredPayloadType 100");
  // A static PT stays; the next dynamic PTs go on.
  const json caps = generate_router_rtp_capabilities(
      json::array({{{"mimeType", "audio/PCMU"}, {"clockRate", 8000}},
                   {{"mimeType", "video/AV1"}, {"clockRate", 90000}}}));
  EXPECT_EQ(caps["codecs"][0]["preferredPayloadType"], 0);
  EXPECT_EQ(caps["codecs"][1]["preferredPayloadType"], 100);
  EXPECT_EQ(caps["codecs"][2]["mimeType"], "video/rtx");
  EXPECT_EQ(caps["codecs"][2]["parameters"]["apt"], 100);
}

}  // namespace
}  // namespace weir::control
