// RTP parse and per-consumer header rewrite: the wire work in the forwarding path, without
// SRTP or I/O. The packet is what a browser sends for video: 1,100 bytes of payload after
// three one-byte extensions (mid, abs-send-time, transport-wide seq).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "wire/inet_checksum.h"
#include "wire/rtp_packet.h"

namespace weir::wire {
namespace {

constexpr size_t kPayloadSize = 1100;

std::vector<uint8_t> make_video_packet() {
  uint8_t buf[1500];
  write_rtp_fixed_header(buf, false, 96, 1000, 90000, 0x11223344);
  RtpExtensionWriter ext(buf + 12, sizeof buf - 12, false);
  const uint8_t mid[] = {'0'};
  const uint8_t abs_send_time[] = {0x12, 0x34, 0x56};
  const uint8_t twcc_seq[] = {0x00, 0x2a};
  ext.add(4, mid, sizeof mid);
  ext.add(2, abs_send_time, sizeof abs_send_time);
  ext.add(3, twcc_seq, sizeof twcc_seq);
  const size_t ext_len = ext.finish();
  rtp_set_extension_bit(buf, true);
  const size_t header = 12 + ext_len;
  for (size_t i = 0; i < kPayloadSize; ++i) buf[header + i] = static_cast<uint8_t>(i);
  return std::vector<uint8_t>(buf, buf + header + kPayloadSize);
}

void BM_RtpParse(benchmark::State& state) {
  const std::vector<uint8_t> packet = make_video_packet();
  for (auto _ : state) {
    benchmark::DoNotOptimize(packet.data());
    RtpPacketView v;
    const bool ok = RtpPacketView::parse(packet.data(), packet.size(), v);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(v.ssrc());
    benchmark::DoNotOptimize(v.payload_size());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(packet.size()));
}
BENCHMARK(BM_RtpParse);

// What one consumer costs: new PT, seq, ts and SSRC; extension ids remapped by rebuilding
// the block into the TX buffer (dropping the one the consumer did not negotiate); payload
// copied behind it.
void BM_RtpHeaderRewrite(benchmark::State& state) {
  const std::vector<uint8_t> packet = make_video_packet();
  uint8_t id_map[16] = {};
  id_map[2] = 7;  // abs-send-time
  id_map[3] = 5;  // transport-wide seq; mid (4) not negotiated
  std::vector<uint8_t> out(1500);
  uint16_t seq = 0;
  for (auto _ : state) {
    RtpPacketView in;
    if (!RtpPacketView::parse(packet.data(), packet.size(), in)) {
      state.SkipWithError("parse failed");
      break;
    }
    uint8_t* o = out.data();
    write_rtp_fixed_header(o, in.marker(), 120, ++seq, in.timestamp() + 3000, 0xCAFEBABE);
    size_t off = 12;
    RtpExtensionWriter ext(o + off, out.size() - off, in.two_byte_extensions());
    in.for_each_extension([&](uint8_t id, const uint8_t* value, size_t len) {
      if (id_map[id] != 0) ext.add(id_map[id], value, len);
    });
    const size_t ext_len = ext.finish();
    if (ext_len > 0) {
      rtp_set_extension_bit(o, true);
      off += ext_len;
    }
    std::memcpy(o + off, in.payload(), in.payload_size());
    benchmark::DoNotOptimize(o);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(packet.size()));
}
BENCHMARK(BM_RtpHeaderRewrite);

}  // namespace
}  // namespace weir::wire

// The Internet checksum over a forwarded datagram's worth of bytes: what the DPDK stack pays
// per packet on a port without checksum offload.
static void BM_InetChecksum(benchmark::State& state) {
  std::vector<uint8_t> data(static_cast<size_t>(state.range(0)));
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  for (auto _ : state) {
    benchmark::DoNotOptimize(data.data());
    uint32_t sum = weir::wire::checksum_partial(data.data(), data.size());
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_InetChecksum)->Arg(1130)->Arg(64);
