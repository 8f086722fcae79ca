// ICMPv4 echo (RFC 792): what a worker needs to answer ping and to send one. Nothing here
// allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace weir::wire {

constexpr uint8_t kIcmpEchoReply = 0;
constexpr uint8_t kIcmpEchoRequest = 8;
constexpr size_t kIcmpEchoHeaderSize = 8;

struct IcmpEcho {
  uint8_t type = 0;
  uint16_t identifier = 0, sequence = 0;
};

// p/len: the whole ICMP message (the IPv4 payload). nullopt unless len >= 8, the type is
// echo request (8) or reply (0), the code is 0 and, when verify_checksum, the checksum
// over all len bytes is right.
std::optional<IcmpEcho> parse_icmp_echo(const uint8_t* p, size_t len,
                                        bool verify_checksum) noexcept;

// Turns an echo request into its reply in place: type 8 becomes 0 and the checksum is
// adjusted for that one change (RFC 1624 eqn. 3), so the payload is never read. Anything
// that is not an echo request of at least 4 bytes is left alone.
void make_icmp_echo_reply(uint8_t* icmp, size_t len) noexcept;

// Writes an echo message of 8 + data_len bytes with its checksum.
void write_icmp_echo(uint8_t* out, uint8_t type, uint16_t identifier, uint16_t sequence,
                     const uint8_t* data, size_t data_len) noexcept;

}  // namespace weir::wire
