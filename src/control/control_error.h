// The one error type of the control plane. It says what kind of refusal it is, so the API
// answers 400 for a bad field, 404 for an unknown id and 500 for a well-formed request
// that cannot be served (mediasoup's TypeError / UnsupportedError / Error). Exceptions are
// fine here: this is the control thread, never the packet path.
#pragma once

#include <stdexcept>
#include <string>

namespace weir::control {

class ControlError : public std::runtime_error {
 public:
  enum class Kind { invalid, not_found, refused };
  ControlError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }
  int http_status() const {
    switch (kind_) {
      case Kind::invalid:
        return 400;
      case Kind::not_found:
        return 404;
      case Kind::refused:
        return 500;
    }
    return 500;
  }

 private:
  Kind kind_;
};

[[noreturn]] inline void throw_invalid(const std::string& message) {
  throw ControlError(ControlError::Kind::invalid, message);
}
[[noreturn]] inline void throw_not_found(const std::string& message) {
  throw ControlError(ControlError::Kind::not_found, message);
}
// Well formed but unsupported or refused (mediasoup's UnsupportedError): 500.
[[noreturn]] inline void throw_refused(const std::string& message) {
  throw ControlError(ControlError::Kind::refused, message);
}

}  // namespace weir::control
