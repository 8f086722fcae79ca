// The network stack a DPDK worker runs in place of the kernel's: Ethernet, ARP (answers for
// the media address, resolves next hops with a cache, a static gateway), IPv4, UDP and ICMP
// echo. Frames arrive and leave as PacketBuffers, so the stack works on any buffer the
// pool hands out (mbufs under DPDK, the slab in tests); it never copies a payload: a
// received datagram is the frame with its headers skipped, and a datagram to send gets its
// headers written into the headroom in front of it.
//
// Threading: one stack per worker; everything here runs on that worker's thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "dataplane/arp_cache.h"
#include "dataplane/counters.h"
#include "dataplane/packet_pool.h"
#include "dataplane/socket_address.h"
#include "wire/ethernet_frame.h"

namespace weir::dp {

struct NetStackConfig {
  uint32_t ip = 0;             // the media address (host byte order)
  uint8_t prefix_length = 24;  // on-link subnet of ip
  uint32_t gateway = 0;        // next hop outside the subnet; 0: none (off-link is dropped)
  wire::MacAddress mac;        // the port's address
  uint16_t mtu = 1500;
  // What the port does for us. Without offload the stack computes (TX) or checks (RX).
  bool tx_ipv4_checksum_offload = false;
  bool tx_udp_checksum_offload = false;
  uint64_t arp_reachable_ns = 300'000'000'000ull;
  uint64_t arp_retry_ns = 1'000'000'000ull;
  uint64_t arp_pending_timeout_ns = 3'000'000'000ull;  // a parked datagram waits this long
};

// What the port's hardware says about a received frame's checksums.
enum class RxChecksum : uint8_t { unknown, good, bad };

struct NetStackCounters {
  Counter rx_frames, rx_udp;
  Counter arp_requests_answered, arp_replies_received, arp_requests_sent;
  Counter icmp_echo_answered;
  Counter tx_frames, tx_parked, tx_unparked;
  // Dropped, by reason: counted once each.
  Counter drop_short_frame, drop_vlan, drop_unknown_ethertype, drop_not_for_us, drop_bad_arp;
  Counter drop_ipv4_header, drop_ipv4_checksum, drop_fragment, drop_unknown_protocol;
  Counter drop_udp_length, drop_udp_checksum, drop_no_route, drop_arp_timeout;
  Counter drop_pending_full, drop_icmp_other, drop_too_large, drop_no_buffer, drop_ipv6;
  uint64_t dropped() const;
};

class NetStack {
 public:
  static constexpr size_t kHeaderRoom = wire::kEthernetHeaderSize + 20 + 8;  // Eth + IPv4 + UDP
  static constexpr size_t kMaxPending = 256;
  static constexpr size_t kMaxOutgoing = 512;

  NetStack(const NetStackConfig& config, PacketPool& pool);

  enum class Rx : uint8_t {
    udp,       // a datagram for our address: buf now holds the UDP payload only
    consumed,  // answered, learned or dropped (counted): the caller still releases buf
  };
  // A received Ethernet frame in buf (data()/len). For udp, *from and *local_port say where
  // it came from and which port it was sent to. Replies (ARP, ICMP) go to outgoing().
  Rx receive(PacketBuffer* buf, RxChecksum ip_checksum, RxChecksum l4_checksum, uint64_t now_ns,
             SocketAddress* from, uint16_t* local_port);

  // Takes over one reference to buf (a UDP payload at data()) and writes UDP, IPv4 and
  // Ethernet headers in front of it. true: the frame is ready (data()/len now cover it).
  // false: not sent now — parked until ARP resolves the next hop, or dropped (counted);
  // either way the stack owns the reference.
  bool encapsulate(PacketBuffer* buf, uint16_t src_port, const SocketAddress& to, uint64_t now_ns);

  // Frames the stack itself wants sent (ARP, ICMP replies, datagrams that were waiting for
  // ARP): the caller takes them (with their reference) and sends them.
  size_t take_outgoing(PacketBuffer** out, size_t max);
  bool has_outgoing() const { return outgoing_count_ != 0; }

  // Expires datagrams that waited too long for ARP.
  void on_tick(uint64_t now_ns);

  const NetStackCounters& counters() const { return counters_; }
  const NetStackConfig& config() const { return config_; }
  ArpCache& arp_cache() { return arp_; }

 private:
  struct Pending {
    PacketBuffer* buf;
    uint32_t next_hop;
    uint64_t since_ns;
  };
  Rx receive_arp(PacketBuffer* buf, size_t offset, uint64_t now_ns);
  Rx receive_icmp(PacketBuffer* buf, size_t ip_offset, size_t ip_header, size_t ip_total);
  bool on_link(uint32_t ip) const { return ((ip ^ config_.ip) & netmask_) == 0; }
  void learn(uint32_t ip, const wire::MacAddress& mac, uint64_t now_ns);
  void send_arp_request(uint32_t target, uint64_t now_ns);
  void write_headers(PacketBuffer* buf, uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
                     const wire::MacAddress& dst_mac);
  void push_outgoing(PacketBuffer* buf);

  NetStackConfig config_;
  PacketPool& pool_;
  ArpCache arp_;
  uint32_t netmask_;
  uint16_t next_ip_id_ = 1;
  std::array<Pending, kMaxPending> pending_{};
  size_t pending_count_ = 0;
  std::array<PacketBuffer*, kMaxOutgoing> outgoing_{};
  size_t outgoing_count_ = 0;
  NetStackCounters counters_;
};

}  // namespace weir::dp
