#include "dataplane_rig.h"

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>

#include "dataplane/dpdk_eal.h"
#include "dataplane_frames.h"
#include "dataplane_measure.h"
#include "wire/arp_packet.h"
#include "wire/ipv4_packet.h"

namespace weir::bench {
namespace {

// The worker sends about a million frames a second: a TX ring that absorbs several
// milliseconds of a descheduled generator, and a worker pool larger than the ring plus
// one burst of fan-out. RX needs only to keep the worker busy.
constexpr unsigned kRxRingSize = 1024;
constexpr unsigned kTxRingSize = 32768;
constexpr uint32_t kWorkerMbufs = 65535;
constexpr unsigned kFrameMbufs = 4095;
const char* const kEalArgs =
    "--no-huge --no-pci --no-shconf -m 1024 --no-telemetry --log-level=lib.eal:error "
    "--log-level=pmd.net.ring:error";

}  // namespace

DataplaneRig::~DataplaneRig() { close(); }

bool DataplaneRig::open(dp::SrtpSuite suite, uint32_t consumers, std::string* error) {
  if (!dp::srtp_library_init(error)) return false;
  if (!dp::dpdk_eal_init(dp::split_eal_arguments(kEalArgs), error)) return false;
  frames_ = rte_pktmbuf_pool_create("bench_frames", kFrameMbufs, 256,
                                    RTE_ALIGN(sizeof(dp::PacketBuffer), RTE_MBUF_PRIV_ALIGN),
                                    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  rx_ = rte_ring_create("bench_rx", kRxRingSize, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  tx_ = rte_ring_create("bench_tx", kTxRingSize, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (frames_ == nullptr || rx_ == nullptr || tx_ == nullptr) {
    *error = "cannot create the generator's pool and rings (EAL memory: -m)";
    return false;
  }
  const int port_id = rte_eth_from_rings("net_ring_bench", &rx_, 1, &tx_, 1, SOCKET_ID_ANY);
  if (port_id < 0) {
    *error = "rte_eth_from_rings failed";
    return false;
  }
  dp::DpdkPortConfig pc;
  pc.port_id = static_cast<uint16_t>(port_id);
  pc.queues = 1;
  pc.mbufs_per_queue = kWorkerMbufs;
  pc.stack.ip = kServerIp;
  pc.stack.prefix_length = kPrefixLength;
  port_ = dp::DpdkPort::open(pc, error);
  if (!port_) return false;

  dp::WorkerConfig wc;
  wc.dpdk_port = port_.get();
  worker_ = std::make_unique<dp::Worker>(wc);
  // The worker's thread is the one task that Worker::start adds: its CPU is the figure.
  const std::vector<pid_t> before = list_threads();
  if (!worker_->start(error)) return false;
  const std::vector<pid_t> after = list_threads();
  std::vector<pid_t> added;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  if (added.size() != 1) {
    *error = "cannot tell the worker's thread (" + std::to_string(added.size()) + " new tasks)";
    return false;
  }
  worker_tid_ = added.front();

  // The peer's MAC before any send, as an on-link neighbour's reply would bring it.
  if (!inject_arp_reply(error)) return false;

  add_transport(1, kProducerServerPort, kProducerPeerPort, suite, 0);
  dp::PayloadTypeMap pts;
  pts.fill(dp::kNoMapping);
  pts[kPayloadType] = kPayloadType;
  dp::AddProducer p{};
  p.id = 1;
  p.transport = 1;
  p.ssrc = kProducerSsrc;
  p.clock_rate = 90000;
  p.codec = wire::CodecKind::vp8;
  p.keyframe_request = dp::KeyFrameRequest::pli;
  p.rtx_apt.fill(dp::kNoMapping);
  p.pt_map = pts;
  p.counters = &producer_counters_;
  last_command_ = worker_->post(p);
  for (uint32_t i = 0; i < consumers; ++i) {
    const dp::TransportId transport = 100 + i;
    add_transport(transport, consumer_server_port(i), consumer_peer_port(i), suite, 1 + i);
    consumer_counters_.push_back(std::make_unique<dp::ConsumerCounters>());
    dp::AddConsumer c{};
    c.id = 1000 + i;
    c.producer = 1;
    c.transport = transport;
    c.ssrc = kConsumerSsrcBase + i;
    c.clock_rate = 90000;
    c.pt_map = pts;
    c.preferred_spatial_layer = 0xFF;
    c.preferred_temporal_layer = 0xFF;
    c.counters = consumer_counters_.back().get();
    last_command_ = worker_->post(c);
  }
  worker_->wait_applied(last_command_);
  if (worker_->applied() < last_command_) {
    *error = "the worker stopped before it applied the set-up";
    return false;
  }
  return true;
}

void DataplaneRig::add_transport(dp::TransportId id, uint16_t local_port, uint16_t peer_port,
                                 dp::SrtpSuite suite, uint32_t key_seed) {
  transport_counters_.push_back(std::make_unique<dp::TransportCounters>());
  dp::AddPlainTransport t{};
  t.id = id;
  t.rtp = dp::UdpBinding{-1, *dp::SocketAddress::parse("10.0.0.1", local_port)};
  t.comedia = false;
  t.srtp = true;
  t.remote_rtp = *dp::SocketAddress::parse("10.0.0.2", peer_port);
  t.counters = transport_counters_.back().get();
  worker_->post(t);
  // The same key both ways: the peer protects what it sends and checks what it receives
  // with the transport's one master key.
  const std::vector<uint8_t> key = master_key(suite, key_seed);
  dp::SetTransportSrtp s{
      id,
      dp::SrtpSession::create(suite, dp::SrtpSession::Direction::inbound, key, nullptr).release(),
      dp::SrtpSession::create(suite, dp::SrtpSession::Direction::outbound, key, nullptr).release()};
  last_command_ = worker_->post(s);
}

bool DataplaneRig::inject_arp_reply(std::string* error) {
  rte_mbuf* m = rte_pktmbuf_alloc(frames_);
  if (m == nullptr) {
    *error = "no mbuf for the ARP reply";
    return false;
  }
  auto* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 60));
  std::memset(f, 0, 60);
  const wire::MacAddress& ours = port_->stack_config().mac;
  wire::write_ethernet_header(f, ours, kPeerMac, wire::kEtherTypeArp);
  wire::ArpPacket a{};
  a.op = wire::kArpReply;
  a.sender_mac = kPeerMac;
  a.sender_ip = kPeerIp;
  a.target_mac = ours;
  a.target_ip = kServerIp;
  wire::write_arp(f + 14, a);
  if (rte_ring_enqueue(rx_, m) != 0) {
    rte_pktmbuf_free(m);
    *error = "RX ring full";
    return false;
  }
  return true;
}

uint64_t DataplaneRig::consumer_packets() const {
  uint64_t n = 0;
  for (const auto& c : consumer_counters_) n += c->packets.get();
  return n;
}

uint64_t DataplaneRig::consumer_drops() const {
  uint64_t n = 0;
  for (const auto& c : consumer_counters_) n += c->dropped.total();
  return n;
}

uint64_t DataplaneRig::transport_drops() const {
  uint64_t n = 0;
  for (const auto& t : transport_counters_) n += t->dropped.total();
  return n;
}

void DataplaneRig::close() {
  if (worker_) worker_->stop();
  worker_.reset();  // its tables hold mbufs of the port's pool
  void* obj = nullptr;
  if (tx_ != nullptr)
    while (rte_ring_dequeue(tx_, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  if (rx_ != nullptr)
    while (rte_ring_dequeue(rx_, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  port_.reset();
  if (rx_ != nullptr) rte_ring_free(rx_);
  if (tx_ != nullptr) rte_ring_free(tx_);
  if (frames_ != nullptr) rte_mempool_free(frames_);
  rx_ = tx_ = nullptr;
  frames_ = nullptr;
}

}  // namespace weir::bench
