// Commands the control thread sends to a dataplane worker. They travel by value through
// an SPSC ring and are applied by the worker between bursts, so the worker's tables are
// only ever touched by the worker. Objects that outlive a command (counters, SRTP
// sessions) are handed over by pointer; see each field for who frees what.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>

#include "dataplane/counters.h"
#include "dataplane/socket_address.h"
#include "dataplane/srtp_session.h"
#include "dataplane/udp_port_provider.h"
#include "wire/codec_payload.h"

namespace weir::dp {

using TransportId = uint32_t;
using ProducerId = uint32_t;
using ConsumerId = uint32_t;

constexpr uint8_t kNoMapping = 0xFF;
// Payload-type map: index = incoming PT (0..127), value = outgoing PT or kNoMapping.
using PayloadTypeMap = std::array<uint8_t, 128>;
// Header-extension id map: index = incoming id (1..255), value = outgoing id or 0 (drop).
using ExtensionIdMap = std::array<uint8_t, 256>;

struct AddPlainTransport {
  TransportId id;
  UdpBinding rtp;   // the worker's engine adopts (and later closes) a kernel socket
  UdpBinding rtcp;  // !valid() with rtcp-mux
  bool comedia;
  bool srtp;    // SRTP required: packets are dropped until SetTransportSrtp arrives
  SocketAddress remote_rtp;   // invalid until connect or comedia learns it
  SocketAddress remote_rtcp;
  TransportCounters* counters;  // owned by control; freed only after RemoveTransport applied
};

// A WebRTC transport: ICE decides where media goes (SetIceTuple), DTLS-SRTP brings the keys
// (SetTransportSrtp); until both happened nothing is forwarded to or from it.
struct AddWebRtcTransport {
  TransportId id;
  UdpBinding socket;  // its own port, adopted like a plain one; !valid(): the worker's shared port
  TransportCounters* counters;  // owned by control; freed only after RemoveTransport applied
};

// An ICE check from tuple succeeded: packets from it belong to the transport (on the shared
// port this is what routes them). selected: media is sent there from now on.
struct SetIceTuple {
  TransportId id;
  SocketAddress tuple;
  bool selected;
};

// ICE consent was lost: forget every tuple; nothing is sent until a new check succeeds.
struct ClearIceTuples {
  TransportId id;
};

struct ConnectTransport {
  TransportId id;
  SocketAddress remote_rtp;
  SocketAddress remote_rtcp;  // invalid: RTCP goes to remote_rtp (mux) or rtp port + 1
};

// Installs SRTP: inbound decrypts what the remote sends, outbound encrypts what we send.
// The worker takes ownership of both sessions.
struct SetTransportSrtp {
  TransportId id;
  SrtpSession* inbound;
  SrtpSession* outbound;
};

struct RemoveTransport {
  TransportId id;
};

enum class KeyFrameRequest : uint8_t { none, pli, fir };

// Simulcast: at most this many encodings (spatial layers) per producer.
constexpr size_t kMaxSimulcastEncodings = 4;

// One simulcast encoding of a producer, as signaled. Browsers signal simulcast by RID
// only: the worker learns each encoding's SSRC (and its RTX SSRC) from the first packet
// carrying the RID (repaired RID for RTX) header extension.
struct ProducerEncoding {
  uint32_t ssrc = 0;      // 0: learned from the RID extension
  uint32_t rtx_ssrc = 0;  // 0: none, or learned from the repaired-RID extension
  std::array<char, 16> rid{};
  uint8_t rid_len = 0;
};

struct AddProducer {
  ProducerId id;
  TransportId transport;
  // A simple producer's stream: the SSRC the endpoint sends (0: learned from the MID
  // extension, for a browser that signaled none) and its RTX SSRC (0: none).
  uint32_t ssrc;
  uint32_t rtx_ssrc;
  // A simulcast producer's encodings, lowest spatial layer first (encoding_count >= 2;
  // ssrc/rtx_ssrc above are then unused). 0 or 1: a simple producer.
  uint8_t encoding_count;
  std::array<ProducerEncoding, kMaxSimulcastEncodings> encodings;
  // How to recognise its packets when SSRCs are not signaled: the producer's MID and the
  // producer-side ids of the MID, RID and repaired-RID extensions (0: not negotiated).
  std::array<char, 16> mid;
  uint8_t mid_len;
  uint8_t mid_ext_id;
  uint8_t rid_ext_id;
  uint8_t rrid_ext_id;
  // The producer-side id of urn:ietf:params:rtp-hdrext:ssrc-audio-level (0: none): the
  // worker keeps the level in ProducerCounters for the active-speaker observer.
  uint8_t audio_level_ext_id;
  uint32_t clock_rate;
  wire::CodecKind codec;
  bool paused;
  KeyFrameRequest keyframe_request;  // how to ask its endpoint for a key frame
  bool nack;                         // the endpoint retransmits on generic NACK: ask for losses
  bool remb;  // goog-remb without transport-cc: weir tells it what to send by REMB
  uint8_t twcc_ext_id;               // its transport-wide sequence number extension id; 0: none
  uint16_t retransmission_packets;   // history kept for consumers' NACKs (power of two; 0: none)
  PayloadTypeMap rtx_apt;            // producer RTX PT -> producer media PT (kNoMapping: not RTX)
  PayloadTypeMap pt_map;       // producer PT -> router PT
  ExtensionIdMap ext_map;      // producer ext id -> router ext id
  ProducerCounters* counters;  // owned by control; freed only after RemoveProducer applied
};

// Asks the producer's endpoint for a key frame (PLI or FIR, as negotiated), throttled like
// the consumers' own requests.
struct RequestKeyFrame {
  ProducerId id;
};

struct SetProducerPaused {
  ProducerId id;
  bool paused;
};

struct RemoveProducer {
  ProducerId id;  // also detaches (but does not remove) its consumers
};

struct AddConsumer {
  ConsumerId id;
  ProducerId producer;
  TransportId transport;
  uint32_t ssrc;
  uint32_t clock_rate;
  bool paused;
  bool keyframe_sync;          // video: after (re)start forward only from a key frame
  PayloadTypeMap pt_map;       // router PT -> consumer PT
  ExtensionIdMap ext_map;      // router ext id -> consumer ext id
  // The consumer's MID (WebRTC consumers; empty for plain ones) and the consumer-side id of
  // the MID header extension: every packet carries the consumer's own MID there, because
  // browsers route by it before SSRC.
  std::array<char, 16> mid;
  uint8_t mid_len;
  uint8_t mid_ext_id;  // 0: do not write a MID
  // Its transport-wide sequence number extension id: weir numbers what it sends (for the
  // endpoint's transport-cc feedback) instead of forwarding the producer's numbers.
  uint8_t twcc_ext_id;         // 0: none
  bool nack;                   // the endpoint may NACK: answer from the producer's history
  uint32_t rtx_ssrc;           // retransmissions as RFC 4588 RTX on this SSRC; 0: resend as is
  uint8_t rtx_payload_type;    // the consumer's RTX PT (with rtx_ssrc)
  std::array<char, 64> cname;  // for its SDES in sender reports
  uint8_t cname_len;
  // Simulcast producers: the spatial layer (encoding index) and temporal layer the consumer
  // prefers. The worker forwards the highest active layer not above the preferred one
  // (the lowest active one if none is), switching only on a key frame of the new layer.
  // 0xFF: the highest there is.
  uint8_t preferred_spatial_layer;
  uint8_t preferred_temporal_layer;
  ConsumerCounters* counters;  // owned by control; freed only after RemoveConsumer applied
};

struct SetConsumerPreferredLayers {
  ConsumerId id;
  uint8_t spatial_layer;   // 0xFF: the highest
  uint8_t temporal_layer;  // 0xFF: the highest
};

// Asks for a key frame of the stream this consumer forwards (or is about to switch to).
struct RequestConsumerKeyFrame {
  ConsumerId id;
};

struct SetConsumerPaused {
  ConsumerId id;
  bool paused;
};

struct RemoveConsumer {
  ConsumerId id;
};

// Pipes between workers (worker_pipes.h). The producer's copy on a worker that has
// consumers of it but not the producer: fed from the pipe of the producer's worker
// (from_worker), forwarded to that worker's consumers like a local producer's packets; its
// key-frame requests go back through the reverse pipe. `producer` is the producer's own
// AddProducer (its transport and counters are not used here: the copy has none and counts
// into counters of its own). Removed by RemoveProducer on that worker.
struct AddPipedProducer {
  AddProducer producer;
  uint32_t from_worker;
};

// On the producer's worker: pipe each packet of the producer to to_worker from now on
// (which must already have applied AddPipedProducer), or stop doing so.
struct AddProducerPipe {
  ProducerId id;
  uint32_t to_worker;
};
struct RemoveProducerPipe {
  ProducerId id;
  uint32_t to_worker;
};

// A datagram of a control protocol (STUN, DTLS) crossing between a worker and the control
// thread, with where it came from or goes to. Up: transport is 0 when the worker could not
// tell (a new 5-tuple on the shared port); the control thread demultiplexes by ICE
// username. Down (SendControlPacket): the worker sends it from the transport's socket to
// `remote`.
struct ControlPacket {
  static constexpr size_t kMaxSize = 1920;  // a pool buffer's room after its headroom
  TransportId transport = 0;
  SocketAddress remote;
  uint16_t len = 0;
  uint8_t data[kMaxSize];
};

// Down: a control packet to send, in order with the commands around it (a DTLS
// close_notify leaves before the RemoveTransport that follows it).
struct SendControlPacket {
  ControlPacket packet;
};

using Command = std::variant<AddPlainTransport, AddWebRtcTransport, SetIceTuple, ClearIceTuples,
                             ConnectTransport, SetTransportSrtp, RemoveTransport, AddProducer,
                             RequestKeyFrame, SetProducerPaused, RemoveProducer, AddConsumer,
                             SetConsumerPaused, RemoveConsumer, SendControlPacket,
                             SetConsumerPreferredLayers, RequestConsumerKeyFrame,
                             AddPipedProducer, AddProducerPipe, RemoveProducerPipe>;

}  // namespace weir::dp
