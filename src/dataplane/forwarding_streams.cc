// Stream routing on a transport: which producer stream an arriving SSRC belongs to.
// Signaled SSRCs are routed when the producer is added; browsers that signal none (RID-only
// simulcast, MID-only streams) have each SSRC learned from the first packet that carries
// the RID, repaired RID (RTX) or MID header extension, after which the SSRC is routed like
// a signaled one and no string is compared again.
#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "dataplane/forwarding.h"

namespace weir::dp {

namespace {

bool has_rtx(const ProducerState& p) {
  return std::any_of(p.rtx_apt.begin(), p.rtx_apt.end(),
                     [](uint8_t apt) { return apt != kNoMapping; });
}

bool value_is(const uint8_t* value, size_t len, const char* expected, size_t expected_len) {
  return len == expected_len && std::memcmp(value, expected, len) == 0;
}

}  // namespace

void ForwardingTables::add_route(TransportState& t, uint32_t ssrc, ProducerState* p,
                                 uint8_t stream, bool rtx) {
  t.routes.push_back(StreamRoute{ssrc, p, stream, rtx});
}

void ForwardingTables::add_producer_streams(TransportState& t, ProducerState& p,
                                            const AddProducer& c) {
  const bool simulcast = c.encoding_count >= 2;
  p.stream_count = simulcast ? static_cast<uint8_t>(std::min<size_t>(c.encoding_count,
                                                                     kMaxSimulcastEncodings))
                             : 1;
  p.mid = c.mid;
  p.mid_len = c.mid_len <= c.mid.size() ? c.mid_len : 0;
  p.mid_ext_id = p.mid_len > 0 ? c.mid_ext_id : 0;
  p.rid_ext_id = c.rid_ext_id;
  p.rrid_ext_id = c.rrid_ext_id;
  const bool rtx = has_rtx(p);
  for (uint8_t i = 0; i < p.stream_count; ++i) {
    ProducerStream& s = p.streams[i];
    if (simulcast) {
      s.ssrc = c.encodings[i].ssrc;
      s.rtx_ssrc = c.encodings[i].rtx_ssrc;
    } else {
      s.ssrc = c.ssrc;
      s.rtx_ssrc = c.rtx_ssrc;
    }
    if (simulcast || c.encoding_count == 1) {
      s.rid = c.encodings[i].rid;
      s.rid_len = c.encodings[i].rid_len <= s.rid.size() ? c.encodings[i].rid_len : 0;
    }
    s.stats = RtpReceiveStats(c.clock_rate);
    if (c.retransmission_packets != 0) {
      s.history = std::make_unique<RetransmissionBuffer>(pool_, c.retransmission_packets);
    }
    // What can be learned: by RID (repaired RID for RTX), or by MID for a lone stream.
    const bool by_mid = !simulcast && p.mid_ext_id != 0;
    const bool media_learnable = (s.rid_len > 0 && p.rid_ext_id != 0) || by_mid;
    const bool rtx_learnable = rtx && ((s.rid_len > 0 && p.rrid_ext_id != 0) || by_mid);
    if (s.ssrc == 0 && media_learnable) ++p.unlearned_streams;
    if (s.rtx_ssrc == 0 && rtx_learnable) ++p.unlearned_streams;
  }
  // Room for every route the transport's producers can ever have, so learning one on the
  // packet path never reallocates.
  size_t most_routes = 2u * p.stream_count;
  for (const ProducerState* other : t.producers) most_routes += 2u * other->stream_count;
  t.routes.reserve(most_routes);
  for (uint8_t i = 0; i < p.stream_count; ++i) {
    if (p.streams[i].ssrc != 0) add_route(t, p.streams[i].ssrc, &p, i, false);
    if (p.streams[i].rtx_ssrc != 0) add_route(t, p.streams[i].rtx_ssrc, &p, i, true);
  }
  t.unlearned_streams += p.unlearned_streams;
  if (t.transport_cc && t.transport_cc_media_ssrc == 0) {
    t.transport_cc_media_ssrc = p.streams[0].ssrc;
  }
}

const StreamRoute* ForwardingTables::learn_route(TransportState& t,
                                                 const wire::RtpPacketView& rtp) {
  if (!rtp.has_extension()) return nullptr;
  const uint32_t ssrc = rtp.ssrc();
  for (ProducerState* p : t.producers) {
    if (p->unlearned_streams == 0) continue;
    const uint8_t* value = nullptr;
    size_t len = 0;
    bool mid_matched = false;
    if (p->mid_ext_id != 0 && rtp.find_extension(p->mid_ext_id, value, len)) {
      if (!value_is(value, len, p->mid.data(), p->mid_len)) continue;  // another m-section
      mid_matched = true;
    }
    const bool rtx_pt = p->rtx_apt[rtp.payload_type()] != kNoMapping;
    int stream = -1;
    bool rtx = false;
    if (p->rrid_ext_id != 0 && rtp.find_extension(p->rrid_ext_id, value, len)) {
      for (uint8_t i = 0; i < p->stream_count; ++i) {
        const ProducerStream& s = p->streams[i];
        if (s.rtx_ssrc == 0 && s.rid_len > 0 && value_is(value, len, s.rid.data(), s.rid_len)) {
          stream = i;
          rtx = true;
          break;
        }
      }
    } else if (p->rid_ext_id != 0 && rtp.find_extension(p->rid_ext_id, value, len)) {
      for (uint8_t i = 0; i < p->stream_count; ++i) {
        const ProducerStream& s = p->streams[i];
        if (s.rid_len == 0 || !value_is(value, len, s.rid.data(), s.rid_len)) continue;
        if (rtx_pt ? s.rtx_ssrc == 0 : s.ssrc == 0) {
          stream = i;
          rtx = rtx_pt;
        }
        break;
      }
    } else if (mid_matched && !p->simulcast()) {
      const ProducerStream& s = p->streams[0];
      if (rtx_pt ? s.rtx_ssrc == 0 : s.ssrc == 0) {
        stream = 0;
        rtx = rtx_pt;
      }
    }
    if (stream < 0) continue;
    ProducerStream& s = p->streams[static_cast<size_t>(stream)];
    (rtx ? s.rtx_ssrc : s.ssrc) = ssrc;
    add_route(t, ssrc, p, static_cast<uint8_t>(stream), rtx);
    --p->unlearned_streams;
    --t.unlearned_streams;
    if (!rtx && t.transport_cc && t.transport_cc_media_ssrc == 0) t.transport_cc_media_ssrc = ssrc;
    LOG_INFO("worker", "producer %u: stream %d %s SSRC %u learned from its first packet", p->id,
             stream, rtx ? "RTX" : "media", ssrc);
    return &t.routes.back();
  }
  return nullptr;
}

}  // namespace weir::dp
