#include "dataplane/forwarding.h"

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "wire/rtcp_compound.h"
#include "wire/rtp_packet.h"

namespace weir::dp {

// ---------------------------------------------------------------------------------------
// Sequence bookkeeping

void SequenceTracker::update(uint16_t seq) {
  ++received;
  if (!started) {
    started = true;
    max_seq = seq;
    base_seq = seq;
    return;
  }
  const auto delta = static_cast<uint16_t>(seq - max_seq);
  if (delta != 0 && delta < 0x8000) {
    if (seq < max_seq) cycles += 0x10000;  // wrapped
    max_seq = seq;
  }
}

uint64_t SequenceTracker::lost() const {
  if (!started) return 0;
  const uint64_t expected = extended_max() - base_seq + 1;
  return expected > received ? expected - received : 0;
}

void RtpContinuity::resync(uint16_t in_seq, uint32_t in_ts, uint64_t now_ns,
                           uint32_t clock_rate) {
  if (!started) {
    // A new consumer starts where the producer is: nothing to be continuous with yet.
    seq_offset = 0;
    ts_offset = 0;
    started = true;
    return;
  }
  const auto next_seq = static_cast<uint16_t>(last_seq + 1);
  // Advance the timestamp by the wall time that passed since the last packet sent (at
  // least one tick), so a receiver's jitter buffer sees time move forward, not a jump.
  uint64_t elapsed_ticks = (now_ns - last_sent_ns) * clock_rate / 1000000000ull;
  if (elapsed_ticks == 0) elapsed_ticks = 1;
  const auto next_ts = static_cast<uint32_t>(last_ts + elapsed_ticks);
  seq_offset = static_cast<uint16_t>(in_seq - next_seq);
  ts_offset = in_ts - next_ts;
}

void RtpContinuity::sent(uint16_t out_seq, uint32_t out_ts, uint64_t now_ns) {
  if (last_sent_ns == 0 || static_cast<int16_t>(out_seq - last_seq) > 0) {
    last_seq = out_seq;
    last_ts = out_ts;
  }
  last_sent_ns = now_ns;
}

// ---------------------------------------------------------------------------------------
// Tables and commands

ForwardingTables::ForwardingTables(PacketPool& pool, UdpEngine& engine, WorkerCounters& counters)
    : pool_(pool), engine_(engine), worker_counters_(counters), tx_(&engine) {}

ForwardingTables::~ForwardingTables() {
  for (auto& [id, t] : transports_) {
    if (t->rtp_socket >= 0) engine_.remove_socket(static_cast<uint32_t>(t->rtp_socket));
    if (t->rtcp_socket >= 0) engine_.remove_socket(static_cast<uint32_t>(t->rtcp_socket));
  }
}

void ForwardingTables::apply(Command& command) {
  std::visit(
      [this](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, AddPlainTransport>) on_add_transport(c);
        else if constexpr (std::is_same_v<T, ConnectTransport>) on_connect(c);
        else if constexpr (std::is_same_v<T, SetTransportSrtp>) on_set_srtp(c);
        else if constexpr (std::is_same_v<T, RemoveTransport>) on_remove_transport(c);
        else if constexpr (std::is_same_v<T, AddProducer>) on_add_producer(c);
        else if constexpr (std::is_same_v<T, SetProducerPaused>) on_producer_paused(c);
        else if constexpr (std::is_same_v<T, RemoveProducer>) on_remove_producer(c);
        else if constexpr (std::is_same_v<T, AddConsumer>) on_add_consumer(c);
        else if constexpr (std::is_same_v<T, SetConsumerPaused>) on_consumer_paused(c);
        else if constexpr (std::is_same_v<T, RemoveConsumer>) on_remove_consumer(c);
      },
      command);
}

void ForwardingTables::bind_socket(int socket, TransportState* t, bool rtcp) {
  if (socket < 0) return;
  const auto i = static_cast<size_t>(socket);
  if (sockets_.size() <= i) sockets_.resize(i + 1);
  sockets_[i] = SocketBinding{t, rtcp};
}

void ForwardingTables::on_add_transport(AddPlainTransport& c) {
  if (transports_.count(c.id) != 0) {
    LOG_ERROR("worker", "transport %u added twice; ignoring the second", c.id);
    return;
  }
  auto t = std::make_unique<TransportState>();
  t->id = c.id;
  t->comedia = c.comedia;
  t->srtp_required = c.srtp;
  t->remote_rtp = c.remote_rtp;
  t->remote_rtcp = c.remote_rtcp;
  t->counters = c.counters;
  std::string error;
  t->rtp_socket = engine_.add_socket(c.rtp_fd, &error);
  if (t->rtp_socket < 0) {
    LOG_ERROR("worker", "transport %u: cannot receive on its RTP socket: %s", c.id, error.c_str());
  }
  if (c.rtcp_fd >= 0) {
    t->rtcp_socket = engine_.add_socket(c.rtcp_fd, &error);
    if (t->rtcp_socket < 0) {
      LOG_ERROR("worker", "transport %u: cannot receive on its RTCP socket: %s", c.id,
                error.c_str());
    }
  }
  bind_socket(t->rtp_socket, t.get(), false);
  bind_socket(t->rtcp_socket, t.get(), true);
  transports_.emplace(c.id, std::move(t));
}

void ForwardingTables::on_connect(const ConnectTransport& c) {
  auto it = transports_.find(c.id);
  if (it == transports_.end()) return;
  TransportState& t = *it->second;
  t.remote_rtp = c.remote_rtp;
  t.remote_rtcp = c.remote_rtcp;
}

void ForwardingTables::on_set_srtp(SetTransportSrtp& c) {
  // Ownership of the sessions passes to us whether or not the transport still exists.
  std::unique_ptr<SrtpSession> in(c.inbound), out(c.outbound);
  auto it = transports_.find(c.id);
  if (it == transports_.end()) return;
  it->second->srtp_in = std::move(in);
  it->second->srtp_out = std::move(out);
}

void ForwardingTables::detach_consumer(ConsumerState* c) {
  if (c->producer != nullptr) {
    auto& v = c->producer->consumers;
    v.erase(std::remove(v.begin(), v.end(), c), v.end());
    c->producer = nullptr;
  }
}

void ForwardingTables::detach_producer(ProducerState* p) {
  for (ConsumerState* c : p->consumers) c->producer = nullptr;
  p->consumers.clear();
  if (p->transport != nullptr) {
    auto& v = p->transport->producers;
    v.erase(std::remove(v.begin(), v.end(), p), v.end());
    p->transport = nullptr;
  }
}

void ForwardingTables::on_remove_transport(const RemoveTransport& c) {
  auto it = transports_.find(c.id);
  if (it == transports_.end()) return;
  TransportState* t = it->second.get();
  // Whatever still lives on the transport goes with it: the control side frees the
  // counters once this command is acknowledged.
  for (auto ci = consumers_.begin(); ci != consumers_.end();) {
    if (ci->second->transport == t) {
      detach_consumer(ci->second.get());
      ci = consumers_.erase(ci);
    } else {
      ++ci;
    }
  }
  for (auto pi = producers_.begin(); pi != producers_.end();) {
    if (pi->second->transport == t) {
      detach_producer(pi->second.get());
      pi = producers_.erase(pi);
    } else {
      ++pi;
    }
  }
  for (int s : {t->rtp_socket, t->rtcp_socket}) {
    if (s < 0) continue;
    engine_.remove_socket(static_cast<uint32_t>(s));
    sockets_[static_cast<size_t>(s)] = SocketBinding{};
  }
  transports_.erase(it);
}

void ForwardingTables::map_through_producer(ConsumerState& c) {
  c.pt_from_producer.fill(kNoMapping);
  c.ext_from_producer.fill(0);
  c.two_byte_extensions = false;
  if (c.producer == nullptr) return;
  for (size_t pt = 0; pt < c.pt_from_producer.size(); ++pt) {
    const uint8_t router_pt = c.producer->pt_map[pt];
    if (router_pt != kNoMapping && router_pt < 128) c.pt_from_producer[pt] = c.router_pt_map[router_pt];
  }
  for (size_t id = 1; id < c.ext_from_producer.size(); ++id) {
    const uint8_t router_id = c.producer->ext_map[id];
    if (router_id == 0) continue;
    const uint8_t out = c.router_ext_map[router_id];
    c.ext_from_producer[id] = out;
    if (out > 14) c.two_byte_extensions = true;
  }
}

void ForwardingTables::on_add_producer(const AddProducer& c) {
  auto t = transports_.find(c.transport);
  if (t == transports_.end() || producers_.count(c.id) != 0) {
    LOG_ERROR("worker", "producer %u refers to unknown transport %u or exists; ignored", c.id,
              c.transport);
    return;
  }
  auto p = std::make_unique<ProducerState>();
  p->id = c.id;
  p->transport = t->second.get();
  p->ssrc = c.ssrc;
  p->clock_rate = c.clock_rate;
  p->codec = c.codec;
  p->paused = c.paused;
  p->pt_map = c.pt_map;
  p->ext_map = c.ext_map;
  p->counters = c.counters;
  t->second->producers.push_back(p.get());
  producers_.emplace(c.id, std::move(p));
}

void ForwardingTables::on_producer_paused(const SetProducerPaused& c) {
  auto it = producers_.find(c.id);
  if (it == producers_.end()) return;
  ProducerState& p = *it->second;
  if (p.paused && !c.paused) {
    for (ConsumerState* consumer : p.consumers) consumer->sync_required = true;
  }
  p.paused = c.paused;
}

void ForwardingTables::on_remove_producer(const RemoveProducer& c) {
  auto it = producers_.find(c.id);
  if (it == producers_.end()) return;
  detach_producer(it->second.get());
  producers_.erase(it);
}

void ForwardingTables::on_add_consumer(const AddConsumer& c) {
  auto p = producers_.find(c.producer);
  auto t = transports_.find(c.transport);
  if (p == producers_.end() || t == transports_.end() || consumers_.count(c.id) != 0) {
    LOG_ERROR("worker", "consumer %u refers to unknown producer %u or transport %u; ignored",
              c.id, c.producer, c.transport);
    return;
  }
  auto consumer = std::make_unique<ConsumerState>();
  consumer->id = c.id;
  consumer->producer = p->second.get();
  consumer->transport = t->second.get();
  consumer->ssrc = c.ssrc;
  consumer->clock_rate = c.clock_rate;
  consumer->paused = c.paused;
  consumer->keyframe_sync = c.keyframe_sync;
  consumer->router_pt_map = c.pt_map;
  consumer->router_ext_map = c.ext_map;
  consumer->counters = c.counters;
  map_through_producer(*consumer);
  p->second->consumers.push_back(consumer.get());
  consumers_.emplace(c.id, std::move(consumer));
}

void ForwardingTables::on_consumer_paused(const SetConsumerPaused& c) {
  auto it = consumers_.find(c.id);
  if (it == consumers_.end()) return;
  ConsumerState& consumer = *it->second;
  if (consumer.paused && !c.paused) consumer.sync_required = true;
  consumer.paused = c.paused;
}

void ForwardingTables::on_remove_consumer(const RemoveConsumer& c) {
  auto it = consumers_.find(c.id);
  if (it == consumers_.end()) return;
  detach_consumer(it->second.get());
  consumers_.erase(it);
}

// ---------------------------------------------------------------------------------------
// The packet path

void ForwardingTables::process_burst(RxPacket* packets, size_t count, uint64_t now_ns) {
  for (size_t i = 0; i < count; ++i) {
    if (i + 1 < count) __builtin_prefetch(packets[i + 1].buf->data());
    on_datagram(packets[i], now_ns);
  }
  tx_.flush();
}

void ForwardingTables::on_datagram(RxPacket& rx, uint64_t now_ns) {
  worker_counters_.rx_packets.add();
  worker_counters_.rx_bytes.add(rx.buf->len);
  if (rx.socket >= sockets_.size() || sockets_[rx.socket].transport == nullptr) {
    worker_counters_.dropped.add(DropReason::unknown_remote);
    return;
  }
  const SocketBinding& binding = sockets_[rx.socket];
  TransportState& t = *binding.transport;
  t.counters->bytes_in.add(rx.buf->len);
  switch (wire::classify_packet(rx.buf->data(), rx.buf->len)) {
    case wire::PacketClass::rtp:
      if (binding.rtcp) {
        t.counters->dropped.add(DropReason::malformed_rtcp);
        return;
      }
      on_rtp(t, rx, now_ns);
      return;
    case wire::PacketClass::rtcp:
      on_rtcp(t, rx, binding.rtcp);
      return;
    case wire::PacketClass::stun:
    case wire::PacketClass::dtls:
      // A plain transport speaks neither ICE nor DTLS.
      t.counters->dropped.add(DropReason::control_unhandled);
      return;
    case wire::PacketClass::unknown:
      t.counters->dropped.add(DropReason::not_media);
      return;
  }
}

namespace {

DropReason srtp_drop_reason(SrtpStatus s) {
  switch (s) {
    case SrtpStatus::auth_failed: return DropReason::srtp_auth_failed;
    case SrtpStatus::replay: return DropReason::srtp_replay;
    default: return DropReason::srtp_other;
  }
}

}  // namespace

bool ForwardingTables::unprotect(TransportState& t, PacketBuffer* buf, bool rtcp) {
  if (!t.srtp_required) return true;
  if (!t.srtp_in) {  // keys not exchanged yet
    t.counters->dropped.add(DropReason::srtp_other);
    return false;
  }
  size_t len = buf->len;
  const SrtpStatus s = rtcp ? t.srtp_in->unprotect_rtcp(buf->data(), len)
                            : t.srtp_in->unprotect_rtp(buf->data(), len);
  if (s != SrtpStatus::ok) {
    t.counters->dropped.add(srtp_drop_reason(s));
    return false;
  }
  buf->len = static_cast<uint16_t>(len);
  return true;
}

void ForwardingTables::on_rtp(TransportState& t, RxPacket& rx, uint64_t now_ns) {
  PacketBuffer* buf = rx.buf;
  // The remote is checked before decryption: a packet from a stranger costs no crypto.
  if (t.remote_rtp.valid() && rx.from != t.remote_rtp) {
    t.counters->dropped.add(DropReason::unknown_remote);
    return;
  }
  if (!unprotect(t, buf, false)) return;
  wire::RtpPacketView rtp;
  if (!wire::RtpPacketView::parse(buf->data(), buf->len, rtp)) {
    t.counters->dropped.add(DropReason::malformed_rtp);
    return;
  }
  t.counters->rtp_packets_in.add();
  if (!t.remote_rtp.valid()) {
    if (!t.comedia) {
      t.counters->dropped.add(DropReason::no_remote);
      return;
    }
    t.remote_rtp = rx.from;  // comedia: the first valid packet names the remote
    LOG_INFO("worker", "transport %u: learned remote RTP address %s (comedia)", t.id,
             rx.from.to_string().c_str());
  }

  ProducerState* producer = nullptr;
  const uint32_t ssrc = rtp.ssrc();
  for (ProducerState* p : t.producers) {
    if (p->ssrc == ssrc) {
      producer = p;
      break;
    }
  }
  if (producer == nullptr) {
    t.counters->dropped.add(DropReason::unknown_ssrc);
    return;
  }
  ProducerCounters& pc = *producer->counters;
  if (producer->pt_map[rtp.payload_type()] == kNoMapping) {
    pc.dropped.add(DropReason::unknown_payload_type);
    return;
  }
  pc.packets.add();
  pc.bytes.add(buf->len);
  producer->sequence.update(rtp.sequence_number());
  pc.lost.set(producer->sequence.lost());
  pc.highest_seq.set(producer->sequence.extended_max());
  const bool keyframe = wire::is_keyframe(producer->codec, rtp.payload(), rtp.payload_size());
  if (keyframe && producer->codec != wire::CodecKind::opus &&
      producer->codec != wire::CodecKind::other) {
    pc.keyframes.add();
  }
  if (producer->paused) {
    pc.dropped.add(DropReason::paused);
    return;
  }
  forward(*producer, rtp, keyframe, now_ns);
}

void ForwardingTables::forward(ProducerState& p, const wire::RtpPacketView& rtp, bool keyframe,
                               uint64_t now_ns) {
  for (ConsumerState* c : p.consumers) {
    ConsumerCounters& cc = *c->counters;
    if (c->paused) {
      cc.dropped.add(DropReason::paused);
      continue;
    }
    TransportState& t = *c->transport;
    if (!t.remote_rtp.valid()) {
      cc.dropped.add(DropReason::no_remote);
      continue;
    }
    if (t.srtp_required && !t.srtp_out) {
      cc.dropped.add(DropReason::srtp_other);
      continue;
    }
    if (c->sync_required) {
      if (c->keyframe_sync && !keyframe) {
        cc.dropped.add(DropReason::waiting_keyframe);
        continue;
      }
      c->continuity.resync(rtp.sequence_number(), rtp.timestamp(), now_ns, c->clock_rate);
      c->sync_required = false;
    }
    PacketBuffer* out = pool_.alloc();
    if (out == nullptr) {
      cc.dropped.add(DropReason::no_buffer);
      continue;
    }
    if (!write_for_consumer(*c, rtp, out)) {
      pool_.release(out);
      cc.dropped.add(DropReason::too_large);
      continue;
    }
    if (t.srtp_out) {
      size_t out_len = out->len;
      const SrtpStatus s = t.srtp_out->protect_rtp(out->data(), out_len, out->room());
      if (s != SrtpStatus::ok) {
        pool_.release(out);
        cc.dropped.add(srtp_drop_reason(s));
        continue;
      }
      out->len = static_cast<uint16_t>(out_len);
    }
    c->continuity.sent(wire::load_be16(out->data() + 2), wire::load_be32(out->data() + 4),
                       now_ns);
    cc.packets.add();
    cc.bytes.add(out->len);
    t.counters->rtp_packets_out.add();
    t.counters->bytes_out.add(out->len);
    worker_counters_.tx_packets.add();
    worker_counters_.tx_bytes.add(out->len);
    tx_.push(TxPacket{out, static_cast<uint32_t>(t.rtp_socket), t.remote_rtp});
  }
}

bool ForwardingTables::write_for_consumer(ConsumerState& c, const wire::RtpPacketView& in,
                                          PacketBuffer* out) {
  const size_t room = out->room() - SrtpSession::kMaxTrailer;
  uint8_t* o = out->data();
  const size_t csrc_bytes = 4u * in.csrc_count();
  if (12 + csrc_bytes > room) return false;

  const uint8_t pt = c.pt_from_producer[in.payload_type()];
  wire::write_rtp_fixed_header(o, in.marker(), pt == kNoMapping ? in.payload_type() : pt,
                               c.continuity.map_seq(in.sequence_number()),
                               c.continuity.map_ts(in.timestamp()), c.ssrc);
  o[0] = static_cast<uint8_t>(o[0] | in.csrc_count());
  std::memcpy(o + 12, in.data() + 12, csrc_bytes);
  size_t off = 12 + csrc_bytes;

  if (in.has_extension()) {
    wire::RtpExtensionWriter ext(o + off, room - off,
                                 in.two_byte_extensions() || c.two_byte_extensions);
    in.for_each_extension([&](uint8_t id, const uint8_t* value, size_t vlen) {
      const uint8_t out_id = c.ext_from_producer[id];
      if (out_id != 0) ext.add(out_id, value, vlen);
    });
    const size_t ext_len = ext.finish();
    if (ext_len > 0) {
      wire::rtp_set_extension_bit(o, true);
      off += ext_len;
    }
  }
  // Padding is not forwarded: it carries nothing and SRTP re-pads nothing.
  if (off + in.payload_size() > room) return false;
  std::memcpy(o + off, in.payload(), in.payload_size());
  out->len = static_cast<uint16_t>(off + in.payload_size());
  return true;
}

void ForwardingTables::on_rtcp(TransportState& t, RxPacket& rx, bool on_rtcp_socket) {
  PacketBuffer* buf = rx.buf;
  const SocketAddress& expected = on_rtcp_socket ? t.remote_rtcp : t.remote_rtp;
  if (expected.valid() && rx.from != expected) {
    t.counters->dropped.add(DropReason::unknown_remote);
    return;
  }
  if (!unprotect(t, buf, true)) return;
  if (!wire::validate_rtcp_compound(buf->data(), buf->len)) {
    t.counters->dropped.add(DropReason::malformed_rtcp);
    return;
  }
  t.counters->rtcp_packets_in.add();
  if (on_rtcp_socket && !t.remote_rtcp.valid() && t.comedia) {
    t.remote_rtcp = rx.from;
    LOG_INFO("worker", "transport %u: learned remote RTCP address %s (comedia)", t.id,
             rx.from.to_string().c_str());
  }
  // Receiver reports, NACK, PLI/FIR, REMB and transport-cc are acted on by the RTCP
  // machinery of the WebRTC transport work; here a valid compound is counted.
}

}  // namespace weir::dp
