// In-memory fan-out: one RTP packet in, N rewritten (and SRTP-protected) packets out,
// through the real forwarding tables with an engine that drops what it is given. This is
// the dataplane's cost per forwarded packet without the kernel's share.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/forwarding.h"
#include "wire/byte_io.h"

namespace weir::dp {
namespace {

// Accepts sockets and sends nothing: every TX buffer goes straight back to the pool.
class DiscardEngine final : public UdpEngine {
 public:
  explicit DiscardEngine(PacketPool& pool) : pool_(pool) {}
  const char* name() const override { return "discard"; }
  int add_socket(const dp::UdpBinding&, std::string*) override { return next_++; }
  void remove_socket(uint32_t) override {}
  size_t rx_burst(RxPacket*, size_t, uint32_t) override { return 0; }
  void tx_burst(TxPacket* pkts, size_t n) override {
    for (size_t i = 0; i < n; ++i) {
      stats_.tx_bytes += pkts[i].buf->len;
      pool_.release(pkts[i].buf);
    }
    stats_.tx_packets += n;
  }
  void wake() override {}
  const EngineStats& stats() const override { return stats_; }

 private:
  PacketPool& pool_;
  int next_ = 0;
  EngineStats stats_;
};

// What both fan-out benchmarks set up: real forwarding tables over a DiscardEngine, one
// plain transport per endpoint (optionally SRTP), and the counters they write.
struct FanOutRig {
  PacketPool pool{4096};
  DiscardEngine engine{pool};
  WorkerCounters worker_counters;
  ForwardingTables tables{pool, engine, worker_counters};
  std::vector<std::unique_ptr<TransportCounters>> tcs;
  std::vector<std::unique_ptr<ConsumerCounters>> ccs;
  ProducerCounters pc;
  const SocketAddress remote = *SocketAddress::parse("127.0.0.1", 9);

  void add_transport(TransportId id, bool secure) {
    tcs.push_back(std::make_unique<TransportCounters>());
    Command c = AddPlainTransport{id, UdpBinding{-1, *SocketAddress::parse("127.0.0.1", static_cast<uint16_t>(1000 + id))}, {}, false, secure, remote, {}, tcs.back().get()};
    tables.apply(c);
    if (secure) {
      const std::vector<uint8_t> key(30, 0x42);
      Command s =
          SetTransportSrtp{id,
                           SrtpSession::create(SrtpSuite::aes_cm_128_hmac_sha1_80,
                                               SrtpSession::Direction::inbound, key, nullptr)
                               .release(),
                           SrtpSession::create(SrtpSuite::aes_cm_128_hmac_sha1_80,
                                               SrtpSession::Direction::outbound, key, nullptr)
                               .release()};
      tables.apply(s);
    }
  }
  // Consumer i of producer 1 on its own transport 100 + i; add carries the rest.
  void add_consumer(uint32_t i, AddConsumer add, bool secure) {
    add_transport(100 + i, secure);
    ccs.push_back(std::make_unique<ConsumerCounters>());
    add.id = 1000 + i;
    add.producer = 1;
    add.transport = 100 + i;
    add.ssrc = 50000 + i;
    add.clock_rate = 90000;
    add.counters = ccs.back().get();
    Command c = add;
    tables.apply(c);
  }
};

void BM_FanOut(benchmark::State& state) {
  const auto consumers = static_cast<uint32_t>(state.range(0));
  const bool srtp = state.range(1) != 0;
  srtp_library_init(nullptr);
  FanOutRig rig;
  PayloadTypeMap pts;
  pts.fill(kNoMapping);
  pts[101] = 101;
  ExtensionIdMap exts{};
  exts[1] = 1;
  rig.add_transport(1, false);
  AddProducer add_producer{};
  add_producer.id = 1;
  add_producer.transport = 1;
  add_producer.ssrc = 1111;
  add_producer.clock_rate = 90000;
  add_producer.codec = wire::CodecKind::other;
  add_producer.rtx_apt.fill(kNoMapping);
  add_producer.pt_map = pts;
  add_producer.ext_map = exts;
  add_producer.counters = &rig.pc;
  Command producer = add_producer;
  rig.tables.apply(producer);
  for (uint32_t i = 0; i < consumers; ++i) {
    AddConsumer add{};
    add.pt_map = pts;
    add.ext_map = exts;
    rig.add_consumer(i, add, srtp);
  }

  // A 1,100-byte payload video packet with a MID extension, arriving from the producer.
  std::vector<uint8_t> packet(12 + 8 + 1100, 0x5A);
  packet[0] = 0x90;
  packet[1] = 101;
  wire::store_be32(&packet[8], 1111);
  wire::store_be16(&packet[12], 0xBEDE);
  wire::store_be16(&packet[14], 1);
  packet[16] = 0x10;  // id 1, one byte
  packet[17] = '0';
  packet[18] = packet[19] = 0;

  PacketBuffer* in = rig.pool.alloc();
  uint16_t seq = 0;
  for (auto _ : state) {
    std::memcpy(in->data(), packet.data(), packet.size());
    in->len = static_cast<uint16_t>(packet.size());
    wire::store_be16(in->data() + 2, ++seq);
    RxPacket rx{in, 0, rig.remote};
    rig.tables.process_burst(&rx, 1, 1);
  }
  rig.pool.release(in);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * consumers);
  state.counters["ns_per_consumer_packet"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * consumers,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  if (rig.ccs.empty() || rig.ccs.front()->packets.get() == 0)
    state.SkipWithError("nothing forwarded");
}

BENCHMARK(BM_FanOut)
    ->ArgNames({"consumers", "srtp"})
    ->ArgsProduct({{1, 10, 100, 1000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

// Simulcast fan-out: three encodings in turn (as a browser sends them), consumer i
// preferring layer i % 3, so each packet reaches a third of the consumers and is skipped
// by the rest. ns_per_consumer_packet counts forwarded packets only.
void BM_FanOutSimulcast(benchmark::State& state) {
  const auto consumers = static_cast<uint32_t>(state.range(0));
  FanOutRig rig;
  PayloadTypeMap pts;
  pts.fill(kNoMapping);
  pts[101] = 101;
  rig.add_transport(1, false);
  AddProducer add_producer{};
  add_producer.id = 1;
  add_producer.transport = 1;
  add_producer.encoding_count = 3;
  for (uint32_t e = 0; e < 3; ++e) add_producer.encodings[e].ssrc = 1000 + e;
  add_producer.clock_rate = 90000;
  add_producer.codec = wire::CodecKind::vp8;
  add_producer.rtx_apt.fill(kNoMapping);
  add_producer.pt_map = pts;
  add_producer.counters = &rig.pc;
  Command producer = add_producer;
  rig.tables.apply(producer);
  for (uint32_t i = 0; i < consumers; ++i) {
    AddConsumer add{};
    add.keyframe_sync = true;
    add.pt_map = pts;
    add.preferred_spatial_layer = static_cast<uint8_t>(i % 3);
    rig.add_consumer(i, add, false);
  }
  // A 1,100-byte VP8 payload: the first packet of each layer is a key frame.
  std::vector<uint8_t> packet(12 + 1100, 0x5A);
  packet[0] = 0x80;
  packet[1] = 101;
  packet[12] = 0x10;  // S=1, PID 0
  PacketBuffer* in = rig.pool.alloc();
  uint32_t n = 0;
  for (auto _ : state) {
    const uint32_t layer = n % 3;
    std::memcpy(in->data(), packet.data(), packet.size());
    in->len = static_cast<uint16_t>(packet.size());
    wire::store_be16(in->data() + 2, static_cast<uint16_t>(n / 3));
    wire::store_be32(in->data() + 8, 1000 + layer);
    uint8_t* vp8 = in->data() + 13;
    vp8[0] = n < 3 ? 0x00 : 0x01;  // frame tag P bit
    vp8[3] = 0x9d;
    vp8[4] = 0x01;
    vp8[5] = 0x2a;
    ++n;
    RxPacket rx{in, 0, rig.remote};
    rig.tables.process_burst(&rx, 1, 1);
  }
  rig.pool.release(in);
  uint64_t forwarded = 0;
  for (const auto& c : rig.ccs) forwarded += c->packets.get();
  state.SetItemsProcessed(static_cast<int64_t>(forwarded));
  state.counters["ns_per_consumer_packet"] = benchmark::Counter(
      static_cast<double>(forwarded), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  if (forwarded == 0) state.SkipWithError("nothing forwarded");
}

BENCHMARK(BM_FanOutSimulcast)->ArgNames({"consumers"})->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace weir::dp
