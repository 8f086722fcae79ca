// The compound walk, then every per-type parser on each packet it hands out, and the
// writers on whatever parsed (their output must parse again).
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

namespace {

using namespace weir::wire;

uint8_t g_out[1 << 18];  // above any transport-cc our writer can produce from 65535 statuses
TransportCcPacketStatus g_statuses[65536];

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void every_parser(const uint8_t* p, size_t len) {
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
  RtcpReceiverReportView rr;
  if (RtcpReceiverReportView::parse(p, len, rr)) {
    for (uint8_t i = 0; i < rr.report_count(); ++i) sink = sink ^ rr.report(i).jitter;
  }
  RtcpSdesView sdes;
  if (RtcpSdesView::parse(p, len, sdes)) {
    sdes.for_each_item([&](uint32_t ssrc, uint8_t type, std::string_view text) {
      sink = sink ^ ssrc ^ type ^ (text.empty() ? 0 : static_cast<uint8_t>(text.back()));
    });
  }
  RtcpByeView bye;
  if (RtcpByeView::parse(p, len, bye)) {
    for (uint8_t i = 0; i < bye.source_count(); ++i) sink = sink ^ bye.source(i);
    sink = sink ^ bye.reason().size();
  }
  RtcpTransportLayerNackView nack;
  if (RtcpTransportLayerNackView::parse(p, len, nack)) {
    nack.for_each_lost([&](uint16_t seq) { sink = sink ^ seq; });
  }
  RtcpPictureLossIndicationView pli;
  if (RtcpPictureLossIndicationView::parse(p, len, pli)) sink = sink ^ pli.media_ssrc();
  RtcpFullIntraRequestView fir;
  if (RtcpFullIntraRequestView::parse(p, len, fir)) {
    for (size_t i = 0; i < fir.entry_count(); ++i) sink = sink ^ fir.entry(i).ssrc;
  }
  RtcpReceiverEstimatedMaxBitrateView remb;
  if (RtcpReceiverEstimatedMaxBitrateView::parse(p, len, remb)) {
    sink = sink ^ remb.bitrate_bps();
    for (uint8_t i = 0; i < remb.ssrc_count(); ++i) sink = sink ^ remb.ssrc(i);
  }
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
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Per-type parsers must be safe on raw input too, not only on what the walk vetted.
  every_parser(data, size);
  for_each_rtcp_packet(data, size, [](uint8_t, uint8_t, const uint8_t* p, size_t len) {
    every_parser(p, len);
  });
  return 0;
}
