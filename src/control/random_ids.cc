#include "control/random_ids.h"

#include <openssl/rand.h>

#include <array>

#include "control/control_error.h"

namespace weir::control {

void random_bytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    throw_refused("the random number generator failed");
  }
}

std::string generate_uuid_v4() {
  std::array<uint8_t, 16> b{};
  random_bytes(b);
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[b[i] >> 4];
    id += kHex[b[i] & 0x0F];
  }
  return id;
}

uint32_t generate_random_ssrc() {
  std::array<uint8_t, 8> b{};
  random_bytes(b);
  uint64_t v = 0;
  for (uint8_t byte : b) v = (v << 8) | byte;
  // 64 random bits folded into 900000000 values: the modulo bias is below 1e-10.
  return static_cast<uint32_t>(100000000u + v % 900000000u);
}

std::string generate_cname() {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::array<uint8_t, 8> b{};
  random_bytes(b);
  std::string cname;
  for (uint8_t byte : b) cname += kAlphabet[byte % (sizeof(kAlphabet) - 1)];
  return cname;
}

}  // namespace weir::control
