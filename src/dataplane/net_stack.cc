#include "dataplane/net_stack.h"

#include <arpa/inet.h>

#include <cstring>

#include "wire/arp_packet.h"
#include "wire/byte_io.h"
#include "wire/icmp_message.h"
#include "wire/inet_checksum.h"
#include "wire/ipv4_packet.h"
#include "wire/udp_datagram.h"

namespace weir::dp {
namespace {

constexpr size_t kEth = wire::kEthernetHeaderSize;
constexpr size_t kIp = wire::kIpv4HeaderSize;
constexpr size_t kUdp = wire::kUdpHeaderSize;
constexpr uint8_t kTtl = 64;

uint32_t v4_of(const SocketAddress& a) { return ntohl(a.u.v4.sin_addr.s_addr); }

SocketAddress make_v4(uint32_t ip, uint16_t port) {
  SocketAddress a;
  a.u.v4.sin_family = AF_INET;
  a.u.v4.sin_addr.s_addr = htonl(ip);
  a.u.v4.sin_port = htons(port);
  return a;
}

}  // namespace

uint64_t NetStackCounters::dropped() const {
  const Counter* all[] = {&drop_short_frame,   &drop_vlan,         &drop_unknown_ethertype,
                          &drop_not_for_us,    &drop_bad_arp,      &drop_ipv4_header,
                          &drop_ipv4_checksum, &drop_fragment,     &drop_unknown_protocol,
                          &drop_udp_length,    &drop_udp_checksum, &drop_no_route,
                          &drop_arp_timeout,   &drop_pending_full, &drop_icmp_other,
                          &drop_too_large,     &drop_no_buffer,    &drop_ipv6};
  uint64_t n = 0;
  for (const Counter* c : all) n += c->get();
  return n;
}

NetStack::NetStack(const NetStackConfig& config, PacketPool& pool)
    : config_(config),
      pool_(pool),
      arp_(1024, config.arp_reachable_ns, config.arp_retry_ns),
      netmask_(config.prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - config.prefix_length)) {}

NetStack::Rx NetStack::receive(PacketBuffer* buf, RxChecksum ip_checksum, RxChecksum l4_checksum,
                               uint64_t now_ns, SocketAddress* from, uint16_t* local_port) {
  counters_.rx_frames.add();
  const uint8_t* frame = buf->data();
  const size_t len = buf->len;
  const auto eth = wire::parse_ethernet(frame, len);
  if (!eth) {
    counters_.drop_short_frame.add();
    return Rx::consumed;
  }
  // Unicast to another station (a shared segment, or a port in promiscuous mode): not ours.
  if (!eth->dst.is_multicast() && eth->dst != config_.mac) {
    counters_.drop_not_for_us.add();
    return Rx::consumed;
  }
  switch (eth->ether_type) {
    case wire::kEtherTypeArp:
      return receive_arp(buf, eth->payload_offset, now_ns);
    case wire::kEtherTypeIpv4:
      break;
    case wire::kEtherTypeVlan:
      counters_.drop_vlan.add();
      return Rx::consumed;
    case wire::kEtherTypeIpv6:
      counters_.drop_ipv6.add();
      return Rx::consumed;
    default:
      counters_.drop_unknown_ethertype.add();
      return Rx::consumed;
  }

  const size_t ip_offset = eth->payload_offset;
  wire::Ipv4View ip;
  const wire::Ipv4Error ip_error =
      wire::parse_ipv4(frame + ip_offset, len - ip_offset, ip_checksum == RxChecksum::unknown, &ip);
  if (ip_error != wire::Ipv4Error::none || ip_checksum == RxChecksum::bad) {
    if (ip_error == wire::Ipv4Error::fragment) {
      counters_.drop_fragment.add();
    } else if (ip_error == wire::Ipv4Error::bad_checksum || ip_checksum == RxChecksum::bad) {
      counters_.drop_ipv4_checksum.add();
    } else {
      counters_.drop_ipv4_header.add();
    }
    return Rx::consumed;
  }
  if (ip.dst != config_.ip) {
    counters_.drop_not_for_us.add();
    return Rx::consumed;
  }
  // A peer on our link told us its MAC by sending from it: answering needs no ARP round trip.
  if (on_link(ip.src) && !eth->src.is_multicast()) learn(ip.src, eth->src, now_ns);

  if (ip.protocol == wire::kIpProtoIcmp)
    return receive_icmp(buf, ip_offset, ip.header_size, ip.total_length);
  if (ip.protocol != wire::kIpProtoUdp) {
    counters_.drop_unknown_protocol.add();
    return Rx::consumed;
  }
  const size_t udp_offset = ip_offset + ip.header_size;
  wire::UdpView udp;
  const wire::UdpError udp_error =
      wire::parse_udp_ipv4(frame + udp_offset, ip.total_length - ip.header_size, ip.src, ip.dst,
                           l4_checksum == RxChecksum::unknown, &udp);
  if (udp_error != wire::UdpError::none || l4_checksum == RxChecksum::bad) {
    if (udp_error == wire::UdpError::bad_checksum || l4_checksum == RxChecksum::bad) {
      counters_.drop_udp_checksum.add();
    } else {
      counters_.drop_udp_length.add();
    }
    return Rx::consumed;
  }
  // The datagram stays where it landed: only the view moves past the headers.
  buf->data_off = static_cast<uint16_t>(buf->data_off + udp_offset + udp.payload_offset);
  buf->len = static_cast<uint16_t>(udp.payload_len);
  *from = make_v4(ip.src, udp.src_port);
  *local_port = udp.dst_port;
  counters_.rx_udp.add();
  return Rx::udp;
}

NetStack::Rx NetStack::receive_arp(PacketBuffer* buf, size_t offset, uint64_t now_ns) {
  const auto arp = wire::parse_arp(buf->data() + offset, buf->len - offset);
  if (!arp || arp->sender_mac.is_multicast()) {
    counters_.drop_bad_arp.add();
    return Rx::consumed;
  }
  const bool for_us = arp->target_ip == config_.ip;
  // RFC 826: a station we already know, or one asking for us, refreshes the cache.
  if (arp->sender_ip != 0 && (for_us || arp_.lookup(arp->sender_ip, now_ns) != nullptr))
    learn(arp->sender_ip, arp->sender_mac, now_ns);
  if (arp->op == wire::kArpReply) {
    counters_.arp_replies_received.add();
    return Rx::consumed;
  }
  if (!for_us) {
    counters_.drop_not_for_us.add();
    return Rx::consumed;
  }
  // The reply is the request turned around, in a buffer of its own.
  PacketBuffer* reply = pool_.alloc();
  if (reply == nullptr) {
    counters_.drop_no_buffer.add();
    return Rx::consumed;
  }
  wire::ArpPacket answer{};
  answer.op = wire::kArpReply;
  answer.sender_mac = config_.mac;
  answer.sender_ip = config_.ip;
  answer.target_mac = arp->sender_mac;
  answer.target_ip = arp->sender_ip;
  uint8_t* out = reply->data();
  wire::write_ethernet_header(out, arp->sender_mac, config_.mac, wire::kEtherTypeArp);
  wire::write_arp(out + kEth, answer);
  reply->len = static_cast<uint16_t>(kEth + wire::kArpPacketSize);
  std::memset(out + reply->len, 0, 60 - reply->len);  // pad to the Ethernet minimum
  reply->len = 60;
  counters_.arp_requests_answered.add();
  push_outgoing(reply);
  return Rx::consumed;
}

NetStack::Rx NetStack::receive_icmp(PacketBuffer* buf, size_t ip_offset, size_t ip_header,
                                    size_t ip_total) {
  const uint8_t* icmp = buf->data() + ip_offset + ip_header;
  const size_t icmp_len = ip_total - ip_header;
  const auto echo = wire::parse_icmp_echo(icmp, icmp_len, true);
  if (!echo || echo->type != wire::kIcmpEchoRequest) {
    counters_.drop_icmp_other.add();
    return Rx::consumed;
  }
  PacketBuffer* reply = pool_.alloc();
  if (reply == nullptr) {
    counters_.drop_no_buffer.add();
    return Rx::consumed;
  }
  if (kEth + kIp + icmp_len > reply->room()) {
    pool_.release(reply);
    counters_.drop_too_large.add();
    return Rx::consumed;
  }
  const uint8_t* in = buf->data();
  const uint32_t src = wire::load_be32(in + ip_offset + 12);
  wire::MacAddress peer;
  std::memcpy(peer.bytes.data(), in + 6, 6);
  uint8_t* out = reply->data();
  wire::write_ethernet_header(out, peer, config_.mac, wire::kEtherTypeIpv4);
  wire::write_ipv4_header(out + kEth, config_.ip, src, wire::kIpProtoIcmp,
                          static_cast<uint16_t>(icmp_len), next_ip_id_++, kTtl, true);
  std::memcpy(out + kEth + kIp, icmp, icmp_len);
  wire::make_icmp_echo_reply(out + kEth + kIp, icmp_len);
  reply->len = static_cast<uint16_t>(kEth + kIp + icmp_len);
  counters_.icmp_echo_answered.add();
  push_outgoing(reply);
  return Rx::consumed;
}

void NetStack::learn(uint32_t ip, const wire::MacAddress& mac, uint64_t now_ns) {
  const wire::MacAddress* known = arp_.lookup(ip, now_ns);
  const bool was_known = known != nullptr && *known == mac;
  arp_.learn(ip, mac, now_ns);
  if (was_known || pending_count_ == 0) return;
  // Datagrams that waited for this neighbour leave now, in the order they came.
  size_t kept = 0;
  for (size_t i = 0; i < pending_count_; ++i) {
    Pending& p = pending_[i];
    if (p.next_hop == ip) {
      std::memcpy(p.buf->data(), mac.bytes.data(), 6);
      counters_.tx_unparked.add();
      push_outgoing(p.buf);
    } else {
      pending_[kept++] = p;
    }
  }
  pending_count_ = kept;
}

void NetStack::send_arp_request(uint32_t target, uint64_t now_ns) {
  if (!arp_.should_request(target, now_ns)) return;
  PacketBuffer* req = pool_.alloc();
  if (req == nullptr) {
    counters_.drop_no_buffer.add();
    return;
  }
  wire::ArpPacket ask{};
  ask.op = wire::kArpRequest;
  ask.sender_mac = config_.mac;
  ask.sender_ip = config_.ip;
  ask.target_ip = target;
  uint8_t* out = req->data();
  wire::write_ethernet_header(out, wire::MacAddress::broadcast(), config_.mac, wire::kEtherTypeArp);
  wire::write_arp(out + kEth, ask);
  std::memset(out + kEth + wire::kArpPacketSize, 0, 60 - kEth - wire::kArpPacketSize);
  req->len = 60;
  counters_.arp_requests_sent.add();
  push_outgoing(req);
}

void NetStack::write_headers(PacketBuffer* buf, uint16_t src_port, uint32_t dst_ip,
                             uint16_t dst_port, const wire::MacAddress& dst_mac) {
  const size_t payload = buf->len;
  buf->data_off = static_cast<uint16_t>(buf->data_off - kHeaderRoom);
  buf->len = static_cast<uint16_t>(buf->len + kHeaderRoom);
  uint8_t* out = buf->data();
  wire::write_ethernet_header(out, dst_mac, config_.mac, wire::kEtherTypeIpv4);
  uint8_t* ip = out + kEth;
  uint8_t* udp = ip + kIp;
  wire::write_ipv4_header(ip, config_.ip, dst_ip, wire::kIpProtoUdp,
                          static_cast<uint16_t>(kUdp + payload), next_ip_id_++, kTtl,
                          !config_.tx_ipv4_checksum_offload);
  wire::write_udp_header(udp, src_port, dst_port, static_cast<uint16_t>(payload));
  const auto udp_len = static_cast<uint16_t>(kUdp + payload);
  // Offload wants the pseudo-header sum as the seed; without it the sum is ours to make.
  const uint16_t checksum =
      config_.tx_udp_checksum_offload
          ? wire::ipv4_pseudo_header_checksum(config_.ip, dst_ip, wire::kIpProtoUdp, udp_len)
          : wire::udp_ipv4_checksum(config_.ip, dst_ip, udp, udp_len);
  wire::store_be16(udp + 6, checksum);
}

bool NetStack::encapsulate(PacketBuffer* buf, uint16_t src_port, const SocketAddress& to,
                           uint64_t now_ns) {
  if (to.is_v6() || !to.valid()) {
    counters_.drop_no_route.add();
    pool_.release(buf);
    return false;
  }
  if (buf->headroom() < kHeaderRoom || buf->len + kHeaderRoom > config_.mtu + kEth) {
    counters_.drop_too_large.add();
    pool_.release(buf);
    return false;
  }
  const uint32_t dst_ip = v4_of(to);
  uint32_t next_hop = dst_ip;
  if (!on_link(dst_ip)) {
    if (config_.gateway == 0) {
      counters_.drop_no_route.add();
      pool_.release(buf);
      return false;
    }
    next_hop = config_.gateway;
  }
  const wire::MacAddress* mac = arp_.lookup(next_hop, now_ns);
  if (mac != nullptr) {
    write_headers(buf, src_port, dst_ip, to.port(), *mac);
    counters_.tx_frames.add();
    return true;
  }
  if (pending_count_ == kMaxPending) {
    counters_.drop_pending_full.add();
    pool_.release(buf);
    send_arp_request(next_hop, now_ns);
    return false;
  }
  write_headers(buf, src_port, dst_ip, to.port(), wire::MacAddress{});
  pending_[pending_count_++] = Pending{buf, next_hop, now_ns};
  counters_.tx_parked.add();
  send_arp_request(next_hop, now_ns);
  return false;
}

void NetStack::push_outgoing(PacketBuffer* buf) {
  if (outgoing_count_ == kMaxOutgoing) {
    counters_.drop_pending_full.add();
    pool_.release(buf);
    return;
  }
  counters_.tx_frames.add();
  outgoing_[outgoing_count_++] = buf;
}

size_t NetStack::take_outgoing(PacketBuffer** out, size_t max) {
  const size_t n = outgoing_count_ < max ? outgoing_count_ : max;
  std::memcpy(out, outgoing_.data(), n * sizeof(PacketBuffer*));
  std::memmove(outgoing_.data(), outgoing_.data() + n,
               (outgoing_count_ - n) * sizeof(PacketBuffer*));
  outgoing_count_ -= n;
  return n;
}

void NetStack::on_tick(uint64_t now_ns) {
  size_t kept = 0;
  for (size_t i = 0; i < pending_count_; ++i) {
    Pending& p = pending_[i];
    if (now_ns - p.since_ns >= config_.arp_pending_timeout_ns) {
      counters_.drop_arp_timeout.add();
      pool_.release(p.buf);
    } else {
      if (now_ns - p.since_ns >= config_.arp_retry_ns) send_arp_request(p.next_hop, now_ns);
      pending_[kept++] = p;
    }
  }
  pending_count_ = kept;
}

}  // namespace weir::dp
