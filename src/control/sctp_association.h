// One SCTP association (RFC 4960) for a WebRTC transport's DataChannels (RFC 8831), on
// usrsctp, over whatever carries its packets (DTLS application data): the owner feeds
// received packets in with on_packet and sends what on_sctp_packet hands out. Port 5000
// both ends, both sides send INIT (RFC 8841), OS/MIS as configured. Whole messages up to
// max_message_size go to the listener with their stream and PPID; DCEP opens (RFC 8832)
// are answered with an ACK and remembered per stream; streams are closed by resetting
// them (RFC 6525), and a peer's reset is answered with ours.
//
// Control thread only. Every listener call but on_sctp_packet happens outside usrsctp,
// so the listener may send, reset streams, or destroy the association from it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

struct socket;
union sctp_sockstore;
struct sctp_rcvinfo;

namespace weir::control {

// How a DataChannel's SCTP stream delivers (contract 5.4): ordered or not, and at most one
// of a lifetime and a retransmission limit (none: reliable).
struct SctpStreamParameters {
  uint16_t stream_id = 0;
  bool ordered = true;
  std::optional<uint32_t> max_packet_life_time_ms;
  std::optional<uint32_t> max_retransmits;
};

// A DataChannel message that arrived: its stream, its PPID (51 string, 53 binary; 56/57
// empty string/binary, then len is 0) and its bytes (valid during the call only).
struct SctpMessage {
  uint16_t stream_id;
  uint32_t ppid;
  const uint8_t* data;
  size_t len;
};
using SctpMessageHandler = std::function<void(const SctpMessage&)>;

// A channel the peer opened in-band with DCEP (DATA_CHANNEL_OPEN); already acknowledged.
struct SctpDataChannelOpen {
  SctpStreamParameters params;  // stream id and the reliability the peer asked for
  std::string label;
  std::string protocol;
  uint16_t priority = 0;
};

enum class SctpState : uint8_t { fresh, connecting, connected, failed, closed };
const char* sctp_state_name(SctpState state);  // "new", "connecting", "connected", ...

struct SctpOptions {
  std::string name = "sctp";  // what the log lines start with (the transport's id)
  uint16_t os = 1024;         // outgoing streams asked for
  uint16_t mis = 1024;        // incoming streams allowed
  size_t max_message_size = 262144;
  // usrsctp's send buffer: what may wait unacknowledged; a send that does not fit fails.
  uint32_t send_buffer_size = 1024 * 1024;
  // Largest SCTP packet: with DTLS's record overhead (up to ~90 bytes) it stays near the
  // 1200-byte datagrams the DTLS handshake uses.
  uint32_t mtu = 1150;
  // INIT is retransmitted at most this far apart, and practically forever: the peer may
  // start its SCTP much later than DTLS connects (mediasoup-client adds the browser's
  // m=application section only with the first DataChannel), and its INIT then meets ours.
  uint16_t init_max_rto_ms = 10000;
  uint16_t init_max_attempts = 0xffff;
};

// Counted on the control thread; stats() reports them.
struct SctpCounters {
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  uint64_t messages_received = 0;
  uint64_t bytes_received = 0;
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t send_buffer_full = 0;      // sends refused because usrsctp's send buffer was full
  uint64_t send_refused = 0;          // not connected, too large, unknown stream, other errors
  uint64_t oversize_dropped = 0;      // received messages larger than max_message_size
  uint64_t messages_reassembled = 0;  // received in parts (usrsctp's partial delivery)
  uint64_t dcep_malformed = 0;        // PPID 50 messages that were neither OPEN nor ACK
  uint64_t dcep_opens = 0;
  uint64_t dcep_acks_received = 0;
  uint64_t messages_abandoned = 0;  // sends usrsctp gave up on (PR-SCTP limits, loss)
  uint64_t stream_resets_received = 0;
  uint64_t stream_resets_sent = 0;
};

class SctpAssociation {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // One SCTP packet for the peer (valid during the call). Called from inside usrsctp:
    // must not call back into the association.
    virtual void on_sctp_packet(const uint8_t* data, size_t len) = 0;
    virtual void on_sctp_state(SctpState state) = 0;
    virtual void on_sctp_message(const SctpMessage& message) = 0;
    virtual void on_sctp_data_channel_open(const SctpDataChannelOpen& open) { (void)open; }
    // The peer reset its outgoing stream (closed that DataChannel); ours is reset too.
    virtual void on_sctp_stream_closed(uint16_t stream_id) { (void)stream_id; }
  };

  enum class SendResult : uint8_t { sent, not_connected, too_large, buffer_full, refused };

  // Creates the usrsctp socket (not yet connecting). Throws std::runtime_error if usrsctp
  // refuses to create or configure it.
  SctpAssociation(boost::asio::io_context& io, Listener& listener, SctpOptions options = {});
  ~SctpAssociation();
  SctpAssociation(const SctpAssociation&) = delete;
  SctpAssociation& operator=(const SctpAssociation&) = delete;

  // Sends INIT (once DTLS is up). State: connecting, then connected or failed.
  void connect();
  // An SCTP packet from the peer.
  void on_packet(const uint8_t* data, size_t len);
  // One message. PPID 51/53 with len 0 go as 56/57 (one zero byte, RFC 8831 section 6.6).
  SendResult send(const SctpStreamParameters& params, uint32_t ppid, const uint8_t* data,
                  size_t len);
  // Resets our outgoing stream (the peer then resets its own: the channel is closed).
  void reset_stream(uint16_t stream_id);
  // Aborts the association (the ABORT goes out through on_sctp_packet); state closed.
  void close();

  SctpState state() const { return state_; }
  const SctpOptions& options() const { return options_; }
  const SctpCounters& counters() const { return counters_; }
  // The DCEP channel open on stream_id, if the peer opened one there.
  const SctpDataChannelOpen* data_channel(uint16_t stream_id) const;

 private:
  friend struct SctpAssociationAccess;

  // What usrsctp delivered, kept until the listener can be called outside usrsctp.
  struct Delivery {
    void* data;  // malloc'd by usrsctp; freed once handled
    size_t len;
    uint16_t stream_id;
    uint32_t ppid;  // host order
    int flags;      // MSG_NOTIFICATION, MSG_EOR
  };

  static int on_usrsctp_receive(struct socket* sock, union sctp_sockstore addr, void* data,
                                size_t len, struct sctp_rcvinfo info, int flags, void* ulp);
  void on_usrsctp_output(const uint8_t* data, size_t len);
  void dispatch_pending();
  // false if the association was destroyed by the listener meanwhile
  bool handle(const Delivery& d, const std::shared_ptr<bool>& alive);
  bool handle_data(const Delivery& d, const std::shared_ptr<bool>& alive);
  bool handle_message(uint16_t stream_id, uint32_t ppid, const uint8_t* data, size_t len,
                      const std::shared_ptr<bool>& alive);
  bool handle_dcep(uint16_t stream_id, const uint8_t* data, size_t len,
                   const std::shared_ptr<bool>& alive);
  bool handle_notification(const uint8_t* data, size_t len, const std::shared_ptr<bool>& alive);
  bool handle_stream_reset(const uint8_t* data, size_t len, const std::shared_ptr<bool>& alive);
  bool set_state(SctpState state, const std::shared_ptr<bool>& alive);
  SendResult send_internal(const SctpStreamParameters& params, uint32_t ppid, const uint8_t* data,
                           size_t len, bool user_message);
  bool request_reset(uint16_t stream_id);
  void partial_reset_if(uint16_t stream_id);
  void configure();

  boost::asio::io_context& io_;
  Listener& listener_;
  SctpOptions options_;
  struct socket* socket_ = nullptr;
  SctpState state_ = SctpState::fresh;
  SctpCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::deque<Delivery> pending_;
  bool dispatching_ = false;
  bool muted_ = false;  // being destroyed: packets usrsctp still emits go nowhere
  // A message delivered in parts (usrsctp's partial delivery): its stream, PPID, bytes so
  // far; discarding_ once it grew past max_message_size.
  std::vector<uint8_t> partial_;
  bool partial_active_ = false;
  bool discarding_ = false;
  uint16_t partial_stream_ = 0;
  uint32_t partial_ppid_ = 0;
  std::map<uint16_t, SctpDataChannelOpen> channels_;  // DCEP-opened streams
  std::set<uint16_t> closing_;      // we reset these: the peer's reset back is its reply
  std::set<uint16_t> reset_retry_;  // resets usrsctp could not start yet
};

}  // namespace weir::control
