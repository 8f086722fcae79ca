#include "wire/icmp_message.h"

#include <cstring>

#include "wire/byte_io.h"
#include "wire/inet_checksum.h"

namespace weir::wire {

std::optional<IcmpEcho> parse_icmp_echo(const uint8_t* p, size_t len,
                                        bool verify_checksum) noexcept {
  if (len < kIcmpEchoHeaderSize) return std::nullopt;
  if (p[0] != kIcmpEchoRequest && p[0] != kIcmpEchoReply) return std::nullopt;
  if (p[1] != 0) return std::nullopt;
  if (verify_checksum && checksum_finish(checksum_partial(p, len)) != 0) return std::nullopt;
  IcmpEcho echo;
  echo.type = p[0];
  echo.identifier = load_be16(p + 4);
  echo.sequence = load_be16(p + 6);
  return echo;
}

void make_icmp_echo_reply(uint8_t* icmp, size_t len) noexcept {
  if (len < 4 || icmp[0] != kIcmpEchoRequest) return;
  const uint16_t old_word = load_be16(icmp);  // type, code
  icmp[0] = kIcmpEchoReply;
  store_be16(icmp + 2, checksum_update16(load_be16(icmp + 2), old_word, load_be16(icmp)));
}

void write_icmp_echo(uint8_t* out, uint8_t type, uint16_t identifier, uint16_t sequence,
                     const uint8_t* data, size_t data_len) noexcept {
  out[0] = type;
  out[1] = 0;
  store_be16(out + 2, 0);
  store_be16(out + 4, identifier);
  store_be16(out + 6, sequence);
  if (data_len > 0) std::memcpy(out + kIcmpEchoHeaderSize, data, data_len);
  store_be16(out + 2, checksum_finish(checksum_partial(out, kIcmpEchoHeaderSize + data_len)));
}

}  // namespace weir::wire
