#include "control/codec_matching.h"

#include <algorithm>
#include <cctype>

#include "control/h264_profile_level_id.h"

namespace weir::control {

using nlohmann::json;

namespace {

json value_or_absent(const json& codec, const char* key) {
  auto it = codec.find(key);
  return it == codec.end() ? json() : *it;
}

// A parameter as the JS code reads it with `params[key] || 0`: missing means 0.
json parameter_or_zero(const json& codec, const char* key) {
  auto params = codec.find("parameters");
  if (params == codec.end() || !params->is_object()) return 0;
  auto it = params->find(key);
  if (it == params->end() || it->is_null()) return 0;
  return *it;
}

json parameter(const json& codec, const char* key) {
  auto params = codec.find("parameters");
  if (params == codec.end() || !params->is_object()) return json();
  auto it = params->find(key);
  return it == params->end() ? json() : *it;
}

const json& parameters_of(const json& codec) {
  static const json empty = json::object();
  auto it = codec.find("parameters");
  return it == codec.end() ? empty : *it;
}

}  // namespace

std::string lower_mime_type(const json& codec) {
  auto it = codec.find("mimeType");
  if (it == codec.end() || !it->is_string()) return {};
  std::string mime = it->get<std::string>();
  std::transform(mime.begin(), mime.end(), mime.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return mime;
}

bool is_rtx_codec(const json& codec) {
  const std::string mime = lower_mime_type(codec);
  return mime.size() > 4 && mime.compare(mime.size() - 4, 4, "/rtx") == 0;
}

bool match_codecs(const json& a, const json& b, bool strict) {
  const std::string mime = lower_mime_type(a);
  if (mime.empty() || mime != lower_mime_type(b)) return false;
  if (value_or_absent(a, "clockRate") != value_or_absent(b, "clockRate")) return false;
  if (value_or_absent(a, "channels") != value_or_absent(b, "channels")) return false;

  if (mime == "audio/multiopus") {
    if (parameter(a, "num_streams") != parameter(b, "num_streams")) return false;
    if (parameter(a, "coupled_streams") != parameter(b, "coupled_streams")) return false;
  } else if (mime == "video/h264" && strict) {
    if (parameter_or_zero(a, "packetization-mode") != parameter_or_zero(b, "packetization-mode")) {
      return false;
    }
    if (!h264_is_same_profile(parameters_of(a), parameters_of(b))) return false;
  } else if (mime == "video/vp9" && strict) {
    if (parameter_or_zero(a, "profile-id") != parameter_or_zero(b, "profile-id")) return false;
  }
  return true;
}

}  // namespace weir::control
