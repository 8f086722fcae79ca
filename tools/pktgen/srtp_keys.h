// SRTP master keys as the broadcaster API carries them: key || salt, base64-encoded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weir::pktgen {

std::string base64_encode(const std::vector<uint8_t>& bytes);
// False on characters outside the base64 alphabet or a length that is not a multiple of 4.
bool base64_decode(std::string_view text, std::vector<uint8_t>& out);
// n bytes from OpenSSL's CSPRNG.
std::vector<uint8_t> random_bytes(size_t n);
uint32_t random_u32();

}  // namespace weir::pktgen
