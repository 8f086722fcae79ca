#include "signaling/broadcaster_routes.h"

#include <array>
#include <exception>
#include <vector>

namespace weir::signaling {
namespace {

using control::ApiResult;

// How a route uses the request body.
enum class BodyUse { none, json_object };

struct Route {
  std::string_view method;
  std::string_view pattern;  // segments separated by '/'; ":name" captures one segment
  ApiAction action;
  BodyUse body;
};

// Contract §7 plus weir's restartIce, pause/resume/close and stats routes.
constexpr std::array kRoutes = {
    Route{"GET", "/rooms/:roomId", ApiAction::get_room, BodyUse::none},
    Route{"POST", "/rooms/:roomId/broadcasters", ApiAction::create_broadcaster,
          BodyUse::json_object},
    Route{"DELETE", "/rooms/:roomId/broadcasters/:broadcasterId", ApiAction::delete_broadcaster,
          BodyUse::none},
    Route{"POST", "/rooms/:roomId/broadcasters/:broadcasterId/transports",
          ApiAction::create_transport, BodyUse::json_object},
    Route{"POST", "/rooms/:roomId/broadcasters/:broadcasterId/transports/:transportId/connect",
          ApiAction::connect_transport, BodyUse::json_object},
    Route{"POST", "/rooms/:roomId/broadcasters/:broadcasterId/transports/:transportId/restartIce",
          ApiAction::restart_ice, BodyUse::none},
    Route{"POST", "/rooms/:roomId/broadcasters/:broadcasterId/transports/:transportId/producers",
          ApiAction::create_producer, BodyUse::json_object},
    Route{"POST", "/rooms/:roomId/broadcasters/:broadcasterId/transports/:transportId/consume",
          ApiAction::consume, BodyUse::json_object},
    Route{"POST", "/rooms/:roomId/broadcasters/:broadcasterId/producers/:producerId/pause",
          ApiAction::pause_producer, BodyUse::none},
    Route{"POST", "/rooms/:roomId/broadcasters/:broadcasterId/producers/:producerId/resume",
          ApiAction::resume_producer, BodyUse::none},
    Route{"DELETE", "/rooms/:roomId/broadcasters/:broadcasterId/producers/:producerId",
          ApiAction::close_producer, BodyUse::none},
    Route{"POST", "/rooms/:roomId/broadcasters/:broadcasterId/consumers/:consumerId/pause",
          ApiAction::pause_consumer, BodyUse::none},
    Route{"POST", "/rooms/:roomId/broadcasters/:broadcasterId/consumers/:consumerId/resume",
          ApiAction::resume_consumer, BodyUse::none},
    Route{"DELETE", "/rooms/:roomId/broadcasters/:broadcasterId/consumers/:consumerId",
          ApiAction::close_consumer, BodyUse::none},
    Route{"GET", "/rooms/:roomId/transports/:transportId/stats", ApiAction::transport_stats,
          BodyUse::none},
    Route{"GET", "/rooms/:roomId/producers/:producerId/stats", ApiAction::producer_stats,
          BodyUse::none},
    Route{"GET", "/rooms/:roomId/consumers/:consumerId/stats", ApiAction::consumer_stats,
          BodyUse::none},
    Route{"GET", "/stats", ApiAction::server_stats, BodyUse::none},
};

// Splits "/a/b/c" into {"a","b","c"}; "/" gives {""} so that it matches nothing.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // the leading '/'
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// Matches raw (still encoded) segments against a pattern; fills the named captures.
bool match_pattern(std::string_view pattern, const std::vector<std::string_view>& segments,
                   std::vector<std::pair<std::string_view, std::string_view>>& captures) {
  std::vector<std::string_view> parts = split_path(pattern);
  if (parts.size() != segments.size()) return false;
  captures.clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i].empty() && parts[i][0] == ':') {
      if (segments[i].empty()) return false;  // "/rooms/" names no room
      captures.emplace_back(parts[i].substr(1), segments[i]);
    } else if (parts[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

std::string* capture_slot(ApiCall& call, std::string_view name) {
  if (name == "roomId") return &call.room_id;
  if (name == "broadcasterId") return &call.broadcaster_id;
  if (name == "transportId") return &call.transport_id;
  if (name == "producerId") return &call.producer_id;
  if (name == "consumerId") return &call.consumer_id;
  return nullptr;
}

const char* json_type_name(const nlohmann::json& j) { return j.type_name(); }

RouteResult fail(int status, std::string reason) {
  RouteResult r;
  r.error = ApiResult::error(status, std::move(reason));
  return r;
}

// Parses the body of a route that takes one. Whitespace-only means {}.
bool parse_body(std::string_view body, nlohmann::json& out, RouteResult& failure) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    out = nlohmann::json::object();
    return true;
  }
  try {
    out = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    failure = fail(400, std::string("malformed JSON body: ") + e.what());
    return false;
  }
  if (!out.is_object()) {
    failure = fail(400, std::string("JSON body must be an object, got ") + json_type_name(out));
    return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const char* api_action_name(ApiAction action) {
  switch (action) {
    case ApiAction::get_room: return "get_room";
    case ApiAction::create_broadcaster: return "create_broadcaster";
    case ApiAction::delete_broadcaster: return "delete_broadcaster";
    case ApiAction::create_transport: return "create_transport";
    case ApiAction::connect_transport: return "connect_transport";
    case ApiAction::restart_ice:
      return "restart_ice";
    case ApiAction::create_producer: return "create_producer";
    case ApiAction::consume: return "consume";
    case ApiAction::pause_producer: return "pause_producer";
    case ApiAction::resume_producer: return "resume_producer";
    case ApiAction::close_producer: return "close_producer";
    case ApiAction::pause_consumer: return "pause_consumer";
    case ApiAction::resume_consumer: return "resume_consumer";
    case ApiAction::close_consumer: return "close_consumer";
    case ApiAction::transport_stats: return "transport_stats";
    case ApiAction::producer_stats: return "producer_stats";
    case ApiAction::consumer_stats: return "consumer_stats";
    case ApiAction::server_stats: return "server_stats";
  }
  return "?";
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> query_parameter(std::string_view query, std::string_view name,
                                           std::string* error) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::optional<std::string> key = percent_decode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    std::optional<std::string> value = percent_decode(raw, true);
    if (!value && error) {
      *error = "invalid percent-encoding in query parameter " + std::string(name);
    }
    return value;
  }
  return std::nullopt;
}

RouteResult route_request(std::string_view method, std::string_view target,
                          std::string_view body) {
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query =
      path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view{};
  std::string no_route = "no route for " + std::string(method) + " " + std::string(path);
  if (path.empty() || path[0] != '/') return fail(404, no_route);

  std::vector<std::string_view> segments = split_path(path);
  std::vector<std::pair<std::string_view, std::string_view>> captures;
  const Route* found = nullptr;
  std::string allow;
  for (const Route& route : kRoutes) {
    if (!match_pattern(route.pattern, segments, captures)) continue;
    if (route.method == method) {
      found = &route;
      break;
    }
    if (!allow.empty()) allow += ", ";
    allow += route.method;
  }
  if (!found) {
    if (allow.empty()) return fail(404, no_route);
    RouteResult r = fail(405, "method " + std::string(method) + " not allowed on " +
                                  std::string(path) + " (allowed: " + allow + ")");
    r.allow = allow;
    return r;
  }

  ApiCall call;
  call.action = found->action;
  for (const auto& [name, raw] : captures) {
    std::optional<std::string> value = percent_decode(raw, false);
    if (!value) {
      return fail(400, "invalid percent-encoding in path segment \"" + std::string(raw) + "\"");
    }
    if (std::string* slot = capture_slot(call, name)) *slot = std::move(*value);
  }

  if (found->body == BodyUse::json_object) {
    RouteResult failure;
    if (!parse_body(body, call.body, failure)) return failure;
  }

  if (call.action == ApiAction::consume) {
    std::string error;
    std::optional<std::string> producer_id = query_parameter(query, "producerId", &error);
    if (!error.empty()) return fail(400, error);
    if (!producer_id || producer_id->empty()) {
      return fail(400, "missing query parameter producerId");
    }
    call.producer_id = std::move(*producer_id);
    if (call.body.contains("paused") && !call.body["paused"].is_boolean()) {
      return fail(400, "invalid field body.paused (must be a boolean)");
    }
  }

  RouteResult r;
  r.call = std::move(call);
  return r;
}

namespace {

ApiResult run_call(control::Control& c, const ApiCall& a) {
  switch (a.action) {
    case ApiAction::get_room: return c.get_room(a.room_id);
    case ApiAction::create_broadcaster: return c.create_broadcaster(a.room_id, a.body);
    case ApiAction::delete_broadcaster: return c.delete_broadcaster(a.room_id, a.broadcaster_id);
    case ApiAction::create_transport:
      return c.create_transport(a.room_id, a.broadcaster_id, a.body);
    case ApiAction::connect_transport:
      return c.connect_transport(a.room_id, a.broadcaster_id, a.transport_id, a.body);
    case ApiAction::restart_ice:
      return c.restart_ice(a.room_id, a.broadcaster_id, a.transport_id);
    case ApiAction::create_producer:
      return c.create_producer(a.room_id, a.broadcaster_id, a.transport_id, a.body);
    case ApiAction::consume:
      // Control validates the optional body ({paused}) and creates the consumer paused in
      // one command, so no packet slips through before the pause.
      return c.consume(a.room_id, a.broadcaster_id, a.transport_id, a.producer_id, a.body);
    case ApiAction::pause_producer:
      return c.set_producer_paused(a.room_id, a.broadcaster_id, a.producer_id, true);
    case ApiAction::resume_producer:
      return c.set_producer_paused(a.room_id, a.broadcaster_id, a.producer_id, false);
    case ApiAction::close_producer:
      return c.close_producer(a.room_id, a.broadcaster_id, a.producer_id);
    case ApiAction::pause_consumer:
      return c.set_consumer_paused(a.room_id, a.broadcaster_id, a.consumer_id, true);
    case ApiAction::resume_consumer:
      return c.set_consumer_paused(a.room_id, a.broadcaster_id, a.consumer_id, false);
    case ApiAction::close_consumer:
      return c.close_consumer(a.room_id, a.broadcaster_id, a.consumer_id);
    case ApiAction::transport_stats: return c.transport_stats(a.room_id, a.transport_id);
    case ApiAction::producer_stats: return c.producer_stats(a.room_id, a.producer_id);
    case ApiAction::consumer_stats: return c.consumer_stats(a.room_id, a.consumer_id);
    case ApiAction::server_stats: return c.server_stats();
  }
  return ApiResult::error(500, "unhandled route");
}

}  // namespace

ApiResult dispatch(control::Control& control, const ApiCall& call) {
  try {
    return run_call(control, call);
  } catch (const std::exception& e) {
    return ApiResult::error(500, std::string("internal error in ") +
                                     api_action_name(call.action) + ": " + e.what());
  }
}

}  // namespace weir::signaling
