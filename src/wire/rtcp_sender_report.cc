#include "wire/rtcp_sender_report.h"

namespace weir::wire {

bool RtcpSenderReportView::parse(const uint8_t* data, size_t len, RtcpSenderReportView& out) {
  RtcpHeader h;
  if (!parse_rtcp_header(data, len, h) || h.type != kRtcpTypeSenderReport) return false;
  const size_t end = kRtcpHeaderSize + h.body_size();
  const size_t reports_end = kFixedSize + kRtcpReceptionReportSize * h.count;
  if (reports_end > end) return false;
  out.data_ = data;
  out.report_count_ = h.count;
  out.extension_offset_ = reports_end;
  out.extension_size_ = end - reports_end;
  return true;
}

RtcpSenderInfo RtcpSenderReportView::sender_info() const {
  RtcpSenderInfo info;
  info.ssrc = load_be32(data_ + 4);
  info.ntp_timestamp = load_be64(data_ + 8);
  info.rtp_timestamp = load_be32(data_ + 16);
  info.packet_count = load_be32(data_ + 20);
  info.octet_count = load_be32(data_ + 24);
  return info;
}

size_t write_rtcp_sender_report(uint8_t* out, size_t capacity, const RtcpSenderInfo& info,
                                std::span<const RtcpReceptionReport> reports) {
  if (reports.size() > kRtcpMaxCount) return 0;
  const size_t size = RtcpSenderReportView::kFixedSize + kRtcpReceptionReportSize * reports.size();
  if (out == nullptr || size > capacity) return 0;
  write_rtcp_header(out, false, static_cast<uint8_t>(reports.size()), kRtcpTypeSenderReport, size);
  store_be32(out + 4, info.ssrc);
  store_be64(out + 8, info.ntp_timestamp);
  store_be32(out + 16, info.rtp_timestamp);
  store_be32(out + 20, info.packet_count);
  store_be32(out + 24, info.octet_count);
  uint8_t* p = out + RtcpSenderReportView::kFixedSize;
  for (const RtcpReceptionReport& r : reports) {
    write_reception_report(p, r);
    p += kRtcpReceptionReportSize;
  }
  return size;
}

}  // namespace weir::wire
