// The RTCP the worker sends and answers on its own, because it owns the numbers and the
// SRTCP contexts: receiver reports for producer streams, sender reports and SDES for
// consumer streams, NACKs for what producers lost, retransmissions for what consumers
// lost (RFC 4588 RTX where negotiated), transport-cc feedback for producers' senders, and
// the consumers' reports, transport-cc feedback and REMB turned into RTT and bandwidth.
// Key-frame requests are in forwarding.cc with the packet path that triggers them.
#include <time.h>

#include <algorithm>
#include <cstring>

#include "base/clock.h"
#include "dataplane/forwarding.h"
#include "wire/rtcp_receiver_estimated_max_bitrate.h"
#include "wire/rtcp_receiver_report.h"
#include "wire/rtcp_sdes.h"
#include "wire/rtcp_sender_report.h"
#include "wire/rtcp_transport_layer_nack.h"

namespace weir::dp {

namespace {

constexpr uint64_t kTransportCcIntervalNs = 100'000'000;  // libwebrtc's feedback pace
constexpr uint64_t kReportIntervalNs = 1'000'000'000;     // mediasoup's video interval
constexpr size_t kMaxCompound = 1200;  // stays under any path MTU with SRTCP's trailer

uint64_t unix_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

uint64_t ForwardingTables::next_report_delay_ns() {
  // RFC 3550 6.3.1: spread reports over [0.5, 1.5] x the interval so that transports
  // created together do not report together forever.
  random_state_ ^= random_state_ << 13;
  random_state_ ^= random_state_ >> 7;
  random_state_ ^= random_state_ << 17;
  return kReportIntervalNs / 2 + random_state_ % kReportIntervalNs;
}

void ForwardingTables::on_tick(uint64_t now_ns) {
  if (now_ns < next_tick_ns_) return;
  next_tick_ns_ = now_ns + kTickNs;
  for (auto& [id, transport] : transports_) {
    TransportState& t = *transport;
    if (t.transport_cc && t.transport_cc->has_pending() && now_ns >= t.next_transport_cc_ns) {
      send_transport_cc_feedback(t);
      t.next_transport_cc_ns = now_ns + kTransportCcIntervalNs;
    }
    for (ProducerState* p : t.producers) {
      for (uint8_t i = 0; i < p->stream_count; ++i) {
        ProducerStream& s = p->streams[i];
        if (p->nack && s.nack_generator.pending() > 0) send_nacks(*p, s, now_ns);
      }
      if (p->simulcast()) update_layers(*p, now_ns);
    }
    if (t.next_report_ns == 0) t.next_report_ns = now_ns + next_report_delay_ns();
    if (now_ns >= t.next_report_ns) {
      send_reports(t, now_ns);
      t.next_report_ns = now_ns + next_report_delay_ns();
    }
  }
  for (ProducerState* p : piped_producers_) {
    if (p->simulcast()) update_layers(*p, now_ns);
  }
  tx_.flush();
}

void ForwardingTables::send_transport_cc_feedback(TransportState& t) {
  PacketBuffer* buf = pool_.alloc();
  if (buf == nullptr) return;
  const size_t room = std::min(buf->room() - SrtpSession::kMaxTrailer, kMaxCompound);
  const size_t n =
      t.transport_cc->write_feedback(buf->data(), room, kRtcpSenderSsrc, t.transport_cc_media_ssrc);
  if (n == 0) {
    pool_.release(buf);
    return;
  }
  buf->len = static_cast<uint16_t>(n);
  if (send_rtcp(t, buf)) t.counters->transport_cc_feedbacks_sent.add();
}

void ForwardingTables::update_layers(ProducerState& p, uint64_t now_ns) {
  uint8_t active = 0;
  uint64_t lost = 0, highest = 0;
  for (uint8_t i = 0; i < p.stream_count; ++i) {
    const ProducerStream& s = p.streams[i];
    if (s.last_packet_ns != 0 && now_ns - s.last_packet_ns < kLayerActiveNs) {
      active = static_cast<uint8_t>(active | (1u << i));
    }
    lost += s.stats.sequence().lost();
    highest += s.stats.sequence().extended_max();
  }
  p.counters->lost.set(lost);
  p.counters->highest_seq.set(highest);
  p.active_layers = active;
  // Every tick, not only on a change: a consumer whose target differs from what it forwards
  // asks again (throttled per stream) until the key frame comes.
  for (ConsumerState* c : p.consumers) retarget(*c, now_ns);
}

void ForwardingTables::send_nacks(ProducerState& p, ProducerStream& s, uint64_t now_ns) {
  uint16_t seqs[64];
  const size_t count = s.nack_generator.due(now_ns, seqs);
  if (count == 0 || p.transport == nullptr || s.ssrc == 0) return;
  std::sort(seqs, seqs + count, [](uint16_t a, uint16_t b) {
    return static_cast<int16_t>(a - b) < 0;  // wrap-aware, so PID/BLP pairs pack tightly
  });
  wire::NackPair pairs[64];
  const size_t pair_count =
      wire::nack_pairs_from_sequence_numbers(std::span(seqs, count), std::span(pairs));
  PacketBuffer* buf = pool_.alloc();
  if (buf == nullptr) return;
  const size_t n =
      wire::write_rtcp_transport_layer_nack(buf->data(), buf->room() - SrtpSession::kMaxTrailer,
                                            kRtcpSenderSsrc, s.ssrc, std::span(pairs, pair_count));
  if (n == 0) {
    pool_.release(buf);
    return;
  }
  buf->len = static_cast<uint16_t>(n);
  if (send_rtcp(*p.transport, buf)) p.counters->nacked.add(count);
}

void ForwardingTables::send_reports(TransportState& t, uint64_t now_ns) {
  if (t.producers.empty() && t.consumers.empty()) return;
  const uint64_t ntp = ntp_from_unix_ns(unix_now_ns());
  // One compound per datagram: it starts with an RR (the producers' report blocks, 31 at
  // most) or with the first SR, then SRs and one SDES with the CNAMEs of the SRs in it.
  size_t producer_index = 0;
  uint8_t stream_index = 0;  // within t.producers[producer_index]
  size_t consumer_index = 0;
  uint8_t worst_fraction_lost = 0;  // for the REMB
  while (producer_index < t.producers.size() || consumer_index < t.consumers.size()) {
    PacketBuffer* buf = pool_.alloc();
    if (buf == nullptr) return;
    uint8_t* out = buf->data();
    const size_t room = std::min(buf->room() - SrtpSession::kMaxTrailer, kMaxCompound);
    size_t len = 0;
    if (producer_index < t.producers.size()) {
      wire::RtcpReceptionReport blocks[wire::kRtcpMaxCount];
      size_t count = 0;
      while (producer_index < t.producers.size() && count < wire::kRtcpMaxCount) {
        ProducerState& p = *t.producers[producer_index];
        ProducerStream& s = p.streams[stream_index];
        if (++stream_index >= p.stream_count) {
          stream_index = 0;
          ++producer_index;
        }
        if (s.stats.received() == 0 || s.ssrc == 0) continue;  // nothing to report on yet
        blocks[count] = s.stats.make_report(s.ssrc, now_ns);
        s.last_jitter = blocks[count].jitter;
        s.last_fraction_lost = blocks[count].fraction_lost;
        worst_fraction_lost = std::max(worst_fraction_lost, blocks[count].fraction_lost);
        ++count;
      }
      len += wire::write_rtcp_receiver_report(out, room, kRtcpSenderSsrc, std::span(blocks, count));
    }
    // The consumers that fit after it, with their SDES chunks.
    wire::RtcpSdesItem items[wire::kRtcpMaxCount];
    wire::RtcpSdesChunk chunks[wire::kRtcpMaxCount];
    size_t chunk_count = 0;
    size_t sdes_size = 4;
    while (consumer_index < t.consumers.size() && chunk_count < wire::kRtcpMaxCount) {
      ConsumerState& c = *t.consumers[consumer_index];
      const ConsumerCounters& cc = *c.counters;
      if (cc.packets.get() == 0 || c.producer == nullptr) {
        ++consumer_index;  // has sent nothing: no sender report yet (RFC 3550 6.4)
        continue;
      }
      const size_t chunk_size = (4 + 2 + c.cname_len + 1 + 3) & ~size_t{3};
      if (len + wire::RtcpSenderReportView::kFixedSize + sdes_size + chunk_size > room) break;
      wire::RtcpSenderInfo info;
      info.ssrc = c.ssrc;
      info.ntp_timestamp = ntp;
      const uint64_t since_ns =
          now_ns > c.continuity.last_sent_ns ? now_ns - c.continuity.last_sent_ns : 0;
      info.rtp_timestamp =
          static_cast<uint32_t>(c.continuity.last_ts + since_ns * c.clock_rate / 1000000000ull);
      info.packet_count = static_cast<uint32_t>(cc.packets.get());
      info.octet_count = static_cast<uint32_t>(c.payload_octets);
      const size_t n = wire::write_rtcp_sender_report(out + len, room - len, info, {});
      if (n == 0) break;
      len += n;
      if (c.cname_len > 0) {
        items[chunk_count] =
            wire::RtcpSdesItem{wire::kSdesCname, std::string_view(c.cname.data(), c.cname_len)};
        chunks[chunk_count] = wire::RtcpSdesChunk{c.ssrc, std::span(&items[chunk_count], 1)};
        ++chunk_count;
        sdes_size += chunk_size;
      }
      ++consumer_index;
    }
    if (chunk_count > 0) {
      len += wire::write_rtcp_sdes(out + len, room - len, std::span(chunks, chunk_count));
    }
    if (len == 0) {
      pool_.release(buf);
      return;
    }
    buf->len = static_cast<uint16_t>(len);
    send_rtcp(t, buf);
  }
  for (ProducerState* p : t.producers) {
    uint32_t jitter = 0;
    uint8_t fraction_lost = 0;
    for (uint8_t i = 0; i < p->stream_count; ++i) {
      jitter = std::max(jitter, p->streams[i].last_jitter);
      fraction_lost = std::max(fraction_lost, p->streams[i].last_fraction_lost);
    }
    p->counters->jitter.set(jitter);
    p->counters->fraction_lost.set(fraction_lost);
  }
  if (t.incoming) send_remb(t, worst_fraction_lost, now_ns);
}

void ForwardingTables::send_remb(TransportState& t, uint8_t fraction_lost, uint64_t now_ns) {
  uint32_t ssrcs[wire::kRtcpMaxCount];
  size_t count = 0;
  for (const ProducerState* p : t.producers) {
    if (!p->remb) continue;
    for (uint8_t i = 0; i < p->stream_count && count < wire::kRtcpMaxCount; ++i) {
      if (p->streams[i].ssrc != 0) ssrcs[count++] = p->streams[i].ssrc;
    }
  }
  if (count == 0) return;
  const uint64_t bps = t.incoming->update(now_ns, fraction_lost);
  PacketBuffer* buf = pool_.alloc();
  if (buf == nullptr) return;
  const size_t n = wire::write_rtcp_receiver_estimated_max_bitrate(
      buf->data(), buf->room() - SrtpSession::kMaxTrailer, kRtcpSenderSsrc, bps,
      std::span(ssrcs, count));
  if (n == 0) {
    pool_.release(buf);
    return;
  }
  buf->len = static_cast<uint16_t>(n);
  if (send_rtcp(t, buf)) t.counters->advertised_bitrate_bps.set(bps);
}

void ForwardingTables::on_reception_report(TransportState& t,
                                           const wire::RtcpReceptionReport& report,
                                           uint64_t now_ns) {
  (void)now_ns;
  ConsumerState* c = consumer_by_ssrc(t, report.ssrc);
  if (c == nullptr) return;
  ConsumerCounters& cc = *c->counters;
  cc.reported_fraction_lost.set(report.fraction_lost);
  cc.reported_lost.set(report.cumulative_lost > 0 ? static_cast<uint64_t>(report.cumulative_lost)
                                                  : 0);
  if (report.last_sender_report == 0) return;
  // RFC 3550 6.4.1: RTT = arrival - LSR - DLSR, in 1/65536 s.
  const uint32_t arrival = ntp_middle32(ntp_from_unix_ns(unix_now_ns()));
  const uint32_t rtt = arrival - report.last_sender_report - report.delay_since_last_sender_report;
  if (static_cast<int32_t>(rtt) < 0) return;  // clocks or a lying peer: ignored
  cc.rtt_us.set(static_cast<uint64_t>(rtt) * 1000000 / 65536);
}

void ForwardingTables::on_consumer_nack(TransportState& t, const uint8_t* packet, size_t len) {
  wire::RtcpTransportLayerNackView nack;
  if (!wire::RtcpTransportLayerNackView::parse(packet, len, nack)) return;
  ConsumerState* c = consumer_by_ssrc(t, nack.media_ssrc());
  if (c == nullptr) return;
  nack.for_each_lost([&](uint16_t seq) {
    c->counters->nacked.add();
    if (c->nack) retransmit(*c, seq);
  });
}

void ForwardingTables::retransmit(ConsumerState& c, uint16_t consumer_seq) {
  ProducerState* p = c.producer;
  TransportState& t = *c.transport;
  if (p == nullptr || c.paused || !c.continuity.started || !t.remote_rtp.valid()) return;
  if (t.srtp_required && !t.srtp_out) return;
  // Which stream and which numbering the packet had when it was sent: the segment of the
  // consumer's numbering it falls in (a layer switch or resync starts a new one).
  const LayerSegment* segment = c.segments.find(consumer_seq);
  if (segment == nullptr || static_cast<int16_t>(consumer_seq - c.continuity.last_seq) > 0) return;
  const ProducerStream& s = p->streams[segment->stream];
  if (!s.history) return;
  const auto producer_seq = static_cast<uint16_t>(consumer_seq + segment->seq_offset);
  PacketBuffer* stored = s.history->find(producer_seq);
  if (stored == nullptr) return;
  wire::RtpPacketView in;
  if (!wire::RtpPacketView::parse(stored->data(), stored->len, in)) return;
  PacketBuffer* out = pool_.alloc();
  if (out == nullptr) return;
  if (!write_for_consumer(c, in, out, weir::now_ns())) {
    pool_.release(out);
    return;
  }
  // Numbered as it was then, not with the current offsets.
  wire::rtp_set_sequence_number(out->data(), consumer_seq);
  wire::rtp_set_timestamp(out->data(), in.timestamp() - segment->ts_offset);
  wire::Vp8Descriptor vp8;
  if (p->simulcast() && p->codec == wire::CodecKind::vp8 &&
      wire::parse_vp8_descriptor(in.payload(), in.payload_size(), vp8)) {
    wire::rewrite_vp8_descriptor(
        out->data() + out->len - in.payload_size(), vp8,
        static_cast<uint16_t>(vp8.picture_id - segment->picture_id_offset),
        static_cast<uint8_t>(vp8.tl0_pic_idx - segment->tl0_offset));
  }
  if (c.rtx_ssrc != 0) {
    // RFC 4588 4: the RTX header, then the original sequence number, then the payload.
    wire::RtpPacketView written;
    if (!wire::RtpPacketView::parse(out->data(), out->len, written) ||
        out->len + 2u + SrtpSession::kMaxTrailer > out->room()) {
      pool_.release(out);
      return;
    }
    uint8_t* o = out->data();
    const size_t header = written.header_size();
    std::memmove(o + header + 2, o + header, out->len - header);
    wire::store_be16(o + header, consumer_seq);
    o[1] = static_cast<uint8_t>((o[1] & 0x80) | (c.rtx_payload_type & 0x7F));
    wire::store_be16(o + 2, c.rtx_sequence++);
    wire::store_be32(o + 8, c.rtx_ssrc);
    out->len = static_cast<uint16_t>(out->len + 2);
  }
  if (t.srtp_out) {
    size_t out_len = out->len;
    if (t.srtp_out->protect_rtp(out->data(), out_len, out->room()) != SrtpStatus::ok) {
      pool_.release(out);
      return;
    }
    out->len = static_cast<uint16_t>(out_len);
  }
  c.counters->retransmitted.add();
  t.counters->rtp_packets_out.add();
  t.counters->bytes_out.add(out->len);
  worker_counters_.tx_packets.add();
  worker_counters_.tx_bytes.add(out->len);
  tx_.push(TxPacket{out, static_cast<uint32_t>(t.rtp_socket), t.remote_rtp});
}

bool ForwardingTables::unwrap_rtx(ProducerState& p, const ProducerStream& s, RxPacket& rx,
                                  wire::RtpPacketView& rtp) {
  const uint8_t media_pt = p.rtx_apt[rtp.payload_type()];
  if (media_pt == kNoMapping || rtp.payload_size() < 2) {
    // Padding-only RTX is bandwidth probing: it repairs nothing.
    p.counters->dropped.add(DropReason::not_media);
    return false;
  }
  // In place, no copy: the header moves 2 bytes forward over the original sequence
  // number, and the buffer starts 2 bytes later.
  PacketBuffer* buf = rx.buf;
  uint8_t* d = buf->data();
  const size_t header = rtp.header_size();
  const uint16_t original_seq = wire::load_be16(d + header);
  std::memmove(d + 2, d, header);
  buf->data_off = static_cast<uint16_t>(buf->data_off + 2);
  buf->len = static_cast<uint16_t>(buf->len - 2);
  d = buf->data();
  d[1] = static_cast<uint8_t>((d[1] & 0x80) | media_pt);
  wire::store_be16(d + 2, original_seq);
  wire::store_be32(d + 8, s.ssrc);
  return wire::RtpPacketView::parse(d, buf->len, rtp);
}

}  // namespace weir::dp
