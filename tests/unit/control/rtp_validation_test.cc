#include "control/rtp_validation.h"

#include <gtest/gtest.h>

#include "control/control_error.h"

namespace weir::control {
namespace {

using nlohmann::json;

std::string error_of(json value, bool caps) {
  try {
    if (caps) {
      validate_rtp_capabilities(value, "body.rtpCapabilities");
    } else {
      validate_rtp_parameters(value, "body.rtpParameters");
    }
  } catch (const ControlError& e) {
    return e.what();
  }
  return "ok";
}

json vp8_codec() { return {{"mimeType", "video/VP8"}, {"payloadType", 101}, {"clockRate", 90000}}; }

TEST(RtpValidation, NamesTheOffendingField) {
  EXPECT_EQ(error_of(json::object(), false), "missing field body.rtpParameters.codecs");
  EXPECT_EQ(error_of({{"codecs", json::object()}}, false),
            "invalid field body.rtpParameters.codecs (must be an array)");
  json c = vp8_codec();
  c["payloadType"] = "101";  // a string where a number belongs
  EXPECT_EQ(error_of({{"codecs", {c}}}, false),
            "invalid field body.rtpParameters.codecs[0].payloadType (must be an integer)");
  c = vp8_codec();
  c["payloadType"] = 128;
  EXPECT_EQ(error_of({{"codecs", {c}}}, false),
            "invalid field body.rtpParameters.codecs[0].payloadType (must be in 0..127)");
  c = vp8_codec();
  c.erase("clockRate");
  EXPECT_EQ(error_of({{"codecs", {vp8_codec(), c}}}, false),
            "missing field body.rtpParameters.codecs[1].clockRate");
  c = vp8_codec();
  c["mimeType"] = "VP8";
  EXPECT_EQ(error_of({{"codecs", {c}}}, false),
            "invalid field body.rtpParameters.codecs[0].mimeType (must be \"audio/<name>\" or "
            "\"video/<name>\")");
  c = vp8_codec();
  c["parameters"] = {{"x-google-start-bitrate", true}};
  EXPECT_EQ(error_of({{"codecs", {c}}}, false),
            "invalid field body.rtpParameters.codecs[0].parameters.x-google-start-bitrate (must "
            "be a string or a number)");
  json rtx = {{"mimeType", "video/rtx"},
              {"payloadType", 102},
              {"clockRate", 90000},
              {"parameters", {{"apt", "101"}}}};
  EXPECT_EQ(error_of({{"codecs", {vp8_codec(), rtx}}}, false),
            "invalid field body.rtpParameters.codecs[1].parameters.apt (must be an integer)");
  EXPECT_EQ(error_of({{"codecs", {vp8_codec()}}, {"encodings", {{{"ssrc", "1"}}}}}, false),
            "invalid field body.rtpParameters.encodings[0].ssrc (must be an integer)");
  EXPECT_EQ(error_of({{"codecs", {vp8_codec()}}, {"encodings", {{{"rtx", {{"x", 1}}}}}}}, false),
            "missing field body.rtpParameters.encodings[0].rtx.ssrc");
  EXPECT_EQ(error_of({{"codecs", {vp8_codec()}}, {"headerExtensions", {{{"uri", "u"}}}}}, false),
            "missing field body.rtpParameters.headerExtensions[0].id");
  EXPECT_EQ(error_of({{"codecs", {vp8_codec()}}, {"rtcp", {{"cname", 5}}}}, false),
            "invalid field body.rtpParameters.rtcp.cname (must be a string)");
}

TEST(RtpValidation, NormalisesLikeMediasoup) {
  json p = {{"codecs",
             {{{"mimeType", "audio/opus"}, {"payloadType", 111}, {"clockRate", 48000}},
              {{"mimeType", "video/VP8"},
               {"payloadType", 96},
               {"clockRate", 90000},
               {"channels", 3},
               {"rtcpFeedback", {{{"type", "nack"}}}}}}}};
  validate_rtp_parameters(p, "p");
  EXPECT_EQ(p["codecs"][0]["channels"], 1);
  EXPECT_EQ(p["codecs"][0]["parameters"], json::object());
  EXPECT_FALSE(p["codecs"][1].contains("channels"));
  EXPECT_EQ(p["codecs"][1]["rtcpFeedback"][0]["parameter"], "");
  EXPECT_EQ(p["encodings"], json::array({{{"dtx", false}}}));
  EXPECT_EQ(p["rtcp"]["reducedSize"], true);
}

TEST(RtpValidation, CapabilitiesNeedKindUriAndId) {
  EXPECT_EQ(error_of({{"codecs", {{{"mimeType", "video/VP8"}}}}}, true),
            "missing field body.rtpCapabilities.codecs[0].clockRate");
  EXPECT_EQ(
      error_of(
          {{"codecs",
            {{{"mimeType", "video/VP8"}, {"clockRate", 90000}, {"preferredPayloadType", "101"}}}}},
          true),
      "invalid field body.rtpCapabilities.codecs[0].preferredPayloadType (must be an "
      "integer)");
  EXPECT_EQ(error_of({{"headerExtensions", {{{"kind", "data"}, {"uri", "u"}, {"preferredId", 1}}}}},
                     true),
            "invalid field body.rtpCapabilities.headerExtensions[0].kind (must be \"audio\" or "
            "\"video\")");
  json caps = {{"codecs", {{{"mimeType", "VIDEO/VP8"}, {"kind", "audio"}, {"clockRate", 90000}}}}};
  validate_rtp_capabilities(caps, "c");
  EXPECT_EQ(caps["codecs"][0]["kind"], "video");  // the mimeType wins
  EXPECT_EQ(caps["headerExtensions"], json::array());
}

TEST(RtpValidation, ProducerChecks) {
  auto producer_error = [](json p, const char* kind) -> std::string {
    try {
      validate_rtp_parameters(p, "body.rtpParameters");
      validate_producer_rtp_parameters(p, kind, "body.rtpParameters");
    } catch (const ControlError& e) {
      return e.what();
    }
    return "ok";
  };
  EXPECT_EQ(producer_error({{"codecs", {vp8_codec()}}, {"encodings", {{{"ssrc", 1}}}}}, "video"),
            "ok");
  EXPECT_EQ(producer_error({{"codecs", {vp8_codec()}}, {"encodings", {{{"ssrc", 1}}}}}, "audio"),
            "invalid field body.rtpParameters.codecs[0].mimeType (not a audio codec)");
  EXPECT_EQ(producer_error({{"codecs", {vp8_codec(), vp8_codec()}}, {"encodings", {{{"ssrc", 1}}}}},
                           "video"),
            "invalid field body.rtpParameters.codecs[1].payloadType (duplicated)");
  EXPECT_EQ(producer_error({{"codecs", {vp8_codec()}}}, "video"),
            "missing field body.rtpParameters.encodings[0].ssrc (or rid)");
  EXPECT_EQ(producer_error({{"codecs", {vp8_codec()}}, {"mid", "0"}}, "video"), "ok");
  EXPECT_EQ(
      producer_error({{"codecs", {vp8_codec()}},
                      {"encodings", {{{"ssrc", 1}}}},
                      {"headerExtensions", {{{"uri", "u"}, {"id", 0}}}}},
                     "video"),
      "invalid field body.rtpParameters.headerExtensions[0].id (0 is not a valid extension id)");
}

}  // namespace
}  // namespace weir::control
