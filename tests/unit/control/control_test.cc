// The room model behind the broadcaster API, with a real dataplane worker on loopback:
// every answer and every 400/404/500 of the API table, and media actually forwarded from a
// producer's transport to a consumer's.
#include "control/control.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/base64.h"
#include "control/ortc.h"
#include "dataplane/worker.h"
#include "loopback_media.h"

namespace weir::control {
namespace {

using nlohmann::json;

constexpr uint16_t kMinPort = 43000;
constexpr uint16_t kMaxPort = 43999;

json broadcaster_body(const std::string& id, json caps = nullptr) {
  json body = {{"id", id}, {"displayName", "Broadcaster " + id}, {"device", {{"name", "FFmpeg"}}}};
  if (!caps.is_null()) body["rtpCapabilities"] = std::move(caps);
  return body;
}

// What a browser joined with: the router's own codecs and extensions, as mediasoup-client
// derives them. Enough for a plain consumer.
json consumer_caps() {
  json caps = generate_router_rtp_capabilities(default_media_codecs());
  for (auto& codec : caps["codecs"]) codec["parameters"].erase("x-google-start-bitrate");
  return caps;
}

json opus_producer_body(uint32_t ssrc = 1111) {
  return {{"kind", "audio"},
          {"rtpParameters",
           {{"codecs",
             {{{"mimeType", "audio/opus"},
               {"payloadType", 111},
               {"clockRate", 48000},
               {"channels", 2},
               {"parameters", {{"sprop-stereo", 1}}}}}},
            {"encodings", {{{"ssrc", ssrc}}}}}}};
}

json vp8_producer_body(uint32_t ssrc = 2222) {
  return {{"kind", "video"},
          {"rtpParameters",
           {{"codecs",
             {{{"mimeType", "video/vp8"}, {"payloadType", 96}, {"clockRate", 90000}},
              {{"mimeType", "video/rtx"},
               {"payloadType", 97},
               {"clockRate", 90000},
               {"parameters", {{"apt", 96}}}}}},
            {"encodings", {{{"ssrc", ssrc}, {"rtx", {{"ssrc", ssrc + 1}}}}}}}}};
}

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    worker_ = std::make_unique<dp::Worker>(dp::WorkerConfig{});
    std::string error;
    ASSERT_TRUE(worker_->start(&error)) << error;
    ControlConfig config;
    config.listen_ip = "127.0.0.1";
    config.rtc_min_port = kMinPort;
    config.rtc_max_port = kMaxPort;
    control_ = std::make_unique<Control>(config, std::vector<dp::Worker*>{worker_.get()});
  }

  void TearDown() override {
    control_.reset();  // removes everything from the worker first
    if (worker_) worker_->stop();
  }

  // A broadcaster with one transport; returns the transport answer.
  json transport(const std::string& bid, json body = {{"type", "plain"}}) {
    ApiResult r = control_->create_transport("r", bid, body);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body;
  }

  void expect_error(const ApiResult& r, int status, const std::string& reason) {
    EXPECT_EQ(r.status, status) << r.body.dump();
    EXPECT_EQ(r.body.value("errorReason", ""), reason);
  }

  std::unique_ptr<dp::Worker> worker_;
  std::unique_ptr<Control> control_;
};

TEST_F(ControlTest, GetRoomAnswersTheRouterCapabilities) {
  ApiResult r = control_->get_room("r");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, generate_router_rtp_capabilities(default_media_codecs()));
  EXPECT_EQ(r.body["codecs"][1]["preferredPayloadType"], 101);
  EXPECT_EQ(control_->server_stats().body["rooms"], 1);
}

TEST_F(ControlTest, CreateBroadcasterNamesTheBadField) {
  expect_error(
      control_->create_broadcaster("r", {{"displayName", "x"}, {"device", {{"name", "n"}}}}), 400,
      "missing field body.id");
  expect_error(control_->create_broadcaster("r", {{"id", "b"}, {"device", {{"name", "n"}}}}), 400,
               "missing field body.displayName");
  expect_error(control_->create_broadcaster(
                   "r", {{"id", "b"}, {"displayName", "x"}, {"device", json::object()}}),
               400, "missing field body.device.name");
  expect_error(control_->create_broadcaster(
                   "r", {{"id", 7}, {"displayName", "x"}, {"device", {{"name", "n"}}}}),
               400, "invalid field body.id (must be a string)");
  expect_error(
      control_->create_broadcaster("r", {{"id", "b"}, {"displayName", "x"}, {"device", "n"}}), 400,
      "invalid field body.device (must be an object)");
  expect_error(control_->create_broadcaster(
                   "r", broadcaster_body("b", {{"codecs", {{{"mimeType", "audio/opus"}}}}})),
               400, "missing field body.rtpCapabilities.codecs[0].clockRate");
  expect_error(control_->create_broadcaster("r", json::array()), 400,
               "invalid field body (must be an object)");

  ApiResult ok = control_->create_broadcaster("r", broadcaster_body("b"));
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, json({{"peers", json::array()}}));
  expect_error(control_->create_broadcaster("r", broadcaster_body("b")), 500,
               "broadcaster with id \"b\" already exists");
  // The same id in another room is another broadcaster.
  EXPECT_EQ(control_->create_broadcaster("other", broadcaster_body("b")).status, 200);
}

TEST_F(ControlTest, PlainTransportAnswersPortsInRangeAndRtcpPortOnlyWithoutMux) {
  ASSERT_EQ(control_->create_broadcaster("r", broadcaster_body("b")).status, 200);
  json t = transport("b", {{"type", "plain"}, {"comedia", true}, {"rtcpMux", false}});
  EXPECT_EQ(t["ip"], "127.0.0.1");
  EXPECT_EQ(t["id"].get<std::string>().size(), 36u);
  EXPECT_EQ(t["id"].get<std::string>()[14], '4');  // UUID version 4
  for (const char* key : {"port", "rtcpPort"}) {
    ASSERT_TRUE(t.contains(key)) << key;
    EXPECT_GE(t[key].get<int>(), kMinPort);
    EXPECT_LE(t[key].get<int>(), kMaxPort);
  }
  EXPECT_NE(t["port"], t["rtcpPort"]);
  EXPECT_FALSE(t.contains("srtpParameters"));

  json muxed = transport("b", {{"type", "plain"}, {"rtcpMux", true}});
  EXPECT_FALSE(muxed.contains("rtcpPort"));
  EXPECT_NE(muxed["port"], t["port"]);

  json stats = control_->transport_stats("r", t["id"]).body;
  ASSERT_TRUE(stats.is_array());
  EXPECT_EQ(stats[0]["type"], "plain-rtp-transport");
  EXPECT_EQ(stats[0]["tuple"]["localPort"], t["port"]);
  EXPECT_EQ(stats[0]["rtcpTuple"]["localPort"], t["rtcpPort"]);
  EXPECT_EQ(stats[0]["dropped"]["srtpAuthFailed"], 0);
  EXPECT_FALSE(control_->transport_stats("r", muxed["id"]).body[0].contains("rtcpTuple"));
  EXPECT_EQ(control_->server_stats().body["transports"], 2);
}

TEST_F(ControlTest, TransportBodyErrors) {
  expect_error(control_->create_transport("r", "nobody", {{"type", "plain"}}), 404,
               "broadcaster \"nobody\" not found");
  ASSERT_EQ(control_->create_broadcaster("r", broadcaster_body("b")).status, 200);
  // This Control has no event loop to run ICE and DTLS on.
  expect_error(control_->create_transport("r", "b", {{"type", "webrtc"}}), 500,
               "this server runs no WebRTC (no control event loop)");
  expect_error(control_->create_transport("r", "b", json::object()), 400,
               "missing field body.type");
  expect_error(control_->create_transport("r", "b", {{"type", "tcp"}}), 400,
               "invalid field body.type (must be \"plain\" or \"webrtc\")");
  expect_error(control_->create_transport("r", "b", {{"type", "plain"}, {"comedia", "yes"}}), 400,
               "invalid field body.comedia (must be a boolean)");
  expect_error(control_->create_transport("r", "b", {{"type", "plain"}, {"port", 70000}}), 400,
               "invalid field body.port (must be in 1..65535)");
  expect_error(control_->create_transport("r", "b", {{"type", "plain"}, {"listenIp", "localhost"}}),
               400, "invalid field body.listenIp (not an IP address)");
  expect_error(
      control_->create_transport(
          "r", "b", {{"type", "plain"}, {"enableSrtp", true}, {"srtpCryptoSuite", "ROT13"}}),
      400, "invalid field body.srtpCryptoSuite (unknown crypto suite \"ROT13\")");
  EXPECT_EQ(control_->server_stats().body["transports"], 0);
}

TEST_F(ControlTest, SrtpKeysHaveTheSuiteLengthAndDiffer) {
  ASSERT_EQ(control_->create_broadcaster("r", broadcaster_body("b")).status, 200);
  json a = transport("b", {{"type", "plain"}, {"enableSrtp", true}});
  json b = transport("b", {{"type", "plain"}, {"enableSrtp", true}});
  json gcm = transport(
      "b", {{"type", "plain"}, {"enableSrtp", true}, {"srtpCryptoSuite", "AEAD_AES_128_GCM"}});
  EXPECT_EQ(a["srtpParameters"]["cryptoSuite"], "AES_CM_128_HMAC_SHA1_80");
  auto key_a = base64_decode(a["srtpParameters"]["keyBase64"].get<std::string>());
  auto key_b = base64_decode(b["srtpParameters"]["keyBase64"].get<std::string>());
  auto key_gcm = base64_decode(gcm["srtpParameters"]["keyBase64"].get<std::string>());
  ASSERT_TRUE(key_a && key_b && key_gcm);
  EXPECT_EQ(key_a->size(), 30u);
  EXPECT_EQ(key_gcm->size(), 28u);
  EXPECT_EQ(gcm["srtpParameters"]["cryptoSuite"], "AEAD_AES_128_GCM");
  EXPECT_NE(*key_a, *key_b);
  EXPECT_EQ(control_->transport_stats("r", a["id"]).body[0]["srtpCryptoSuite"],
            "AES_CM_128_HMAC_SHA1_80");
}

TEST_F(ControlTest, ConnectRules) {
  ASSERT_EQ(control_->create_broadcaster("r", broadcaster_body("b")).status, 200);
  const std::string plain = transport("b", {{"type", "plain"}, {"comedia", false}})["id"];
  expect_error(control_->connect_transport("r", "b", plain, json::object()), 400,
               "missing field body.ip");
  expect_error(control_->connect_transport("r", "b", plain, {{"ip", "127.0.0.1"}}), 400,
               "missing field body.port");
  expect_error(
      control_->connect_transport("r", "b", plain, {{"ip", "127.0.0.1"}, {"port", "5000"}}), 400,
      "invalid field body.port (must be an integer)");
  expect_error(control_->connect_transport("r", "b", plain, {{"ip", "nowhere"}, {"port", 5000}}),
               400, "invalid field body.ip (not an IP address)");
  expect_error(
      control_->connect_transport(
          "r", "b", plain,
          {{"ip", "127.0.0.1"}, {"port", 5000}, {"srtpParameters", {{"cryptoSuite", "x"}}}}),
      400, "invalid field body.srtpParameters (SRTP is not enabled on this transport)");
  ApiResult ok = control_->connect_transport(
      "r", "b", plain, {{"ip", "127.0.0.1"}, {"port", 5000}, {"rtcpPort", 5001}});
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, json::object());
  expect_error(control_->connect_transport("r", "b", plain, {{"ip", "127.0.0.1"}, {"port", 5000}}),
               500, "connect() already called");
  json stats = control_->transport_stats("r", plain).body[0];
  EXPECT_EQ(stats["tuple"]["remotePort"], 5000);
  EXPECT_EQ(stats["rtcpTuple"]["remotePort"], 5001);

  const std::string comedia = transport("b", {{"type", "plain"}})["id"];
  expect_error(
      control_->connect_transport("r", "b", comedia, {{"ip", "127.0.0.1"}, {"port", 5000}}), 400,
      "invalid field body.ip (not allowed with comedia: the remote is learned from its packets)");
  expect_error(control_->connect_transport("r", "b", "nope", json::object()), 404,
               "transport \"nope\" not found");
  expect_error(control_->connect_transport("r", "nobody", comedia, json::object()), 404,
               "broadcaster \"nobody\" not found");
}

TEST_F(ControlTest, SrtpConnectChecksSuiteAndKey) {
  ASSERT_EQ(control_->create_broadcaster("r", broadcaster_body("b")).status, 200);
  const std::string t = transport("b", {{"type", "plain"}, {"enableSrtp", true}})["id"];
  const std::vector<uint8_t> key30(30, 7), key28(28, 7);
  const std::string good = base64_encode(key30);
  expect_error(control_->connect_transport("r", "b", t, json::object()), 400,
               "missing field body.srtpParameters");
  expect_error(control_->connect_transport(
                   "r", "b", t, {{"srtpParameters", {{"cryptoSuite", "AES_CM_128_HMAC_SHA1_80"}}}}),
               400, "missing field body.srtpParameters.keyBase64");
  expect_error(
      control_->connect_transport(
          "r", "b", t,
          {{"srtpParameters", {{"cryptoSuite", "AEAD_AES_128_GCM"}, {"keyBase64", good}}}}),
      400,
      "invalid field body.srtpParameters.cryptoSuite (must be \"AES_CM_128_HMAC_SHA1_80\", the "
      "transport's suite)");
  expect_error(control_->connect_transport(
                   "r", "b", t,
                   {{"srtpParameters",
                     {{"cryptoSuite", "AES_CM_128_HMAC_SHA1_80"}, {"keyBase64", "%%%%"}}}}),
               400, "invalid field body.srtpParameters.keyBase64 (not base64)");
  expect_error(
      control_->connect_transport(
          "r", "b", t,
          {{"srtpParameters",
            {{"cryptoSuite", "AES_CM_128_HMAC_SHA1_80"}, {"keyBase64", base64_encode(key28)}}}}),
      400, "invalid field body.srtpParameters.keyBase64 (must decode to 30 bytes, got 28)");
  ApiResult ok = control_->connect_transport(
      "r", "b", t,
      {{"srtpParameters", {{"cryptoSuite", "AES_CM_128_HMAC_SHA1_80"}, {"keyBase64", good}}}});
  EXPECT_EQ(ok.status, 200) << ok.body.dump();
}

TEST_F(ControlTest, ProducerErrors) {
  ASSERT_EQ(control_->create_broadcaster("r", broadcaster_body("b")).status, 200);
  const std::string t = transport("b")["id"];
  json simulcast = vp8_producer_body();
  simulcast["rtpParameters"]["encodings"] = {{{"rid", "r0"}}, {{"rid", "r1"}}};
  // Simulcast by RID needs the rtp-stream-id extension to tell the encodings apart.
  expect_error(control_->create_producer("r", "b", t, simulcast), 400,
               "invalid field body.rtpParameters.encodings[0].rid (the rtp-stream-id header "
               "extension is not negotiated)");
  json no_ssrc = opus_producer_body();
  no_ssrc["rtpParameters"].erase("encodings");
  expect_error(control_->create_producer("r", "b", t, no_ssrc), 400,
               "missing field body.rtpParameters.encodings[0].ssrc (or rid)");
  json h265 = vp8_producer_body();
  h265["rtpParameters"]["codecs"][0]["mimeType"] = "video/H265";
  expect_error(control_->create_producer("r", "b", t, h265), 500,
               "unsupported codec [mimeType:video/H265, payloadType:96]");
  json pt_string = opus_producer_body();
  pt_string["rtpParameters"]["codecs"][0]["payloadType"] = "111";
  expect_error(control_->create_producer("r", "b", t, pt_string), 400,
               "invalid field body.rtpParameters.codecs[0].payloadType (must be an integer)");
  json bad_kind = opus_producer_body();
  bad_kind["kind"] = "data";
  expect_error(control_->create_producer("r", "b", t, bad_kind), 400,
               "invalid field body.kind (must be \"audio\" or \"video\")");
  expect_error(control_->create_producer("r", "b", t, {{"kind", "audio"}}), 400,
               "missing field body.rtpParameters");
  expect_error(control_->create_producer("r", "b", "nope", opus_producer_body()), 404,
               "transport \"nope\" not found");
  EXPECT_EQ(control_->server_stats().body["producers"], 0);
}

TEST_F(ControlTest, ProduceConsumePauseAndDelete) {
  ASSERT_EQ(control_->create_broadcaster("r", broadcaster_body("sender")).status, 200);
  const std::string audio_t = transport("sender")["id"];
  const std::string video_t = transport("sender")["id"];
  ApiResult audio = control_->create_producer("r", "sender", audio_t, opus_producer_body());
  ApiResult video = control_->create_producer("r", "sender", video_t, vp8_producer_body());
  ASSERT_EQ(audio.status, 200) << audio.body.dump();
  ASSERT_EQ(video.status, 200) << video.body.dump();
  const std::string audio_p = audio.body["id"], video_p = video.body["id"];

  // A broadcaster without rtpCapabilities cannot consume.
  const std::string sender_t = transport("sender")["id"];
  expect_error(control_->consume("r", "sender", sender_t, audio_p), 500,
               "broadcaster does not have rtpCapabilities");

  // A broadcaster with capabilities sees the sender and what it can consume of it.
  ApiResult joined =
      control_->create_broadcaster("r", broadcaster_body("receiver", consumer_caps()));
  ASSERT_EQ(joined.status, 200);
  ASSERT_EQ(joined.body["peers"].size(), 1u);
  EXPECT_EQ(joined.body["peers"][0]["id"], "sender");
  EXPECT_EQ(joined.body["peers"][0]["device"], json({{"flag", "broadcaster"}, {"name", "FFmpeg"}}));
  EXPECT_EQ(joined.body["peers"][0]["producers"].size(), 2u);

  const std::string recv_t =
      transport("receiver", {{"type", "plain"}, {"comedia", false}, {"rtcpMux", true}})["id"];
  expect_error(control_->consume("r", "receiver", recv_t, ""), 400,
               "missing field query.producerId");
  expect_error(control_->consume("r", "receiver", recv_t, "nope"), 404,
               "producer \"nope\" not found");
  ApiResult c = control_->consume("r", "receiver", recv_t, video_p);
  ASSERT_EQ(c.status, 200) << c.body.dump();
  EXPECT_EQ(c.body["producerId"], video_p);
  EXPECT_EQ(c.body["kind"], "video");
  EXPECT_EQ(c.body["type"], "simple");
  const json& rp = c.body["rtpParameters"];
  EXPECT_EQ(rp["codecs"][0]["mimeType"], "video/VP8");
  EXPECT_EQ(rp["codecs"][0]["payloadType"], 101);
  EXPECT_EQ(rp["codecs"][1]["mimeType"], "video/rtx");
  EXPECT_EQ(rp["codecs"][1]["parameters"]["apt"], 101);
  const uint32_t ssrc = rp["encodings"][0]["ssrc"];
  EXPECT_GE(ssrc, 100000000u);
  EXPECT_LE(ssrc, 999999999u);
  EXPECT_EQ(rp["encodings"][0]["rtx"]["ssrc"], ssrc + 1);
  EXPECT_EQ(rp["rtcp"]["cname"].get<std::string>().size(), 8u);  // generated: ffmpeg gave none
  EXPECT_FALSE(rp.contains("mid"));
  for (const auto& ext : rp["headerExtensions"])
    EXPECT_NE(ext["uri"], "urn:ietf:params:rtp-hdrext:sdes:mid");

  ApiResult ca = control_->consume("r", "receiver", recv_t, audio_p, {{"paused", true}});
  ASSERT_EQ(ca.status, 200);
  const std::string audio_c = ca.body["id"], video_c = c.body["id"];
  EXPECT_EQ(ca.body["rtpParameters"]["codecs"][0]["parameters"]["sprop-stereo"],
            1);  // still a number
  EXPECT_FALSE(ca.body["rtpParameters"]["encodings"][0].contains("rtx"));
  EXPECT_EQ(control_->consumer_stats("r", audio_c).body[0]["paused"], true);

  // Pause and resume.
  EXPECT_EQ(control_->set_producer_paused("r", "sender", video_p, true).body, json::object());
  json cs = control_->consumer_stats("r", video_c).body;
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0]["type"], "outbound-rtp");
  EXPECT_EQ(cs[0]["ssrc"], ssrc);
  EXPECT_EQ(cs[0]["producerPaused"], true);
  EXPECT_EQ(cs[1]["type"], "inbound-rtp");
  EXPECT_EQ(cs[1]["ssrc"], 2222);
  EXPECT_EQ(cs[1]["mimeType"], "video/vp8");
  EXPECT_EQ(control_->set_producer_paused("r", "sender", video_p, false).status, 200);
  EXPECT_EQ(control_->producer_stats("r", video_p).body[0]["paused"], false);
  EXPECT_EQ(control_->set_consumer_paused("r", "receiver", audio_c, false).status, 200);
  EXPECT_EQ(control_->consumer_stats("r", audio_c).body[0]["paused"], false);
  // Ids belong to their broadcaster.
  expect_error(control_->set_producer_paused("r", "receiver", video_p, true), 404,
               "producer \"" + video_p + "\" not found");
  expect_error(control_->set_consumer_paused("r", "sender", audio_c, true), 404,
               "consumer \"" + audio_c + "\" not found");
  expect_error(control_->producer_stats("r", "nope"), 404, "producer \"nope\" not found");

  json server = control_->server_stats().body;
  EXPECT_EQ(server["producers"], 2);
  EXPECT_EQ(server["consumers"], 2);
  EXPECT_EQ(server["workers"][0]["index"], 0);
  EXPECT_TRUE(server["workers"][0]["dropped"].contains("malformedRtcp"));

  // Closing the consumer, then the producer (which takes its consumers along).
  EXPECT_EQ(control_->close_consumer("r", "receiver", audio_c).status, 200);
  expect_error(control_->consumer_stats("r", audio_c), 404,
               "consumer \"" + audio_c + "\" not found");
  expect_error(control_->close_consumer("r", "receiver", audio_c), 404,
               "consumer \"" + audio_c + "\" not found");
  EXPECT_EQ(control_->close_producer("r", "sender", video_p).status, 200);
  expect_error(control_->consumer_stats("r", video_c), 404,
               "consumer \"" + video_c + "\" not found");
  EXPECT_EQ(control_->server_stats().body["consumers"], 0);

  // Deleting a broadcaster closes its transports and producers.
  ApiResult deleted = control_->delete_broadcaster("r", "sender");
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.text, "broadcaster deleted");
  expect_error(control_->transport_stats("r", audio_t), 404,
               "transport \"" + audio_t + "\" not found");
  expect_error(control_->producer_stats("r", audio_p), 404,
               "producer \"" + audio_p + "\" not found");
  expect_error(control_->delete_broadcaster("r", "sender"), 404,
               "broadcaster \"sender\" not found");
  server = control_->server_stats().body;
  EXPECT_EQ(server["producers"], 0);
  EXPECT_EQ(server["transports"], 1);  // the receiver's
}

TEST_F(ControlTest, CannotConsumeWithoutACommonCodec) {
  ASSERT_EQ(control_->create_broadcaster("r", broadcaster_body("s")).status, 200);
  const std::string t = transport("s")["id"];
  const std::string p = control_->create_producer("r", "s", t, vp8_producer_body()).body["id"];
  json opus_only = {{"codecs", {consumer_caps()["codecs"][0]}}};
  ApiResult joined = control_->create_broadcaster("r", broadcaster_body("c", opus_only));
  EXPECT_EQ(joined.body["peers"][0]["producers"], json::array());
  const std::string ct = transport("c")["id"];
  expect_error(control_->consume("r", "c", ct, p), 500,
               "cannot consume producer \"" + p + "\" with the broadcaster's rtpCapabilities");
}

// --- media through the worker -------------------------------------------------------

TEST_F(ControlTest, ForwardsPlainRtpFromProducerToConsumer) {
  ASSERT_EQ(control_->create_broadcaster("r", broadcaster_body("s")).status, 200);
  ASSERT_EQ(control_->create_broadcaster("r", broadcaster_body("c", consumer_caps())).status, 200);
  json send_t = transport("s", {{"type", "plain"}, {"comedia", true}, {"rtcpMux", true}});
  const std::string p =
      control_->create_producer("r", "s", send_t["id"], opus_producer_body(1111)).body["id"];

  uint16_t recv_port = 0, send_port = 0;
  const int receiver = udp_socket_on_loopback(&recv_port);
  const int sender = udp_socket_on_loopback(&send_port);
  ASSERT_GE(receiver, 0);
  ASSERT_GE(sender, 0);
  json recv_t = transport("c", {{"type", "plain"}, {"comedia", false}, {"rtcpMux", true}});
  ASSERT_EQ(
      control_
          ->connect_transport("r", "c", recv_t["id"], {{"ip", "127.0.0.1"}, {"port", recv_port}})
          .status,
      200);
  ApiResult c = control_->consume("r", "c", recv_t["id"], p);
  ASSERT_EQ(c.status, 200);
  const uint32_t consumer_ssrc = c.body["rtpParameters"]["encodings"][0]["ssrc"];

  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(send_t["port"].get<uint16_t>());
  // Bounded: at most 50 packets, 100 ms apart at worst, until one comes back.
  std::vector<uint8_t> got;
  for (uint16_t seq = 1; seq <= 50 && got.empty(); ++seq) {
    const auto pkt = opus_rtp_packet(seq, 1111);
    ASSERT_EQ(
        ::sendto(sender, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
        static_cast<ssize_t>(pkt.size()));
    pollfd pfd{receiver, POLLIN, 0};
    if (::poll(&pfd, 1, 100) == 1) {
      uint8_t buf[1500];
      const ssize_t n = ::recv(receiver, buf, sizeof(buf), 0);
      if (n > 0) got.assign(buf, buf + n);
    }
  }
  ::close(sender);
  ::close(receiver);
  ASSERT_GE(got.size(), 12u) << "nothing forwarded";
  EXPECT_EQ(got[1] & 0x7F, 100);  // router opus PT
  const uint32_t ssrc =
      (uint32_t{got[8]} << 24) | (uint32_t{got[9]} << 16) | (uint32_t{got[10]} << 8) | got[11];
  EXPECT_EQ(ssrc, consumer_ssrc);
  EXPECT_GE(control_->producer_stats("r", p).body[0]["packetCount"].get<uint64_t>(), 1u);
  EXPECT_GE(control_->consumer_stats("r", c.body["id"]).body[0]["packetCount"].get<uint64_t>(), 1u);
  EXPECT_GE(
      control_->transport_stats("r", send_t["id"]).body[0]["rtpPacketsReceived"].get<uint64_t>(),
      1u);
}

TEST(Base64, RoundTripsAndRefusesGarbage) {
  const std::vector<uint8_t> data = {0, 1, 2, 250, 251};
  EXPECT_EQ(base64_encode(data), "AAEC+vs=");
  EXPECT_EQ(*base64_decode("AAEC+vs="), data);
  EXPECT_EQ(base64_decode("AAECAw==")->size(), 4u);
  EXPECT_FALSE(base64_decode("AAE"));
  EXPECT_FALSE(base64_decode("AA=C"));
  EXPECT_FALSE(base64_decode(" AAA"));
  EXPECT_FALSE(base64_decode(""));
}

}  // namespace
}  // namespace weir::control
