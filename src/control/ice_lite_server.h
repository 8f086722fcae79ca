// The ICE-lite side of one WebRTC transport (RFC 8445 section 2.5 and 7.3, RFC 7675 for
// consent): it answers the peer's Binding requests, checked for USERNAME, MESSAGE-INTEGRITY
// and FINGERPRINT, learns the tuples they come from, selects the one the peer nominates
// (USE-CANDIDATE, or the highest NOMINATION with renomination), and loses consent when no
// valid check arrived for the consent timeout. A lite agent never sends checks of its own:
// the browser is always the controlling side. Pure logic over parsed messages; the
// transport around it moves the datagrams and turns outcomes into dataplane commands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/socket_address.h"
#include "wire/stun_message.h"

namespace weir::control {

enum class IceState : uint8_t { fresh, connected, completed, disconnected, closed };
const char* ice_state_name(IceState state);  // mediasoup's names: "new", "connected", ...

struct IceCredentials {
  std::string username_fragment;
  std::string password;
};
// 32 random characters each, as mediasoup generates them (RFC 8445 needs 4 and 22 at least).
IceCredentials generate_ice_credentials();

class IceLiteServer {
 public:
  // What handle_request did.
  struct Outcome {
    size_t response_len = 0;        // bytes of the answer written to out; 0: no answer
    bool tuple_added = false;       // first valid check from this tuple
    bool selected_changed = false;  // the selected tuple is now `from`
    bool state_changed = false;
    const char* rejection = nullptr;  // why a request was refused (for the logs); null if not
  };

  IceLiteServer(IceCredentials credentials, uint64_t consent_timeout_ms);

  // Handles one STUN message from `from` (a parsed view). Requests are answered: success
  // (XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT) when USERNAME, MESSAGE-INTEGRITY
  // and FINGERPRINT check out; 400 when an attribute is missing, 401 for a wrong
  // username or integrity, 420 for an unknown required attribute. Indications and
  // responses get no answer. out must hold at least kMaxResponse bytes.
  Outcome handle(const wire::StunMessageView& message, const dp::SocketAddress& from,
                 uint64_t now_ms, uint8_t* out, size_t capacity);
  static constexpr size_t kMaxResponse = 256;

  // New credentials (RFC 8445 9): requests with the new ones are accepted at once, the old
  // ones until the first request with the new ones arrives, so media keeps flowing.
  void restart(IceCredentials credentials);

  // To be called periodically: true once when consent has just been lost (no valid check
  // for consent_timeout_ms since the last one); the state is then disconnected and the
  // tuples are forgotten. A later valid check reconnects.
  bool check_consent(uint64_t now_ms);

  void close() { state_ = IceState::closed; }

  // Does this request's USERNAME name this server (current or previous ufrag)? For the
  // shared port's demultiplexer, before any integrity check.
  static std::string_view local_ufrag_of(const wire::StunMessageView& message);

  const IceCredentials& credentials() const { return credentials_; }
  const IceCredentials& previous_credentials() const { return previous_; }
  IceState state() const { return state_; }
  const dp::SocketAddress& selected_tuple() const { return selected_; }
  bool has_selected_tuple() const { return selected_.valid(); }
  const std::vector<dp::SocketAddress>& tuples() const { return tuples_; }
  uint64_t last_check_ms() const { return last_check_ms_; }

 private:
  size_t error_response(const wire::StunMessageView& request, uint16_t code, const char* reason,
                        uint8_t* out, size_t capacity) const;

  IceCredentials credentials_;
  IceCredentials previous_;  // valid until a request uses the current ones
  uint64_t consent_timeout_ms_;
  IceState state_ = IceState::fresh;
  dp::SocketAddress selected_;
  uint32_t selected_nomination_ = 0;
  std::vector<dp::SocketAddress> tuples_;
  uint64_t last_check_ms_ = 0;
};

}  // namespace weir::control
