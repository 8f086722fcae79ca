#include "control/h264_profile_level_id.h"

#include <cstdint>

namespace weir::control {

namespace {

// An 8-bit pattern over profile-iop, most significant bit first: 'x' is "any".
struct BitPattern {
  uint8_t mask;
  uint8_t value;
  constexpr explicit BitPattern(const char (&s)[9]) : mask(0), value(0) {
    for (int i = 0; i < 8; ++i) {
      const uint8_t bit = static_cast<uint8_t>(1u << (7 - i));
      if (s[i] != 'x') mask = static_cast<uint8_t>(mask | bit);
      if (s[i] == '1') value = static_cast<uint8_t>(value | bit);
    }
  }
  constexpr bool matches(uint8_t iop) const { return (iop & mask) == value; }
};

struct ProfilePattern {
  uint8_t profile_idc;
  BitPattern iop;
  H264Profile profile;
};

constexpr ProfilePattern kProfilePatterns[] = {
    {0x42, BitPattern("x1xx0000"), H264Profile::constrained_baseline},
    {0x4D, BitPattern("1xxx0000"), H264Profile::constrained_baseline},
    {0x58, BitPattern("11xx0000"), H264Profile::constrained_baseline},
    {0x42, BitPattern("x0xx0000"), H264Profile::baseline},
    {0x58, BitPattern("10xx0000"), H264Profile::baseline},
    {0x4D, BitPattern("0x0x0000"), H264Profile::main},
    {0x64, BitPattern("00000000"), H264Profile::high},
    {0x64, BitPattern("00001100"), H264Profile::constrained_high},
    {0xF4, BitPattern("00000000"), H264Profile::predictive_high_444},
};

constexpr uint8_t kConstraintSet3Flag = 0x10;
constexpr int kLevel1b = 0;

bool is_known_level(int level_idc) {
  switch (level_idc) {
    case 10:
    case 11:
    case 12:
    case 13:
    case 20:
    case 21:
    case 22:
    case 30:
    case 31:
    case 32:
    case 40:
    case 41:
    case 42:
    case 50:
    case 51:
    case 52:
      return true;
    default:
      return false;
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<H264ProfileLevelId> parse_h264_profile_level_id(std::string_view text) {
  if (text.size() != 6) return std::nullopt;
  uint32_t numeric = 0;
  for (char c : text) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    numeric = (numeric << 4) | static_cast<uint32_t>(d);
  }
  if (numeric == 0) return std::nullopt;
  const int level_idc = static_cast<int>(numeric & 0xFF);
  const auto profile_iop = static_cast<uint8_t>((numeric >> 8) & 0xFF);
  const auto profile_idc = static_cast<uint8_t>((numeric >> 16) & 0xFF);
  if (!is_known_level(level_idc)) return std::nullopt;
  // Level 11 with constraint_set3 means level 1b for the profiles that have it.
  const int level = (level_idc == 11 && (profile_iop & kConstraintSet3Flag)) ? kLevel1b : level_idc;
  for (const auto& p : kProfilePatterns) {
    if (p.profile_idc == profile_idc && p.iop.matches(profile_iop)) {
      return H264ProfileLevelId{p.profile, level};
    }
  }
  return std::nullopt;
}

std::optional<H264ProfileLevelId> h264_profile_level_id_of(const nlohmann::json& parameters) {
  if (!parameters.is_object()) return std::nullopt;
  auto it = parameters.find("profile-level-id");
  if (it == parameters.end()) return H264ProfileLevelId{H264Profile::constrained_baseline, 31};
  if (!it->is_string()) return std::nullopt;
  return parse_h264_profile_level_id(it->get<std::string>());
}

bool h264_is_same_profile(const nlohmann::json& parameters_a, const nlohmann::json& parameters_b) {
  const auto a = h264_profile_level_id_of(parameters_a);
  const auto b = h264_profile_level_id_of(parameters_b);
  return a && b && a->profile == b->profile;
}

}  // namespace weir::control
