// protoo's framing (signaling contract 1.2): one JSON object per WebSocket text frame, a
// request, a response or a notification. Parsing is pure and total: any text gives either
// a message or the reason it is dropped, exactly as protoo-client/protoo-server decide
// (the kind is the first truthy of request, response, notification; ids must be numbers;
// methods strings; a falsy data becomes {}). Serialisation never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace weir::signaling {

enum class ProtooKind { request, response, notification };

struct ProtooMessage {
  ProtooKind kind = ProtooKind::notification;
  nlohmann::json id;       // request, response: a JSON number (echoed as received)
  std::string method;      // request, notification
  nlohmann::json data;     // request, notification, ok response: {} when absent or falsy
  bool ok = false;         // response
  int error_code = 0;      // response with ok false: errorCode if it is a number, else 0
  std::string error_reason;  // response with ok false: errorReason if it is a string
};

// Why a frame was dropped; every frame that is not a message has exactly one.
enum class ProtooDropReason {
  none,
  not_json,           // not valid JSON (or not UTF-8)
  too_deep,           // nested deeper than kProtooMaxDepth: refused before parsing
  not_object,         // an array, a string, a number, null...
  no_kind,            // none of request/response/notification is truthy
  id_not_number,      // request or response whose id is missing or not a number
  method_not_string,  // request or notification whose method is missing or not a string
};
const char* protoo_drop_reason_name(ProtooDropReason reason);

// Deeper documents are dropped unparsed: a 960 kB frame of '[' would otherwise make every
// recursive copy or dump of its data overflow the stack. No real message nests past ~10.
constexpr size_t kProtooMaxDepth = 64;

struct ProtooParse {
  std::optional<ProtooMessage> message;
  ProtooDropReason dropped = ProtooDropReason::none;
  std::string detail;  // for not_json: the parser's message
};

ProtooParse parse_protoo(std::string_view text);

// The nesting depth of a JSON text's arrays and objects (brackets inside strings do not
// count), scanning no further than one past limit. Pure; used before parsing.
size_t json_nesting_depth(std::string_view text, size_t limit);

// JavaScript truthiness of a JSON value: false, 0, "", null are falsy (NaN cannot occur).
bool js_truthy(const nlohmann::json& value);

// Frames. Invalid UTF-8 in strings is replaced (U+FFFD) rather than throwing.
std::string protoo_request_text(uint32_t id, const std::string& method, const nlohmann::json& data);
std::string protoo_success_text(const nlohmann::json& id, const nlohmann::json& data);
std::string protoo_error_text(const nlohmann::json& id, int error_code,
                              const std::string& error_reason);
std::string protoo_notification_text(const std::string& method, const nlohmann::json& data);

}  // namespace weir::signaling
