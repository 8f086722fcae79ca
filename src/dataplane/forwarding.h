// The forwarding core of one worker: its tables of transports, producers and consumers,
// how commands change them, and what happens to a burst of received datagrams. Everything
// here belongs to the worker thread; nothing locks and nothing allocates per packet (tables
// grow only when a command adds something).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/nack_generator.h"
#include "dataplane/packet_pool.h"
#include "dataplane/receive_side_bandwidth_estimator.h"
#include "dataplane/retransmission_buffer.h"
#include "dataplane/rtp_receive_stats.h"
#include "dataplane/send_side_bandwidth_estimator.h"
#include "dataplane/simulcast_layers.h"
#include "dataplane/spsc_ring.h"
#include "dataplane/srtp_session.h"
#include "dataplane/transport_cc_receiver.h"
#include "dataplane/udp_engine.h"
#include "dataplane/worker_commands.h"
#include "dataplane/worker_pipes.h"
#include "wire/codec_payload.h"
#include "wire/rtp_packet.h"

namespace weir::dp {

struct ProducerState;
struct ConsumerState;

// What an SSRC arriving on a transport is: which producer's stream, media or RTX.
struct StreamRoute {
  uint32_t ssrc = 0;
  ProducerState* producer = nullptr;
  uint8_t stream = 0;
  bool rtx = false;
};

struct TransportState {
  static constexpr size_t kMaxIceTuples = 4;

  TransportId id = 0;
  int rtp_socket = -1;         // engine socket index (the shared port's for a shared transport)
  int rtcp_socket = -1;        // -1 with rtcp-mux
  bool webrtc = false;         // ICE + DTLS: STUN and DTLS go to the control thread
  bool shared_socket = false;  // on the worker's shared port: the socket is not its own
  bool comedia = false;
  bool srtp_required = false;
  // What every forwarded packet touches comes first, on as few cache lines as it can.
  // Plain: the connected (or learned) remote. WebRTC: the selected ICE tuple.
  SocketAddress remote_rtp;
  std::unique_ptr<SrtpSession> srtp_out;
  TransportCounters* counters = nullptr;
  std::unique_ptr<SrtpSession> srtp_in;
  SocketAddress remote_rtcp;
  std::vector<ProducerState*> producers;
  // Every known SSRC of its producers (media and RTX of each stream): a handful, searched
  // linearly, contiguous. Capacity is reserved when a producer is added, so learning an
  // SSRC from a packet never allocates.
  std::vector<StreamRoute> routes;
  uint32_t unlearned_streams = 0;         // > 0: unknown SSRCs are matched by MID/RID first
  std::vector<ConsumerState*> consumers;  // searched by SSRC for the RTCP that names them
  // WebRTC: every tuple an ICE check succeeded from; media is accepted from any of them.
  SocketAddress ice_tuples[kMaxIceTuples];
  uint8_t ice_tuple_count = 0;
  // Producers' side: arrivals for transport-cc feedback (created with the first producer
  // that has the extension). Consumers' side: numbering and estimate (with the first
  // consumer that has it).
  std::unique_ptr<TransportCcReceiver> transport_cc;
  uint32_t transport_cc_media_ssrc = 0;
  uint64_t next_transport_cc_ns = 0;
  std::unique_ptr<SendSideBandwidthEstimator> bandwidth;
  // Producers' side without transport-cc: what REMB advertises (with the first producer
  // that negotiated goog-remb only).
  std::unique_ptr<ReceiveSideBandwidthEstimator> incoming;
  uint64_t next_report_ns = 0;  // receiver/sender reports

  bool is_ice_tuple(const SocketAddress& a) const {
    for (uint8_t i = 0; i < ice_tuple_count; ++i) {
      if (ice_tuples[i] == a) return true;
    }
    return false;
  }
};

// One RTP stream of a producer: its only stream, or one simulcast encoding (spatial layer).
// Receive statistics, NACKs and the retransmission history are per stream, because each
// has its own SSRC and sequence numbers.
struct ProducerStream {
  uint32_t ssrc = 0;      // 0: not known yet (learned from the RID or MID extension)
  uint32_t rtx_ssrc = 0;  // 0: none or not known yet
  std::array<char, 16> rid{};
  uint8_t rid_len = 0;
  uint64_t last_packet_ns = 0;  // the tick decides from it whether the layer is active
  uint64_t last_keyframe_request_ns = 0;
  uint8_t fir_sequence = 0;
  uint8_t last_fraction_lost = 0;  // of its last receiver report block
  uint32_t last_jitter = 0;
  RtpReceiveStats stats;
  NackGenerator nack_generator;
  std::unique_ptr<RetransmissionBuffer> history;  // null: no NACKs answered for it
};

struct ProducerState {
  ProducerId id = 0;
  TransportState* transport = nullptr;
  uint32_t clock_rate = 90000;
  wire::CodecKind codec = wire::CodecKind::other;
  bool paused = false;
  KeyFrameRequest keyframe_request = KeyFrameRequest::none;
  uint8_t stream_count = 1;       // > 1: simulcast, streams[i] is spatial layer i
  uint8_t active_layers = 0;      // bit i: stream i had a packet in the last kLayerActiveNs
  uint8_t unlearned_streams = 0;  // streams (or their RTX) still waiting for a first packet
  PayloadTypeMap rtx_apt{};       // producer RTX PT -> producer media PT
  PayloadTypeMap pt_map{};        // producer PT -> router PT
  ExtensionIdMap ext_map{};       // producer id -> router id
  uint8_t transport_cc_ext_id = 0;
  uint8_t audio_level_ext_id = 0;
  uint8_t mid_ext_id = 0, rid_ext_id = 0, rrid_ext_id = 0;  // producer-side; 0: none
  std::array<char, 16> mid{};
  uint8_t mid_len = 0;
  bool nack = false;
  bool remb = false;
  std::array<ProducerStream, kMaxSimulcastEncodings> streams;
  std::vector<ConsumerState*> consumers;
  ProducerCounters* counters = nullptr;
  // Pipes (forwarding_pipes.cc). On the producer's worker: the workers its packets are
  // piped to. On another worker: piped (no transport, fed from worker piped_from), with
  // counters of its own because the producer's belong to its worker.
  std::vector<uint32_t> pipes_to;
  bool piped = false;
  uint32_t piped_from = 0;
  std::unique_ptr<ProducerCounters> own_counters;

  bool simulcast() const { return stream_count > 1; }
};

// Sequence-number and timestamp translation of one consumer. The offsets change only
// when the consumer resynchronises (start, resume), so its receivers see one continuous
// stream whatever the producer side did meanwhile.
struct RtpContinuity {
  bool started = false;
  uint16_t seq_offset = 0;
  uint32_t ts_offset = 0;
  uint16_t last_seq = 0;
  uint32_t last_ts = 0;
  uint64_t last_sent_ns = 0;

  // The first input number of the current offsets. A packet older than it that arrives
  // late would be numbered into what was already sent: it is not forwarded (the consumer's
  // NACK gets it through the segment it belongs to). Checked until the stream is well past.
  static constexpr int16_t kLateWindow = 512;
  uint16_t first_in_seq = 0;
  bool guard_late = false;

  // Makes in_seq/in_ts follow the last packet sent, allowing for the time that passed.
  void resync(uint16_t in_seq, uint32_t in_ts, uint64_t now_ns, uint32_t clock_rate);
  // Packets before in_seq were left out (temporal layers not forwarded): in_seq follows the
  // last number sent; the timestamps keep their mapping.
  void skip_to(uint16_t in_seq);
  bool is_late(uint16_t in_seq) {
    if (!guard_late) return false;
    const auto ahead = static_cast<int16_t>(in_seq - first_in_seq);
    // Far behind is not reordering but the sender's numbering jumping (a restart): that
    // goes through as before.
    if (ahead < 0) return ahead > -kLateWindow;
    if (ahead > kLateWindow) guard_late = false;  // reordering never reaches this far
    return false;
  }
  uint16_t map_seq(uint16_t in_seq) const { return static_cast<uint16_t>(in_seq - seq_offset); }
  uint32_t map_ts(uint32_t in_ts) const { return in_ts - ts_offset; }
  void sent(uint16_t out_seq, uint32_t out_ts, uint64_t now_ns);
};

struct ConsumerState {
  ConsumerId id = 0;
  ProducerState* producer = nullptr;
  TransportState* transport = nullptr;
  uint32_t ssrc = 0;
  uint32_t clock_rate = 90000;
  bool paused = false;
  bool keyframe_sync = false;
  bool sync_required = true;
  // Which stream of the producer it forwards now (kNoLayer: none, waiting for the
  // target's key frame) and which one it switches to at that stream's next key frame.
  // A single-stream producer's consumers have both at 0 and never switch.
  uint8_t current_layer = 0;
  uint8_t target_layer = 0;
  uint8_t preferred_spatial_layer = kHighestLayer;
  uint8_t preferred_temporal_layer = kHighestLayer;
  // VP8 simulcast: temporal layers above current_temporal_layer are left out; it moves to
  // the preferred one at a frame start (up only at a TL0 frame, which later frames of any
  // layer may reference). temporal_gap: packets were left out since the last one sent.
  uint8_t current_temporal_layer = kHighestLayer;
  bool temporal_gap = false;
  PayloadTypeMap router_pt_map{};   // router PT -> consumer PT (as commanded)
  ExtensionIdMap router_ext_map{};  // router id -> consumer id (as commanded)
  // Producer-side numbers mapped straight to this consumer's, so a packet needs one lookup.
  PayloadTypeMap pt_from_producer{};
  ExtensionIdMap ext_from_producer{};
  bool two_byte_extensions = false;  // some consumer id does not fit the one-byte form
  std::array<char, 16> mid{};
  uint8_t mid_len = 0;
  uint8_t mid_ext_id = 0;           // consumer-side MID extension id; 0: none written
  uint8_t transport_cc_ext_id = 0;  // consumer-side; 0: none written
  bool nack = false;
  uint32_t rtx_ssrc = 0;
  uint8_t rtx_payload_type = 0;
  uint16_t rtx_sequence = 0;
  // Where each stretch of its numbering came from (stream and offsets), for its NACKs.
  LayerSegments segments;
  Vp8Continuity vp8;            // simulcast VP8 producers only
  uint64_t payload_octets = 0;  // for sender reports
  RtpContinuity continuity;
  ConsumerCounters* counters = nullptr;
  std::array<char, 64> cname{};  // for sender reports only
  uint8_t cname_len = 0;
};

// Collects outgoing datagrams and hands them to the engine in bursts of the size it prefers.
class TxBatch {
 public:
  static constexpr size_t kCapacity = 1024;
  explicit TxBatch(UdpEngine* engine)
      : engine_(engine),
        flush_at_(std::clamp<size_t>(engine->preferred_tx_burst(), 1, kCapacity)) {}
  // A full burst leaves at once, while its datagrams are still warm.
  void push(const TxPacket& p) {
    packets_[count_++] = p;
    if (count_ == flush_at_) flush();
  }
  void flush() {
    if (count_ > 0) engine_->tx_burst(packets_, count_);
    count_ = 0;
  }

 private:
  UdpEngine* engine_;
  size_t flush_at_;
  size_t count_ = 0;
  TxPacket packets_[kCapacity];
};

struct ForwardingOptions {
  // Engine index of the worker's shared WebRTC port (WebRtcServer mode); -1: none.
  int shared_socket = -1;
  // Key-frame requests to one producer are sent at most this often; the requests that
  // arrive in between are satisfied by the key frame the first one brings.
  uint64_t keyframe_request_interval_ns = 500'000'000;
};

// The SSRC weir's own RTCP (receiver reports, NACK, PLI/FIR, transport-cc) names as its
// sender: RFC 4585 leaves it to the sender, and a fixed non-zero one keeps reports of a
// transport together.
constexpr uint32_t kRtcpSenderSsrc = 1;

class ForwardingTables {
 public:
  // control_up: where STUN and DTLS for the control thread go (nullptr: dropped, counted).
  ForwardingTables(PacketPool& pool, UdpEngine& engine, WorkerCounters& counters,
                   SpscRing<ControlPacket>* control_up = nullptr,
                   const ForwardingOptions& options = {});
  ~ForwardingTables();

  void apply(Command& command);
  // Processes a received burst; the caller keeps (and releases) the RX buffers.
  void process_burst(RxPacket* packets, size_t count, uint64_t now_ns);
  // Sends a control packet the control thread handed down (STUN answer, DTLS record);
  // it leaves with the next flush_tx().
  void send_control(const ControlPacket& packet);
  void flush_tx() { tx_.flush(); }
  // The worker's shared WebRTC port, once its engine adopted the socket (-1: none).
  void set_shared_socket(int socket) { options_.shared_socket = socket; }
  // True (once) if control packets went up since the last call: the worker then wakes the
  // control thread, once per burst rather than once per packet.
  bool take_control_pending() {
    const bool pending = control_pending_;
    control_pending_ = false;
    return pending;
  }
  // Timers: transport-cc feedback, NACK retries, receiver and sender reports. Cheap to
  // call every loop iteration; works at most every kTickNs.
  void on_tick(uint64_t now_ns);
  static constexpr uint64_t kTickNs = 20'000'000;
  // A simulcast layer with no packet for this long is inactive: consumers leave it.
  static constexpr uint64_t kLayerActiveNs = 1'000'000'000;

  // Pipes to and from the other workers (forwarding_pipes.cc); self: this worker's index.
  void set_pipes(WorkerPipes* pipes, uint32_t self) {
    pipes_ = pipes;
    self_ = self;
  }
  // Takes what the other workers piped here (media for piped producers, key-frame
  // requests for local ones), a bounded amount per call, and sends it on.
  void drain_pipes(uint64_t now_ns);
  // Something waits in a pipe to this worker: the worker must not sleep.
  bool pipes_pending() const;
  // The workers this one piped something to since the last call (bit i: worker i); the
  // worker wakes each once, after its burst, not once per packet.
  uint64_t take_pipe_wakes() {
    const uint64_t wakes = pipe_wakes_;
    pipe_wakes_ = 0;
    return wakes;
  }

  size_t transport_count() const { return transports_.size(); }
  size_t producer_count() const { return producers_.size(); }
  size_t consumer_count() const { return consumers_.size(); }

 private:
  struct SocketBinding {
    TransportState* transport = nullptr;
    bool rtcp = false;
  };

  void on_add_transport(AddPlainTransport& c);
  void on_add_webrtc_transport(AddWebRtcTransport& c);
  void on_set_ice_tuple(const SetIceTuple& c);
  void on_clear_ice_tuples(const ClearIceTuples& c);
  void on_request_keyframe(const RequestKeyFrame& c);
  void on_connect(const ConnectTransport& c);
  void on_set_srtp(SetTransportSrtp& c);
  static void size_srtp_streams(TransportState& t);
  void on_remove_transport(const RemoveTransport& c);
  void on_add_producer(const AddProducer& c);
  void on_producer_paused(const SetProducerPaused& c);
  void on_remove_producer(const RemoveProducer& c);
  void on_add_consumer(const AddConsumer& c);
  void on_consumer_paused(const SetConsumerPaused& c);
  void on_remove_consumer(const RemoveConsumer& c);
  void on_set_preferred_layers(const SetConsumerPreferredLayers& c);
  void on_request_consumer_keyframe(const RequestConsumerKeyFrame& c);
  void on_add_piped_producer(const AddPipedProducer& c);
  void on_add_producer_pipe(const AddProducerPipe& c);
  void on_remove_producer_pipe(const RemoveProducerPipe& c);
  // Copies a packet of p into the pipe of each worker that has consumers of it.
  void pipe_out(ProducerState& p, uint8_t stream, const wire::RtpPacketView& rtp, bool keyframe,
                uint64_t now_ns);
  void on_piped_packet(const PipedPacket& in, uint64_t now_ns);
  // A piped producer's key-frame request, throttled here too, back to its worker.
  void request_piped_keyframe(ProducerState& p, uint8_t stream, uint64_t now_ns);

  void bind_socket(int socket, TransportState* t, bool rtcp);
  void detach_consumer(ConsumerState* c);
  void detach_producer(ProducerState* p);
  static void map_through_producer(ConsumerState& c);

  void on_datagram(RxPacket& rx, uint64_t now_ns);
  // A datagram on the shared port: routed by its 5-tuple, or up to control if STUN.
  TransportState* transport_for_shared(const RxPacket& rx);
  void to_control(TransportState* t, const RxPacket& rx);
  // Sends PLI/FIR for one stream of the producer to its endpoint unless one went out for
  // that stream less than the interval ago.
  void request_keyframe(ProducerState& p, uint8_t stream, uint64_t now_ns);
  // The stream a consumer's own key-frame request is for: the one it switches to, or the
  // one it forwards.
  static uint8_t keyframe_stream(const ConsumerState& c);
  // Protects (when the transport has SRTP) and queues an RTCP packet built in buf.
  bool send_rtcp(TransportState& t, PacketBuffer* buf);
  void on_endpoint_rtcp(TransportState& t, const uint8_t* rtcp, size_t len, uint64_t now_ns);
  void on_reception_report(TransportState& t, const wire::RtcpReceptionReport& report,
                           uint64_t now_ns);
  void on_consumer_nack(TransportState& t, const uint8_t* packet, size_t len);
  void retransmit(ConsumerState& c, uint16_t consumer_seq);
  // RFC 4588: in place, rx becomes the packet it repairs; false if it repairs nothing.
  bool unwrap_rtx(ProducerState& p, const ProducerStream& s, RxPacket& rx,
                  wire::RtpPacketView& rtp);
  void send_transport_cc_feedback(TransportState& t);
  void send_nacks(ProducerState& p, ProducerStream& s, uint64_t now_ns);
  // Simulcast, on the tick: which layers are active, and every consumer's target.
  void update_layers(ProducerState& p, uint64_t now_ns);
  // Sets the consumer's target from its preference and the active layers; asks for a key
  // frame of the target when it differs from what is forwarded.
  void retarget(ConsumerState& c, uint64_t now_ns);
  void send_reports(TransportState& t, uint64_t now_ns);
  void send_remb(TransportState& t, uint8_t fraction_lost, uint64_t now_ns);
  uint64_t next_report_delay_ns();
  ConsumerState* consumer_by_ssrc(TransportState& t, uint32_t ssrc);
  // SRTP-decrypts in place when the transport requires it; false (counted) on failure.
  bool unprotect(TransportState& t, PacketBuffer* buf, bool rtcp);
  void on_rtp(TransportState& t, RxPacket& rx, uint64_t now_ns);
  void on_rtcp(TransportState& t, RxPacket& rx, bool on_rtcp_socket, uint64_t now_ns);
  void forward(ProducerState& p, uint8_t stream, const wire::RtpPacketView& rtp, bool keyframe,
               uint64_t now_ns);
  // Stream routing (forwarding_streams.cc): the known SSRC's route, or nullptr.
  static const StreamRoute* find_route(const TransportState& t, uint32_t ssrc) {
    for (const StreamRoute& r : t.routes) {
      if (r.ssrc == ssrc) return &r;
    }
    return nullptr;
  }
  // A packet of an unknown SSRC: matched to a stream still unlearned by its MID, RID or
  // repaired-RID extension; the SSRC is learned (routed from now on). nullptr: no match.
  const StreamRoute* learn_route(TransportState& t, const wire::RtpPacketView& rtp);
  static void add_route(TransportState& t, uint32_t ssrc, ProducerState* p, uint8_t stream,
                        bool rtx);
  void add_producer_streams(TransportState& t, ProducerState& p, const AddProducer& c);
  // now_ns: the burst's time, recorded as the send time of a transport-wide number.
  bool write_for_consumer(ConsumerState& c, const wire::RtpPacketView& in, PacketBuffer* out,
                          uint64_t now_ns);
  // Protects the consumer packets forward() queued (one batch) and sends those that passed.
  void protect_pending(size_t payload_size, uint64_t now_ns);
  // Accounts for a consumer's finished packet and queues it for the engine.
  void send_forwarded(ConsumerState& c, PacketBuffer* out, size_t payload_size, uint64_t now_ns);

  // forward()'s SRTP consumers' packets, written and waiting for one batch protect.
  struct PendingSend {
    PacketBuffer* out = nullptr;
    ConsumerState* consumer = nullptr;
  };
  static constexpr size_t kProtectBatch = 128;
  // How many consumers ahead forward() prefetches: far enough to hide a miss behind the
  // write of the current one's packet.
  static constexpr size_t kPrefetchAhead = 4;
  std::array<SrtpProtectRequest, kProtectBatch> protect_requests_{};
  std::array<PendingSend, kProtectBatch> pending_{};
  size_t pending_count_ = 0;

  PacketPool& pool_;
  UdpEngine& engine_;
  WorkerCounters& worker_counters_;
  TxBatch tx_;
  SpscRing<ControlPacket>* control_up_;
  bool control_pending_ = false;
  ForwardingOptions options_;
  uint64_t next_tick_ns_ = 0;
  // Parsed transport-cc feedback (too big for the stack of a packet handler).
  std::array<wire::TransportCcPacketStatus, 4096> transport_cc_scratch_{};
  uint64_t random_state_ = 0x9E3779B97F4A7C15ull;  // report interval jitter (RFC 3550 6.3.1)
  std::vector<SocketBinding> sockets_;
  // Shared port: the ICE tuples of its transports (one hash lookup per datagram there).
  std::unordered_map<SocketAddress, TransportState*, SocketAddressHash> shared_tuples_;
  std::unordered_map<TransportId, std::unique_ptr<TransportState>> transports_;
  std::unordered_map<ProducerId, std::unique_ptr<ProducerState>> producers_;
  std::unordered_map<ConsumerId, std::unique_ptr<ConsumerState>> consumers_;
  // Pipes: null with one worker.
  WorkerPipes* pipes_ = nullptr;
  uint32_t self_ = 0;
  uint64_t pipe_wakes_ = 0;
  std::vector<ProducerState*> piped_producers_;  // their simulcast layers need the tick too
};

}  // namespace weir::dp
