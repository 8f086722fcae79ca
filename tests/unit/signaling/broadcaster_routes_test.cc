#include "signaling/broadcaster_routes.h"

#include <string>

#include <gtest/gtest.h>

namespace weir::signaling {
namespace {

ApiCall routed(std::string_view method, std::string_view target, std::string_view body = "") {
  RouteResult r = route_request(method, target, body);
  EXPECT_TRUE(r.call.has_value()) << method << " " << target << ": " << r.error.body.dump();
  return r.call.value_or(ApiCall{});
}

control::ApiResult refused(std::string_view method, std::string_view target,
                           std::string_view body = "") {
  RouteResult r = route_request(method, target, body);
  EXPECT_FALSE(r.call.has_value()) << method << " " << target;
  return r.error;
}

std::string reason(const control::ApiResult& r) { return r.body.value("errorReason", ""); }

TEST(BroadcasterRoutes, EveryRouteMapsToItsAction) {
  struct Case {
    const char* method;
    const char* target;
    ApiAction action;
  } cases[] = {
      {"GET", "/rooms/r1", ApiAction::get_room},
      {"POST", "/rooms/r1/broadcasters", ApiAction::create_broadcaster},
      {"DELETE", "/rooms/r1/broadcasters/b1", ApiAction::delete_broadcaster},
      {"POST", "/rooms/r1/broadcasters/b1/transports", ApiAction::create_transport},
      {"POST", "/rooms/r1/broadcasters/b1/transports/t1/connect", ApiAction::connect_transport},
      {"POST", "/rooms/r1/broadcasters/b1/transports/t1/producers", ApiAction::create_producer},
      {"POST", "/rooms/r1/broadcasters/b1/transports/t1/consume?producerId=p1", ApiAction::consume},
      {"POST", "/rooms/r1/broadcasters/b1/producers/p1/pause", ApiAction::pause_producer},
      {"POST", "/rooms/r1/broadcasters/b1/producers/p1/resume", ApiAction::resume_producer},
      {"DELETE", "/rooms/r1/broadcasters/b1/producers/p1", ApiAction::close_producer},
      {"POST", "/rooms/r1/broadcasters/b1/consumers/c1/pause", ApiAction::pause_consumer},
      {"POST", "/rooms/r1/broadcasters/b1/consumers/c1/resume", ApiAction::resume_consumer},
      {"DELETE", "/rooms/r1/broadcasters/b1/consumers/c1", ApiAction::close_consumer},
      {"GET", "/rooms/r1/transports/t1/stats", ApiAction::transport_stats},
      {"GET", "/rooms/r1/producers/p1/stats", ApiAction::producer_stats},
      {"GET", "/rooms/r1/consumers/c1/stats", ApiAction::consumer_stats},
      {"GET", "/stats", ApiAction::server_stats},
  };
  for (const Case& c : cases) {
    ApiCall call = routed(c.method, c.target);
    EXPECT_EQ(call.action, c.action) << c.method << " " << c.target << " gave "
                                     << api_action_name(call.action);
  }
}

TEST(BroadcasterRoutes, CapturesEveryPathParameter) {
  ApiCall c = routed("POST", "/rooms/room-A/broadcasters/bc-7/transports/tr-9/connect", "{}");
  EXPECT_EQ(c.room_id, "room-A");
  EXPECT_EQ(c.broadcaster_id, "bc-7");
  EXPECT_EQ(c.transport_id, "tr-9");
  c = routed("DELETE", "/rooms/r/broadcasters/b/consumers/cons-1");
  EXPECT_EQ(c.consumer_id, "cons-1");
  EXPECT_EQ(c.broadcaster_id, "b");
  c = routed("GET", "/rooms/r/producers/prod-3/stats");
  EXPECT_EQ(c.room_id, "r");
  EXPECT_EQ(c.producer_id, "prod-3");
}

TEST(BroadcasterRoutes, PercentDecodesPathSegmentsOnly) {
  ApiCall c = routed("DELETE", "/rooms/my%20room/broadcasters/a%2Fb%25c");
  EXPECT_EQ(c.room_id, "my room");
  EXPECT_EQ(c.broadcaster_id, "a/b%c");  // %2F is data, not a separator
  c = routed("GET", "/rooms/a+b");
  EXPECT_EQ(c.room_id, "a+b");  // '+' is a space only in query strings
  c = routed("GET", "/rooms/%e2%82%AC");
  EXPECT_EQ(c.room_id, "\xE2\x82\xAC");
}

TEST(BroadcasterRoutes, BadPercentEncodingIs400) {
  EXPECT_EQ(refused("GET", "/rooms/a%2").status, 400);
  EXPECT_EQ(refused("GET", "/rooms/a%zz").status, 400);
  control::ApiResult r = refused("GET", "/rooms/%");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(reason(r), "invalid percent-encoding in path segment \"%\"");
}

TEST(BroadcasterRoutes, ConsumeTakesProducerIdFromTheQuery) {
  ApiCall c = routed("POST", "/rooms/r/broadcasters/b/transports/t/consume?x=1&producerId=p%3A1&y");
  EXPECT_EQ(c.producer_id, "p:1");
  EXPECT_EQ(c.transport_id, "t");
  c = routed("POST", "/rooms/r/broadcasters/b/transports/t/consume?producerId=a+b");
  EXPECT_EQ(c.producer_id, "a b");
  EXPECT_FALSE(c.body.value("paused", false));
  c = routed("POST", "/rooms/r/broadcasters/b/transports/t/consume?producerId=p", R"({"paused":true})");
  EXPECT_TRUE(c.body.value("paused", false));
}

TEST(BroadcasterRoutes, ConsumeQueryErrors) {
  control::ApiResult r = refused("POST", "/rooms/r/broadcasters/b/transports/t/consume");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(reason(r), "missing query parameter producerId");
  EXPECT_EQ(reason(refused("POST", "/rooms/r/broadcasters/b/transports/t/consume?producerId=")),
            "missing query parameter producerId");
  EXPECT_EQ(reason(refused("POST", "/rooms/r/broadcasters/b/transports/t/consume?producerId=%x")),
            "invalid percent-encoding in query parameter producerId");
  EXPECT_EQ(reason(refused("POST", "/rooms/r/broadcasters/b/transports/t/consume?producerId=p",
                           R"({"paused":"yes"})")),
            "invalid field body.paused (must be a boolean)");
}

TEST(BroadcasterRoutes, QueryParameterHelper) {
  std::string error;
  EXPECT_EQ(query_parameter("a=1&b=2", "b", &error), "2");
  EXPECT_EQ(query_parameter("a=1&b=2&b=3", "b", &error), "2");
  EXPECT_EQ(query_parameter("flag&b", "b", &error), "");
  EXPECT_EQ(query_parameter("a=1", "b", &error), std::nullopt);
  EXPECT_EQ(query_parameter("", "b", &error), std::nullopt);
  EXPECT_EQ(query_parameter("b%3D=x&b=y", "b", &error), "y");
  EXPECT_TRUE(error.empty());
}

TEST(BroadcasterRoutes, PercentDecodeHelper) {
  EXPECT_EQ(percent_decode("a%41%4a%4A+", false), "aAJJ+");
  EXPECT_EQ(percent_decode("a%41+", true), "aA ");
  EXPECT_EQ(percent_decode("%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("%G1", false), std::nullopt);
  EXPECT_EQ(percent_decode("", false), "");
  EXPECT_EQ(percent_decode("%00", false), std::string(1, '\0'));
}

TEST(BroadcasterRoutes, UnknownPathIs404NamingIt) {
  control::ApiResult r = refused("GET", "/x");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(reason(r), "no route for GET /x");
  EXPECT_EQ(reason(refused("GET", "/rooms/r/nothing?q=1")), "no route for GET /rooms/r/nothing");
  EXPECT_EQ(refused("GET", "/").status, 404);
  EXPECT_EQ(refused("GET", "/rooms/").status, 404);        // empty room id is no room
  EXPECT_EQ(refused("GET", "/rooms/r/").status, 404);      // trailing slash
  EXPECT_EQ(refused("GET", "rooms/r").status, 404);        // not origin-form
  EXPECT_EQ(refused("GET", "").status, 404);
  EXPECT_EQ(refused("POST", "/rooms/r/broadcasters/b/transports/t/bogus").status, 404);
}

TEST(BroadcasterRoutes, KnownPathWrongMethodIs405WithAllow) {
  RouteResult r = route_request("POST", "/rooms/r", "");
  ASSERT_FALSE(r.call);
  EXPECT_EQ(r.error.status, 405);
  EXPECT_EQ(r.allow, "GET");
  EXPECT_EQ(reason(r.error), "method POST not allowed on /rooms/r (allowed: GET)");
  r = route_request("GET", "/rooms/r/broadcasters/b", "");
  EXPECT_EQ(r.error.status, 405);
  EXPECT_EQ(r.allow, "DELETE");
  EXPECT_EQ(route_request("DELETE", "/stats", "").error.status, 405);
  EXPECT_EQ(route_request("get", "/stats", "").error.status, 405);  // methods are case-sensitive
  EXPECT_EQ(route_request("PUT", "/rooms/r/broadcasters/b/producers/p/pause", "").error.status, 405);
}

TEST(BroadcasterRoutes, MalformedJsonIs400WithParserMessage) {
  control::ApiResult r = refused("POST", "/rooms/r/broadcasters", R"({"id": )");
  EXPECT_EQ(r.status, 400);
  std::string why = reason(r);
  EXPECT_EQ(why.rfind("malformed JSON body: ", 0), 0u) << why;
  EXPECT_NE(why.find("parse error"), std::string::npos) << why;
  EXPECT_NE(why.find("column"), std::string::npos) << why;
}

TEST(BroadcasterRoutes, NonObjectJsonIs400) {
  control::ApiResult r = refused("POST", "/rooms/r/broadcasters", "[1,2]");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(reason(r), "JSON body must be an object, got array");
  EXPECT_EQ(reason(refused("POST", "/rooms/r/broadcasters/b/transports", "\"plain\"")),
            "JSON body must be an object, got string");
  EXPECT_EQ(reason(refused("POST", "/rooms/r/broadcasters/b/transports", "null")),
            "JSON body must be an object, got null");
}

TEST(BroadcasterRoutes, BodyIsParsedOrEmptyObject) {
  ApiCall c = routed("POST", "/rooms/r/broadcasters",
                     R"({"id":"b","displayName":"B","device":{"name":"FFmpeg"}})");
  EXPECT_EQ(c.body["device"]["name"], "FFmpeg");
  c = routed("POST", "/rooms/r/broadcasters", " \r\n");
  EXPECT_TRUE(c.body.is_object());
  EXPECT_TRUE(c.body.empty());
  // Routes without a body ignore one rather than failing on it.
  c = routed("POST", "/rooms/r/broadcasters/b/producers/p/pause", "not json");
  EXPECT_EQ(c.action, ApiAction::pause_producer);
}

}  // namespace
}  // namespace weir::signaling
