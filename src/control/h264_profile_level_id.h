// H.264 profile-level-id (RFC 6184 section 8.1) as WebRTC compares it: two codecs are the
// same profile when profile_idc and the constraint flags in profile-iop map to the same
// named profile (the table of the h264-profile-level-id library that mediasoup uses).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace weir::control {

enum class H264Profile {
  constrained_baseline,
  baseline,
  main,
  constrained_high,
  high,
  predictive_high_444,
};

struct H264ProfileLevelId {
  H264Profile profile;
  int level;  // level_idc; 0 stands for level 1b
};

// "42e01f" -> {constrained_baseline, 31}; nullopt for anything that is not 6 hex digits
// naming a known profile and level.
std::optional<H264ProfileLevelId> parse_h264_profile_level_id(std::string_view text);

// From codec parameters: a missing profile-level-id means 42e01f (RFC 6184 default);
// a present but unparsable one (or not a string) gives nullopt.
std::optional<H264ProfileLevelId> h264_profile_level_id_of(const nlohmann::json& parameters);

bool h264_is_same_profile(const nlohmann::json& parameters_a, const nlohmann::json& parameters_b);

}  // namespace weir::control
