// The RTCP per-type parsers as fuzz entry points: each runs one parser on raw input and,
// where a writer exists, checks that what parsed writes and parses again. Shared by the
// compound target (fuzz_rtcp) and the one-target-per-parser builds (fuzz_rtcp_<type>).
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/rtcp_bye.h"
#include "wire/rtcp_compound.h"
#include "wire/rtcp_full_intra_request.h"
#include "wire/rtcp_picture_loss_indication.h"
#include "wire/rtcp_receiver_estimated_max_bitrate.h"
#include "wire/rtcp_receiver_report.h"
#include "wire/rtcp_sdes.h"
#include "wire/rtcp_sender_report.h"
#include "wire/rtcp_transport_layer_cc.h"
#include "wire/rtcp_transport_layer_nack.h"

namespace weir::wire::fuzz {


inline uint8_t g_out[1 << 18];  // above any transport-cc our writer can produce from 65535 statuses
inline TransportCcPacketStatus g_statuses[65536];

inline void check(bool ok) {
  if (!ok) __builtin_trap();
}

inline void fuzz_sender_report(const uint8_t* p, size_t len) {
  volatile uint64_t sink = 0;
  RtcpSenderReportView sr;
  if (RtcpSenderReportView::parse(p, len, sr)) {
    RtcpReceptionReport reports[31];
    for (uint8_t i = 0; i < sr.report_count(); ++i) reports[i] = sr.report(i);
    sink = sink ^ sr.sender_info().ntp_timestamp;
    if (sr.profile_extension_size() > 0) sink = sink ^ sr.profile_extension()[sr.profile_extension_size() - 1];
    const size_t n = write_rtcp_sender_report(g_out, sizeof g_out, sr.sender_info(), {reports, sr.report_count()});
    RtcpSenderReportView again;
    check(n > 0 && RtcpSenderReportView::parse(g_out, n, again) && again.sender_info() == sr.sender_info());
  }
  (void)sink;
}

inline void fuzz_receiver_report(const uint8_t* p, size_t len) {
  volatile uint64_t sink = 0;
  RtcpReceiverReportView rr;
  if (RtcpReceiverReportView::parse(p, len, rr)) {
    for (uint8_t i = 0; i < rr.report_count(); ++i) sink = sink ^ rr.report(i).jitter;
  }
  (void)sink;
}

inline void fuzz_sdes(const uint8_t* p, size_t len) {
  volatile uint64_t sink = 0;
  RtcpSdesView sdes;
  if (RtcpSdesView::parse(p, len, sdes)) {
    sdes.for_each_item([&](uint32_t ssrc, uint8_t type, std::string_view text) {
      sink = sink ^ ssrc ^ type ^ (text.empty() ? 0 : static_cast<uint8_t>(text.back()));
    });
  }
  (void)sink;
}

inline void fuzz_bye(const uint8_t* p, size_t len) {
  volatile uint64_t sink = 0;
  RtcpByeView bye;
  if (RtcpByeView::parse(p, len, bye)) {
    for (uint8_t i = 0; i < bye.source_count(); ++i) sink = sink ^ bye.source(i);
    sink = sink ^ bye.reason().size();
  }
  (void)sink;
}

inline void fuzz_transport_layer_nack(const uint8_t* p, size_t len) {
  volatile uint64_t sink = 0;
  RtcpTransportLayerNackView nack;
  if (RtcpTransportLayerNackView::parse(p, len, nack)) {
    nack.for_each_lost([&](uint16_t seq) { sink = sink ^ seq; });
  }
  (void)sink;
}

inline void fuzz_picture_loss_indication(const uint8_t* p, size_t len) {
  volatile uint64_t sink = 0;
  RtcpPictureLossIndicationView pli;
  if (RtcpPictureLossIndicationView::parse(p, len, pli)) sink = sink ^ pli.media_ssrc();
  (void)sink;
}

inline void fuzz_full_intra_request(const uint8_t* p, size_t len) {
  volatile uint64_t sink = 0;
  RtcpFullIntraRequestView fir;
  if (RtcpFullIntraRequestView::parse(p, len, fir)) {
    for (size_t i = 0; i < fir.entry_count(); ++i) sink = sink ^ fir.entry(i).ssrc;
  }
  (void)sink;
}

inline void fuzz_receiver_estimated_max_bitrate(const uint8_t* p, size_t len) {
  volatile uint64_t sink = 0;
  RtcpReceiverEstimatedMaxBitrateView remb;
  if (RtcpReceiverEstimatedMaxBitrateView::parse(p, len, remb)) {
    sink = sink ^ remb.bitrate_bps();
    for (uint8_t i = 0; i < remb.ssrc_count(); ++i) sink = sink ^ remb.ssrc(i);
  }
  (void)sink;
}

inline void fuzz_transport_layer_cc(const uint8_t* p, size_t len) {
  TransportCcFeedback fb;
  size_t count = 0;
  if (parse_rtcp_transport_cc(p, len, fb, g_statuses, count)) {
    const size_t n = write_rtcp_transport_cc(g_out, sizeof g_out, fb, {g_statuses, count});
    check(n > 0);
    TransportCcFeedback fb2;
    static TransportCcPacketStatus again[65536];
    size_t count2 = 0;
    check(parse_rtcp_transport_cc(g_out, n, fb2, again, count2) && count2 == count);
    for (size_t i = 0; i < count; ++i) check(again[i] == g_statuses[i]);
  }
}

inline void fuzz_every_rtcp_parser(const uint8_t* p, size_t len) {
  fuzz_sender_report(p, len);
  fuzz_receiver_report(p, len);
  fuzz_sdes(p, len);
  fuzz_bye(p, len);
  fuzz_transport_layer_nack(p, len);
  fuzz_picture_loss_indication(p, len);
  fuzz_full_intra_request(p, len);
  fuzz_receiver_estimated_max_bitrate(p, len);
  fuzz_transport_layer_cc(p, len);
}

}  // namespace weir::wire::fuzz
