// Media for the control tests that run real workers: a UDP socket on loopback for a
// transport's remote end, and the Opus RTP packet those tests send through a room.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <vector>

namespace weir::control {

// A bound UDP socket on 127.0.0.1 (its port in *port); -1 if the kernel refused.
inline int udp_socket_on_loopback(uint16_t* port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return -1;
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

// RTP, payload type 111, timestamp 0x03C0, 40 payload bytes 0..39.
inline std::vector<uint8_t> opus_rtp_packet(uint16_t seq, uint32_t ssrc) {
  std::vector<uint8_t> p = {0x80,
                            111,
                            static_cast<uint8_t>(seq >> 8),
                            static_cast<uint8_t>(seq),
                            0,
                            0,
                            0x03,
                            0xC0,
                            static_cast<uint8_t>(ssrc >> 24),
                            static_cast<uint8_t>(ssrc >> 16),
                            static_cast<uint8_t>(ssrc >> 8),
                            static_cast<uint8_t>(ssrc)};
  for (int i = 0; i < 40; ++i) p.push_back(static_cast<uint8_t>(i));
  return p;
}

}  // namespace weir::control
