#include "control/ice_lite_server.h"

#include <algorithm>

#include "control/random_ids.h"

namespace weir::control {

namespace {

constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

std::string random_ice_string(size_t length) {
  std::vector<uint8_t> bytes(length);
  random_bytes(bytes);
  std::string out(length, 'a');
  // 256 is not a multiple of 36: the bias is below 1 %, irrelevant for 160+ bits of secret.
  for (size_t i = 0; i < length; ++i) out[i] = kAlphabet[bytes[i] % (sizeof kAlphabet - 1)];
  return out;
}

wire::StunAddress to_stun_address(const dp::SocketAddress& a) {
  return wire::StunAddress::from_sockaddr(a.sockaddr_ptr());
}

}  // namespace

const char* ice_state_name(IceState state) {
  switch (state) {
    case IceState::fresh:
      return "new";
    case IceState::connected:
      return "connected";
    case IceState::completed:
      return "completed";
    case IceState::disconnected:
      return "disconnected";
    case IceState::closed:
      return "closed";
  }
  return "?";
}

IceCredentials generate_ice_credentials() {
  return IceCredentials{random_ice_string(32), random_ice_string(32)};
}

IceLiteServer::IceLiteServer(IceCredentials credentials, uint64_t consent_timeout_ms)
    : credentials_(std::move(credentials)), consent_timeout_ms_(consent_timeout_ms) {}

std::string_view IceLiteServer::local_ufrag_of(const wire::StunMessageView& message) {
  if (!message.has_username()) return {};
  const std::string_view username = message.username();
  const size_t colon = username.find(':');
  return colon == std::string_view::npos ? std::string_view{} : username.substr(0, colon);
}

size_t IceLiteServer::error_response(const wire::StunMessageView& request, uint16_t code,
                                     const char* reason, uint8_t* out, size_t capacity) const {
  wire::StunWriter w(out, capacity, request.method(), wire::StunClass::error,
                     request.transaction_id());
  w.add_error_code(code, reason);
  w.add_fingerprint();
  return w.size();
}

IceLiteServer::Outcome IceLiteServer::handle(const wire::StunMessageView& message,
                                             const dp::SocketAddress& from, uint64_t now_ms,
                                             uint8_t* out, size_t capacity) {
  Outcome outcome;
  if (state_ == IceState::closed) {
    outcome.rejection = "transport closed";
    return outcome;
  }
  if (message.message_class() != wire::StunClass::request) {
    // Binding indications are keep-alives; responses answer checks a lite agent never sends.
    outcome.rejection = "not a request";
    return outcome;
  }
  if (message.has_fingerprint() && !message.check_fingerprint()) {
    // Not a STUN message after all (RFC 5389 8): silently discarded.
    outcome.rejection = "bad FINGERPRINT";
    return outcome;
  }
  if (message.method() != wire::kStunMethodBinding) {
    outcome.response_len = error_response(message, 400, "Bad Request", out, capacity);
    outcome.rejection = "not a Binding request";
    return outcome;
  }
  if (message.unknown_required_attribute() != 0) {
    outcome.response_len = error_response(message, 420, "Unknown Attribute", out, capacity);
    outcome.rejection = "unknown comprehension-required attribute";
    return outcome;
  }
  if (!message.has_username() || !message.has_message_integrity() || !message.has_fingerprint()) {
    outcome.response_len = error_response(message, 400, "Bad Request", out, capacity);
    outcome.rejection = "USERNAME, MESSAGE-INTEGRITY or FINGERPRINT missing";
    return outcome;
  }
  const std::string_view ufrag = local_ufrag_of(message);
  const IceCredentials* matched = nullptr;
  if (ufrag == credentials_.username_fragment) {
    matched = &credentials_;
  } else if (!previous_.username_fragment.empty() && ufrag == previous_.username_fragment) {
    matched = &previous_;
  }
  if (matched == nullptr || !message.check_integrity(matched->password)) {
    outcome.response_len = error_response(message, 401, "Unauthorized", out, capacity);
    outcome.rejection = matched == nullptr ? "unknown username" : "bad MESSAGE-INTEGRITY";
    return outcome;
  }
  if (message.has_ice_controlled()) {
    // A lite agent is always controlled (RFC 8445 6.1.1): the peer must take control.
    outcome.response_len = error_response(message, 487, "Role Conflict", out, capacity);
    outcome.rejection = "peer is controlled too";
    return outcome;
  }

  // Valid: answer it with the credentials it used, before the state changes below.
  {
    wire::StunWriter w(out, capacity, wire::kStunMethodBinding, wire::StunClass::success,
                       message.transaction_id());
    w.add_xor_mapped_address(to_stun_address(from));
    w.add_message_integrity(matched->password);
    w.add_fingerprint();
    outcome.response_len = w.size();
  }
  if (matched == &credentials_) previous_ = {};  // the peer switched to the new ones
  last_check_ms_ = now_ms;

  if (std::find(tuples_.begin(), tuples_.end(), from) == tuples_.end()) {
    tuples_.push_back(from);
    outcome.tuple_added = true;
  }
  // Aggressive or regular nomination: USE-CANDIDATE selects the tuple. With renomination
  // (NOMINATION attribute) only a higher value than the selected one's moves it.
  bool nominated = message.has_use_candidate();
  if (nominated && message.has_nomination()) {
    nominated = !selected_.valid() || message.nomination() >= selected_nomination_;
  }
  const IceState before = state_;
  if (state_ == IceState::fresh || state_ == IceState::disconnected || !selected_.valid()) {
    // The first valid tuple carries media at once, nominated or not, as in mediasoup: a
    // lite agent need not wait for the controlling side to make up its mind.
    selected_ = from;
    outcome.selected_changed = true;
    state_ = nominated ? IceState::completed : IceState::connected;
  } else if (nominated) {
    if (selected_ != from) {
      selected_ = from;
      outcome.selected_changed = true;
    }
    state_ = IceState::completed;
  }
  if (nominated && message.has_nomination()) selected_nomination_ = message.nomination();
  outcome.state_changed = state_ != before;
  return outcome;
}

void IceLiteServer::restart(IceCredentials credentials) {
  previous_ = std::move(credentials_);
  credentials_ = std::move(credentials);
  selected_nomination_ = 0;
}

bool IceLiteServer::check_consent(uint64_t now_ms) {
  if (state_ != IceState::connected && state_ != IceState::completed) return false;
  if (now_ms - last_check_ms_ < consent_timeout_ms_) return false;
  state_ = IceState::disconnected;
  selected_ = dp::SocketAddress{};
  selected_nomination_ = 0;
  tuples_.clear();
  return true;
}

}  // namespace weir::control
