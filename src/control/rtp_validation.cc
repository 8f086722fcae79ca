#include "control/rtp_validation.h"

#include <cctype>
#include <set>

#include "control/codec_matching.h"
#include "control/control_error.h"
#include "control/json_fields.h"

namespace weir::control {

using nlohmann::json;

namespace {

constexpr int64_t kMaxU32 = 0xFFFFFFFFll;

json& array_field(json& obj, const std::string& parent, const char* key, bool required) {
  json* v = find_field(obj, parent, key);
  const std::string path = field_path(parent, key);
  if (!v) {
    if (required) throw_missing(path);
    obj[key] = json::array();
    return obj[key];
  }
  if (!v->is_array()) throw_wrong_type(path, "an array");
  return *v;
}

json& object_field_or_empty(json& obj, const std::string& parent, const char* key) {
  json* v = find_field(obj, parent, key);
  if (!v) {
    obj[key] = json::object();
    return obj[key];
  }
  if (!v->is_object()) throw_wrong_type(field_path(parent, key), "an object");
  return *v;
}

// "audio/opus" -> "audio"; anything else is refused.
std::string kind_of_mime(const json& codec, const std::string& path) {
  const std::string mime = require_string(codec, path, "mimeType");
  const auto slash = mime.find('/');
  const std::string kind = mime.substr(0, slash == std::string::npos ? 0 : slash);
  std::string lower;
  for (char c : kind) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if ((lower != "audio" && lower != "video") || slash + 1 >= mime.size()) {
    throw_invalid("invalid field " + field_path(path, "mimeType") +
                  " (must be \"audio/<name>\" or \"video/<name>\")");
  }
  return lower;
}

void validate_codec_parameters(json& codec, const std::string& path, bool rtx) {
  json& params = object_field_or_empty(codec, path, "parameters");
  const std::string params_path = field_path(path, "parameters");
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (it->is_null()) {
      *it = "";  // mediasoup turns an undefined value into ""
      continue;
    }
    if (!it->is_string() && !it->is_number()) {
      throw_wrong_type(field_path(params_path, it.key()), "a string or a number");
    }
  }
  if (rtx) {
    auto apt = params.find("apt");
    if (apt == params.end()) throw_missing(field_path(params_path, "apt"));
    if (!apt->is_number_integer()) throw_wrong_type(field_path(params_path, "apt"), "an integer");
  }
}

void validate_rtcp_feedback(json& codec, const std::string& path) {
  json& list = array_field(codec, path, "rtcpFeedback", false);
  const std::string list_path = field_path(path, "rtcpFeedback");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string fb_path = index_path(list_path, i);
    json& fb = list[i];
    require_string(fb, fb_path, "type");
    if (!optional_string(fb, fb_path, "parameter")) fb["parameter"] = "";
  }
}

void validate_channels(json& codec, const std::string& path, const std::string& kind) {
  if (kind == "audio") {
    auto channels = optional_integer(codec, path, "channels", 1, 255);
    codec["channels"] = channels.value_or(1);
  } else {
    codec.erase("channels");
  }
}

void validate_codec_parameters_entry(json& codec, const std::string& path) {
  if (!codec.is_object()) throw_wrong_type(path, "an object");
  const std::string kind = kind_of_mime(codec, path);
  require_integer(codec, path, "payloadType", 0, 127);
  require_integer(codec, path, "clockRate", 1, kMaxU32);
  validate_channels(codec, path, kind);
  validate_codec_parameters(codec, path, is_rtx_codec(codec));
  validate_rtcp_feedback(codec, path);
}

void validate_header_extension_parameters(json& ext, const std::string& path) {
  require_string(ext, path, "uri");
  require_integer(ext, path, "id", 0, 255);
  if (!find_field(ext, path, "encrypt")) ext["encrypt"] = false;
  optional_bool(ext, path, "encrypt", false);
  json& params = object_field_or_empty(ext, path, "parameters");
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (!it->is_string() && !it->is_number()) {
      throw_wrong_type(field_path(field_path(path, "parameters"), it.key()),
                       "a string or a number");
    }
  }
}

void validate_encoding(json& encoding, const std::string& path) {
  if (!encoding.is_object()) throw_wrong_type(path, "an object");
  optional_integer(encoding, path, "ssrc", 0, kMaxU32);
  optional_string(encoding, path, "rid");
  if (const json* rtx = find_field(encoding, path, "rtx")) {
    const std::string rtx_path = field_path(path, "rtx");
    if (!rtx->is_object()) throw_wrong_type(rtx_path, "an object");
    require_integer(*rtx, rtx_path, "ssrc", 0, kMaxU32);
  }
  if (!find_field(encoding, path, "dtx")) encoding["dtx"] = false;
  optional_bool(encoding, path, "dtx", false);
  optional_string(encoding, path, "scalabilityMode");
  if (const json* bitrate = find_field(encoding, path, "maxBitrate")) {
    if (!bitrate->is_number()) throw_wrong_type(field_path(path, "maxBitrate"), "a number");
  }
}

}  // namespace

void validate_rtp_codec_capability(json& codec, const std::string& path) {
  if (!codec.is_object()) throw_wrong_type(path, "an object");
  const std::string kind = kind_of_mime(codec, path);
  codec["kind"] = kind;  // the mimeType wins over any kind given
  optional_integer(codec, path, "preferredPayloadType", 0, 127);
  require_integer(codec, path, "clockRate", 1, kMaxU32);
  validate_channels(codec, path, kind);
  validate_codec_parameters(codec, path, is_rtx_codec(codec));
  validate_rtcp_feedback(codec, path);
}

void validate_rtp_capabilities(json& caps, const std::string& path) {
  if (!caps.is_object()) throw_wrong_type(path, "an object");
  json& codecs = array_field(caps, path, "codecs", false);
  const std::string codecs_path = field_path(path, "codecs");
  for (size_t i = 0; i < codecs.size(); ++i) {
    validate_rtp_codec_capability(codecs[i], index_path(codecs_path, i));
  }
  json& exts = array_field(caps, path, "headerExtensions", false);
  const std::string exts_path = field_path(path, "headerExtensions");
  for (size_t i = 0; i < exts.size(); ++i) {
    const std::string ext_path = index_path(exts_path, i);
    json& ext = exts[i];
    if (!ext.is_object()) throw_wrong_type(ext_path, "an object");
    const std::string kind = require_string(ext, ext_path, "kind");
    if (kind != "audio" && kind != "video") {
      throw_wrong_type(field_path(ext_path, "kind"), "\"audio\" or \"video\"");
    }
    require_string(ext, ext_path, "uri");
    require_integer(ext, ext_path, "preferredId", 0, 255);
    ext["preferredEncrypt"] = optional_bool(ext, ext_path, "preferredEncrypt", false);
    const std::string direction = optional_string(ext, ext_path, "direction").value_or("sendrecv");
    if (direction != "sendrecv" && direction != "sendonly" && direction != "recvonly" &&
        direction != "inactive") {
      throw_wrong_type(field_path(ext_path, "direction"),
                       "one of sendrecv, sendonly, recvonly, inactive");
    }
    ext["direction"] = direction;
  }
}

void validate_rtp_parameters(json& params, const std::string& path) {
  if (!params.is_object()) throw_wrong_type(path, "an object");
  optional_string(params, path, "mid");
  json& codecs = array_field(params, path, "codecs", true);
  const std::string codecs_path = field_path(path, "codecs");
  for (size_t i = 0; i < codecs.size(); ++i) {
    validate_codec_parameters_entry(codecs[i], index_path(codecs_path, i));
  }
  json& exts = array_field(params, path, "headerExtensions", false);
  const std::string exts_path = field_path(path, "headerExtensions");
  for (size_t i = 0; i < exts.size(); ++i) {
    if (!exts[i].is_object()) throw_wrong_type(index_path(exts_path, i), "an object");
    validate_header_extension_parameters(exts[i], index_path(exts_path, i));
  }
  json& encodings = array_field(params, path, "encodings", false);
  if (encodings.empty()) encodings.push_back(json::object());  // contract 6.3 step 2
  const std::string encodings_path = field_path(path, "encodings");
  for (size_t i = 0; i < encodings.size(); ++i) {
    validate_encoding(encodings[i], index_path(encodings_path, i));
  }
  json& rtcp = object_field_or_empty(params, path, "rtcp");
  const std::string rtcp_path = field_path(path, "rtcp");
  optional_string(rtcp, rtcp_path, "cname");
  rtcp["reducedSize"] = optional_bool(rtcp, rtcp_path, "reducedSize", true);
}

void validate_producer_rtp_parameters(const json& params, const std::string& kind,
                                      const std::string& path) {
  const json& codecs = params.at("codecs");
  const std::string codecs_path = field_path(path, "codecs");
  std::set<int64_t> pts;
  bool has_media = false;
  for (size_t i = 0; i < codecs.size(); ++i) {
    const std::string codec_path = index_path(codecs_path, i);
    if (kind_of_mime(codecs[i], codec_path) != kind) {
      throw_invalid("invalid field " + field_path(codec_path, "mimeType") + " (not a " + kind +
                    " codec)");
    }
    if (!pts.insert(codecs[i].at("payloadType").get<int64_t>()).second) {
      throw_invalid("invalid field " + field_path(codec_path, "payloadType") + " (duplicated)");
    }
    if (!is_rtx_codec(codecs[i])) has_media = true;
  }
  if (!has_media) throw_invalid("invalid field " + codecs_path + " (no media codec)");

  const json& exts = params.at("headerExtensions");
  for (size_t i = 0; i < exts.size(); ++i) {
    if (exts[i].at("id").get<int64_t>() == 0) {
      throw_invalid("invalid field " +
                    field_path(index_path(field_path(path, "headerExtensions"), i), "id") +
                    " (0 is not a valid extension id)");
    }
  }

  const json& encodings = params.at("encodings");
  const std::string encodings_path = field_path(path, "encodings");
  const bool has_mid = params.contains("mid");
  for (size_t i = 0; i < encodings.size(); ++i) {
    const bool identified = encodings[i].contains("ssrc") || encodings[i].contains("rid");
    if (!identified && (encodings.size() > 1 || !has_mid)) {
      throw_invalid("missing field " + field_path(index_path(encodings_path, i), "ssrc") +
                    " (or rid)");
    }
  }
}

}  // namespace weir::control
