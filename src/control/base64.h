// Standard base64 (RFC 4648, with padding) over OpenSSL's EVP block coder, for SRTP keys
// in srtpParameters.keyBase64.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weir::control {

std::string base64_encode(std::span<const uint8_t> data);
// nullopt for anything that is not well-formed padded base64.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace weir::control
