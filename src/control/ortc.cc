#include "control/ortc.h"

#include <algorithm>
#include <deque>

#include "control/codec_matching.h"
#include "control/control_error.h"
#include "control/rtp_validation.h"
#include "control/supported_rtp_capabilities.h"

namespace weir::control {

using nlohmann::json;

namespace {

constexpr const char* kTwccUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
constexpr const char* kAbsSendTimeUri =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";

// mediasoup's order: 100..127 first, then 96..99.
std::deque<int> dynamic_payload_types() {
  std::deque<int> pts;
  for (int pt = 100; pt <= 127; ++pt) pts.push_back(pt);
  for (int pt = 96; pt <= 99; ++pt) pts.push_back(pt);
  return pts;
}

int take_dynamic_pt(std::deque<int>& pool) {
  if (pool.empty()) throw_refused("cannot allocate more dynamic codec payload types");
  const int pt = pool.front();
  pool.pop_front();
  return pt;
}

void drop_feedback(json& codec, const char* type) {
  json& fbs = codec["rtcpFeedback"];
  json kept = json::array();
  for (const auto& fb : fbs) {
    if (fb.value("type", "") != type) kept.push_back(fb);
  }
  fbs = std::move(kept);
}

bool has_extension(const json& exts, const char* uri) {
  return std::any_of(exts.begin(), exts.end(),
                     [&](const json& e) { return e.value("uri", "") == uri; });
}

}  // namespace

json default_media_codecs() {
  return json::array({
      {{"kind", "audio"}, {"mimeType", "audio/opus"}, {"clockRate", 48000}, {"channels", 2}},
      {{"kind", "video"},
       {"mimeType", "video/VP8"},
       {"clockRate", 90000},
       {"parameters", {{"x-google-start-bitrate", 1000}}}},
      {{"kind", "video"},
       {"mimeType", "video/VP9"},
       {"clockRate", 90000},
       {"parameters", {{"profile-id", 2}, {"x-google-start-bitrate", 1000}}}},
      {{"kind", "video"},
       {"mimeType", "video/h264"},
       {"clockRate", 90000},
       {"parameters",
        {{"packetization-mode", 1},
         {"profile-level-id", "4d0032"},
         {"level-asymmetry-allowed", 1},
         {"x-google-start-bitrate", 1000}}}},
      {{"kind", "video"},
       {"mimeType", "video/h264"},
       {"clockRate", 90000},
       {"parameters",
        {{"packetization-mode", 1},
         {"profile-level-id", "42e01f"},
         {"level-asymmetry-allowed", 1},
         {"x-google-start-bitrate", 1000}}}},
  });
}

json generate_router_rtp_capabilities(const json& media_codecs) {
  if (!media_codecs.is_array()) throw_invalid("invalid field mediaCodecs (must be an array)");
  const json& supported = supported_rtp_capabilities();
  std::deque<int> pool = dynamic_payload_types();
  json caps = {{"codecs", json::array()}, {"headerExtensions", supported["headerExtensions"]}};
  json& codecs = caps["codecs"];

  for (size_t i = 0; i < media_codecs.size(); ++i) {
    json media_codec = media_codecs[i];
    validate_rtp_codec_capability(media_codec, "mediaCodecs[" + std::to_string(i) + "]");
    auto match = std::find_if(supported["codecs"].begin(), supported["codecs"].end(),
                              [&](const json& s) { return match_codecs(media_codec, s, false); });
    if (match == supported["codecs"].end()) {
      throw_refused("media codec not supported [mimeType:" +
                    media_codec["mimeType"].get<std::string>() + "]");
    }
    json codec = *match;
    if (media_codec.contains("preferredPayloadType")) {
      const int pt = media_codec["preferredPayloadType"].get<int>();
      codec["preferredPayloadType"] = pt;
      pool.erase(std::remove(pool.begin(), pool.end(), pt), pool.end());
    } else if (!codec.contains("preferredPayloadType")) {
      codec["preferredPayloadType"] = take_dynamic_pt(pool);
    }
    const json pt = codec["preferredPayloadType"];
    if (std::any_of(codecs.begin(), codecs.end(),
                    [&](const json& c) { return c["preferredPayloadType"] == pt; })) {
      throw_invalid("duplicated codec.preferredPayloadType " + pt.dump());
    }
    for (const auto& [key, value] : media_codec["parameters"].items()) {
      codec["parameters"][key] = value;
    }
    codecs.push_back(codec);
    if (codec["kind"] == "video") {
      codecs.push_back({{"kind", "video"},
                        {"mimeType", "video/rtx"},
                        {"preferredPayloadType", take_dynamic_pt(pool)},
                        {"clockRate", codec["clockRate"]},
                        {"parameters", {{"apt", pt}}},
                        {"rtcpFeedback", json::array()}});
    }
  }
  return caps;
}

RtpMapping get_producer_rtp_parameter_mapping(const json& params, const json& router_caps,
                                              uint32_t first_mapped_ssrc) {
  const json& codecs = params.at("codecs");
  const json& cap_codecs = router_caps.at("codecs");
  // Index of the producer codec -> its router capability codec.
  std::vector<std::pair<size_t, const json*>> matched;

  for (size_t i = 0; i < codecs.size(); ++i) {
    const json& codec = codecs[i];
    if (is_rtx_codec(codec)) continue;
    auto cap = std::find_if(cap_codecs.begin(), cap_codecs.end(),
                            [&](const json& c) { return match_codecs(codec, c, true); });
    if (cap == cap_codecs.end()) {
      throw_refused("unsupported codec [mimeType:" + codec["mimeType"].get<std::string>() +
                    ", payloadType:" + codec["payloadType"].dump() + "]");
    }
    matched.emplace_back(i, &*cap);
  }
  for (size_t i = 0; i < codecs.size(); ++i) {
    const json& codec = codecs[i];
    if (!is_rtx_codec(codec)) continue;
    const json& apt = codec["parameters"]["apt"];
    auto media = std::find_if(matched.begin(), matched.end(),
                              [&](const auto& m) { return codecs[m.first]["payloadType"] == apt; });
    if (media == matched.end()) {
      throw_invalid("missing media codec found for RTX PT " + codec["payloadType"].dump());
    }
    const json& cap_media = *media->second;
    auto cap_rtx = std::find_if(cap_codecs.begin(), cap_codecs.end(), [&](const json& c) {
      return is_rtx_codec(c) &&
             c["parameters"].value("apt", json()) == cap_media["preferredPayloadType"];
    });
    if (cap_rtx == cap_codecs.end()) {
      throw_refused("no RTX codec for capability codec PT " +
                    cap_media["preferredPayloadType"].dump());
    }
    matched.emplace_back(i, &*cap_rtx);
  }

  RtpMapping mapping;
  for (const auto& [index, cap] : matched) {
    mapping.codecs.push_back(
        {codecs[index]["payloadType"].get<int>(), (*cap)["preferredPayloadType"].get<int>()});
  }
  uint32_t mapped_ssrc = first_mapped_ssrc;
  for (const json& encoding : params.at("encodings")) {
    EncodingMapping em{};
    em.mapped_ssrc = mapped_ssrc++;
    if (encoding.contains("ssrc")) em.ssrc = encoding["ssrc"].get<uint32_t>();
    if (encoding.contains("rid")) em.rid = encoding["rid"].get<std::string>();
    if (encoding.contains("scalabilityMode")) {
      em.scalability_mode = encoding["scalabilityMode"].get<std::string>();
    }
    mapping.encodings.push_back(std::move(em));
  }
  return mapping;
}

json get_consumable_rtp_parameters(const std::string& kind, const json& params,
                                   const json& router_caps, const RtpMapping& mapping) {
  json consumable = {
      {"codecs", json::array()}, {"headerExtensions", json::array()}, {"encodings", json::array()}};
  const json& cap_codecs = router_caps.at("codecs");
  for (const json& codec : params.at("codecs")) {
    if (is_rtx_codec(codec)) continue;
    const int pt = codec["payloadType"].get<int>();
    auto m = std::find_if(mapping.codecs.begin(), mapping.codecs.end(),
                          [&](const CodecMapping& c) { return c.payload_type == pt; });
    if (m == mapping.codecs.end())
      throw_invalid("no mapping for payload type " + std::to_string(pt));
    auto cap = std::find_if(cap_codecs.begin(), cap_codecs.end(), [&](const json& c) {
      return c["preferredPayloadType"] == m->mapped_payload_type;
    });
    json entry = {{"mimeType", (*cap)["mimeType"]},
                  {"payloadType", (*cap)["preferredPayloadType"]},
                  {"clockRate", (*cap)["clockRate"]},
                  {"parameters", codec["parameters"]},  // the producer's, types untouched
                  {"rtcpFeedback", (*cap)["rtcpFeedback"]}};
    if (cap->contains("channels")) entry["channels"] = (*cap)["channels"];
    consumable["codecs"].push_back(entry);

    auto rtx = std::find_if(cap_codecs.begin(), cap_codecs.end(), [&](const json& c) {
      return is_rtx_codec(c) && c["parameters"].value("apt", json()) == entry["payloadType"];
    });
    if (rtx != cap_codecs.end()) {
      consumable["codecs"].push_back({{"mimeType", (*rtx)["mimeType"]},
                                      {"payloadType", (*rtx)["preferredPayloadType"]},
                                      {"clockRate", (*rtx)["clockRate"]},
                                      {"parameters", (*rtx)["parameters"]},
                                      {"rtcpFeedback", (*rtx)["rtcpFeedback"]}});
    }
  }
  for (const json& ext : router_caps.at("headerExtensions")) {
    const std::string direction = ext.value("direction", "sendrecv");
    if (ext["kind"] != kind || (direction != "sendrecv" && direction != "sendonly")) continue;
    consumable["headerExtensions"].push_back({{"uri", ext["uri"]},
                                              {"id", ext["preferredId"]},
                                              {"encrypt", ext.value("preferredEncrypt", false)},
                                              {"parameters", json::object()}});
  }
  const json& encodings = params.at("encodings");
  for (size_t i = 0; i < encodings.size(); ++i) {
    json encoding = encodings[i];
    encoding.erase("rid");
    encoding.erase("rtx");
    encoding.erase("codecPayloadType");
    encoding["ssrc"] = mapping.encodings.at(i).mapped_ssrc;
    consumable["encodings"].push_back(std::move(encoding));
  }
  const json& rtcp = params.at("rtcp");
  consumable["rtcp"] = {{"cname", rtcp.value("cname", "")}, {"reducedSize", true}};
  // mediasoup 3.2x carries the producer's msid to consumers (the recorded sessions show
  // it); mediasoup-client uses it as the consumer's stream and track ids.
  if (params.contains("msid")) consumable["msid"] = params["msid"];
  return consumable;
}

bool can_consume(const json& consumable_params, const json& caps) {
  for (const json& codec : consumable_params.at("codecs")) {
    const json& cap_codecs = caps.at("codecs");
    const bool matches = std::any_of(cap_codecs.begin(), cap_codecs.end(),
                                     [&](const json& c) { return match_codecs(c, codec, true); });
    if (matches) return !is_rtx_codec(codec);  // only the first match decides
  }
  return false;
}

json get_consumer_rtp_parameters(const json& consumable_params, const json& caps, bool enable_rtx,
                                 uint32_t ssrc) {
  json consumer = {{"codecs", json::array()},
                   {"headerExtensions", json::array()},
                   {"encodings", json::array()},
                   {"rtcp", consumable_params.at("rtcp")}};
  if (consumable_params.contains("msid")) consumer["msid"] = consumable_params["msid"];

  const json& cap_codecs = caps.at("codecs");
  json codecs = json::array();
  for (json codec : consumable_params.at("codecs")) {
    if (!enable_rtx && is_rtx_codec(codec)) continue;
    auto cap = std::find_if(cap_codecs.begin(), cap_codecs.end(),
                            [&](const json& c) { return match_codecs(c, codec, true); });
    if (cap == cap_codecs.end()) continue;
    json feedback = json::array();
    for (const json& fb : (*cap)["rtcpFeedback"]) {
      // Without RTX, plain NACK would ask for retransmissions nobody sends.
      if (!enable_rtx && fb["type"] == "nack" && fb.value("parameter", "").empty()) continue;
      feedback.push_back(fb);
    }
    codec["rtcpFeedback"] = std::move(feedback);
    codecs.push_back(std::move(codec));
  }
  bool rtx_supported = false;
  json kept = json::array();
  for (const json& codec : codecs) {
    if (is_rtx_codec(codec)) {
      const json& apt = codec["parameters"]["apt"];
      const bool has_media = std::any_of(codecs.begin(), codecs.end(), [&](const json& c) {
        return !is_rtx_codec(c) && c["payloadType"] == apt;
      });
      if (!has_media) continue;
      rtx_supported = true;
    }
    kept.push_back(codec);
  }
  if (kept.empty() || is_rtx_codec(kept[0])) throw_refused("no compatible media codecs");
  consumer["codecs"] = std::move(kept);

  const json& cap_exts = caps.at("headerExtensions");
  for (const json& ext : consumable_params.at("headerExtensions")) {
    const bool in_caps = std::any_of(cap_exts.begin(), cap_exts.end(), [&](const json& c) {
      return c["preferredId"] == ext["id"] && c["uri"] == ext["uri"];
    });
    if (in_caps) consumer["headerExtensions"].push_back(ext);
  }

  // One congestion-control feedback: transport-cc when its extension survived, REMB
  // when abs-send-time did, none otherwise.
  const json& exts = consumer["headerExtensions"];
  for (json& codec : consumer["codecs"]) {
    if (has_extension(exts, kTwccUri)) {
      drop_feedback(codec, "goog-remb");
    } else if (has_extension(exts, kAbsSendTimeUri)) {
      drop_feedback(codec, "transport-cc");
    } else {
      drop_feedback(codec, "goog-remb");
      drop_feedback(codec, "transport-cc");
    }
  }

  json encoding = {{"ssrc", ssrc}};
  if (rtx_supported) encoding["rtx"] = {{"ssrc", ssrc + 1}};
  const json& encodings = consumable_params.at("encodings");
  std::string mode;
  for (const json& e : encodings) {
    if (e.contains("scalabilityMode")) {
      mode = e["scalabilityMode"].get<std::string>();
      break;
    }
  }
  if (encodings.size() > 1) {
    mode = "L" + std::to_string(encodings.size()) + "T" +
           std::to_string(parse_scalability_mode(mode).temporal_layers);
  }
  if (!mode.empty()) encoding["scalabilityMode"] = mode;
  json max_bitrate;
  for (const json& e : encodings) {
    if (e.contains("maxBitrate") && (max_bitrate.is_null() || e["maxBitrate"] > max_bitrate)) {
      max_bitrate = e["maxBitrate"];
    }
  }
  if (!max_bitrate.is_null() && max_bitrate != 0) encoding["maxBitrate"] = max_bitrate;
  consumer["encodings"].push_back(std::move(encoding));
  return consumer;
}

ScalabilityMode parse_scalability_mode(const std::string& mode) {
  // ^[LS]([1-9]\d?)T([1-9]\d?)(_KEY)? as mediasoup reads it; a prefix match suffices.
  ScalabilityMode result;
  size_t pos = 0;
  auto layers = [&](int& out) {
    if (pos >= mode.size() || mode[pos] < '1' || mode[pos] > '9') return false;
    out = mode[pos++] - '0';
    if (pos < mode.size() && mode[pos] >= '0' && mode[pos] <= '9')
      out = out * 10 + (mode[pos++] - '0');
    return true;
  };
  if (mode.empty() || (mode[0] != 'L' && mode[0] != 'S')) return result;
  ++pos;
  int spatial = 1, temporal = 1;
  if (!layers(spatial) || pos >= mode.size() || mode[pos++] != 'T' || !layers(temporal)) {
    return result;
  }
  result.spatial_layers = spatial;
  result.temporal_layers = temporal;
  result.ksvc = mode.compare(pos, 4, "_KEY") == 0;
  return result;
}

std::string producer_type(const json& params) {
  const json& encodings = params.at("encodings");
  if (encodings.size() > 1) return "simulcast";
  const ScalabilityMode mode =
      parse_scalability_mode(encodings.empty() ? "" : encodings[0].value("scalabilityMode", ""));
  if (mode.spatial_layers == 1 && mode.temporal_layers == 1) return "simple";
  std::string media_mime;
  for (const json& codec : params.at("codecs")) {
    if (!is_rtx_codec(codec)) {
      media_mime = lower_mime_type(codec);
      break;
    }
  }
  if (media_mime == "video/vp9" || media_mime == "video/av1") return "svc";
  return "simulcast";
}

}  // namespace weir::control
