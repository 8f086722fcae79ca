// The broadcaster REST API's routing table: turns an HTTP method, request target and body
// into the Control call that answers it. Pure (no I/O, no Control state), so that every
// path, method and malformed input can be unit-tested; the HTTP server only moves bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/control.h"

namespace weir::signaling {

enum class ApiAction {
  get_room,
  create_broadcaster,
  delete_broadcaster,
  create_transport,
  connect_transport,
  restart_ice,
  create_producer,
  consume,
  pause_producer,
  resume_producer,
  close_producer,
  pause_consumer,
  resume_consumer,
  close_consumer,
  transport_stats,
  producer_stats,
  consumer_stats,
  server_stats,
};
const char* api_action_name(ApiAction action);

// A matched route: the action plus its decoded path/query parameters and the body.
struct ApiCall {
  ApiAction action = ApiAction::server_stats;
  std::string room_id;
  std::string broadcaster_id;
  std::string transport_id;
  std::string producer_id;
  std::string consumer_id;
  nlohmann::json body = nlohmann::json::object();  // always an object
};

// Either a call to make, or the error to answer at once (400/404/405) without Control.
struct RouteResult {
  std::optional<ApiCall> call;
  control::ApiResult error;
  std::string allow;  // for 405: the methods the path accepts ("GET", "POST, DELETE")
};

// target: the request-target as received ("/rooms/a%20b/broadcasters?x=1"). An empty body
// counts as {} so that Control names the first missing field.
RouteResult route_request(std::string_view method, std::string_view target,
                          std::string_view body);

// Runs the call on Control. Must be called on the control thread. Exceptions escaping
// Control become a 500 so that one bad request never takes the control thread down.
control::ApiResult dispatch(control::Control& control, const ApiCall& call);

// Percent-decoding (RFC 3986). plus_is_space: form-encoded query strings. nullopt when a
// '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// The value of the first `name` parameter of a query string ("a=1&b=2"), decoded.
// nullopt if absent; an error string through *error if it cannot be decoded.
std::optional<std::string> query_parameter(std::string_view query, std::string_view name,
                                           std::string* error);

}  // namespace weir::signaling
