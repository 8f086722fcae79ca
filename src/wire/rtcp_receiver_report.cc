#include "wire/rtcp_receiver_report.h"

namespace weir::wire {

bool RtcpReceiverReportView::parse(const uint8_t* data, size_t len, RtcpReceiverReportView& out) {
  RtcpHeader h;
  if (!parse_rtcp_header(data, len, h) || h.type != kRtcpTypeReceiverReport) return false;
  const size_t end = kRtcpHeaderSize + h.body_size();
  const size_t reports_end = kFixedSize + kRtcpReceptionReportSize * h.count;
  if (reports_end > end) return false;
  out.data_ = data;
  out.report_count_ = h.count;
  out.extension_offset_ = reports_end;
  out.extension_size_ = end - reports_end;
  return true;
}

size_t write_rtcp_receiver_report(uint8_t* out, size_t capacity, uint32_t ssrc,
                                  std::span<const RtcpReceptionReport> reports) {
  if (reports.size() > kRtcpMaxCount) return 0;
  const size_t size = RtcpReceiverReportView::kFixedSize + kRtcpReceptionReportSize * reports.size();
  if (out == nullptr || size > capacity) return 0;
  write_rtcp_header(out, false, static_cast<uint8_t>(reports.size()), kRtcpTypeReceiverReport, size);
  store_be32(out + 4, ssrc);
  uint8_t* p = out + RtcpReceiverReportView::kFixedSize;
  for (const RtcpReceptionReport& r : reports) {
    write_reception_report(p, r);
    p += kRtcpReceptionReportSize;
  }
  return size;
}

}  // namespace weir::wire
