// protoo framing against contract 1.2: the discriminator order, id and method rules, the
// data default, what is dropped and why, and frames that serialise back.
#include "signaling/protoo_message.h"

#include <gtest/gtest.h>

#include <string>

namespace weir::signaling {
namespace {

using nlohmann::json;

ProtooMessage parse_ok(const std::string& text) {
  ProtooParse p = parse_protoo(text);
  EXPECT_TRUE(p.message.has_value()) << text << ": " << protoo_drop_reason_name(p.dropped);
  return p.message.value_or(ProtooMessage{});
}

ProtooDropReason parse_dropped(const std::string& text) {
  ProtooParse p = parse_protoo(text);
  EXPECT_FALSE(p.message.has_value()) << text;
  return p.dropped;
}

TEST(ProtooMessage, Request) {
  ProtooMessage m = parse_ok(R"({"request":true,"id":4821337,"method":"join","data":{"a":1}})");
  EXPECT_EQ(m.kind, ProtooKind::request);
  EXPECT_EQ(m.id, 4821337);
  EXPECT_EQ(m.method, "join");
  EXPECT_EQ(m.data, json({{"a", 1}}));
}

TEST(ProtooMessage, DataDefaultsToEmptyObjectWhenAbsentOrFalsy) {
  for (const char* data : {"", R"(,"data":null)", R"(,"data":false)", R"(,"data":0)",
                           R"(,"data":"")"}) {
    ProtooMessage m = parse_ok(std::string(R"({"request":true,"id":1,"method":"m")") + data + "}");
    EXPECT_EQ(m.data, json::object()) << data;
  }
  // Truthy data is kept as it is, arrays included (the stats answers are arrays).
  EXPECT_EQ(parse_ok(R"({"request":true,"id":1,"method":"m","data":[1,2]})").data, json({1, 2}));
  EXPECT_EQ(parse_ok(R"({"notification":true,"method":"m","data":"x"})").data, json("x"));
}

TEST(ProtooMessage, DiscriminatorOrderRequestResponseNotification) {
  // request wins over response and notification; falsy values do not count.
  EXPECT_EQ(parse_ok(R"({"request":1,"response":true,"id":1,"method":"m"})").kind,
            ProtooKind::request);
  EXPECT_EQ(parse_ok(R"({"request":false,"response":true,"id":1,"ok":true})").kind,
            ProtooKind::response);
  EXPECT_EQ(parse_ok(R"({"request":0,"response":"","notification":"yes","method":"m"})").kind,
            ProtooKind::notification);
  // A request with a bad method is dropped, not tried as a response.
  EXPECT_EQ(parse_dropped(R"({"request":true,"response":true,"id":1,"ok":true})"),
            ProtooDropReason::method_not_string);
  EXPECT_EQ(parse_dropped(R"({"request":null,"response":0,"notification":false})"),
            ProtooDropReason::no_kind);
  EXPECT_EQ(parse_dropped(R"({})"), ProtooDropReason::no_kind);
  // Empty objects and arrays are truthy in JavaScript.
  EXPECT_EQ(parse_ok(R"({"request":{},"id":1,"method":"m"})").kind, ProtooKind::request);
  EXPECT_EQ(parse_ok(R"({"request":[],"id":1,"method":"m"})").kind, ProtooKind::request);
}

TEST(ProtooMessage, IdMustBeANumber) {
  EXPECT_EQ(parse_dropped(R"({"request":true,"id":"12","method":"m"})"),
            ProtooDropReason::id_not_number);
  EXPECT_EQ(parse_dropped(R"({"request":true,"method":"m"})"), ProtooDropReason::id_not_number);
  EXPECT_EQ(parse_dropped(R"({"response":true,"id":null,"ok":true})"),
            ProtooDropReason::id_not_number);
  EXPECT_EQ(parse_ok(R"({"request":true,"id":1.5,"method":"m"})").id, 1.5);
  EXPECT_EQ(parse_ok(R"({"request":true,"id":-3,"method":"m"})").id, -3);
  // Notifications have no id: none is needed.
  EXPECT_EQ(parse_ok(R"({"notification":true,"method":"m","id":"x"})").method, "m");
}

TEST(ProtooMessage, MethodMustBeAString) {
  EXPECT_EQ(parse_dropped(R"({"request":true,"id":1,"method":5})"),
            ProtooDropReason::method_not_string);
  EXPECT_EQ(parse_dropped(R"({"notification":true})"), ProtooDropReason::method_not_string);
  EXPECT_EQ(parse_ok(R"({"request":true,"id":1,"method":""})").method, "");
}

TEST(ProtooMessage, Responses) {
  ProtooMessage ok = parse_ok(R"({"response":true,"id":7,"ok":true})");
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.data, json::object());
  ProtooMessage err =
      parse_ok(R"({"response":true,"id":7,"ok":false,"errorCode":403,"errorReason":"no"})");
  EXPECT_FALSE(err.ok);
  EXPECT_EQ(err.error_code, 403);
  EXPECT_EQ(err.error_reason, "no");
  ProtooMessage odd = parse_ok(R"({"response":true,"id":7,"errorCode":"x","errorReason":3})");
  EXPECT_FALSE(odd.ok);
  EXPECT_EQ(odd.error_code, 0);
  EXPECT_EQ(odd.error_reason, "");
  EXPECT_EQ(parse_ok(R"({"response":true,"id":7,"errorCode":1e300})").error_code, 0);
}

TEST(ProtooMessage, NonObjectsAndBadJsonAreDropped) {
  EXPECT_EQ(parse_dropped(R"([{"request":true,"id":1,"method":"m"}])"),
            ProtooDropReason::not_object);
  EXPECT_EQ(parse_dropped("null"), ProtooDropReason::not_object);
  EXPECT_EQ(parse_dropped("42"), ProtooDropReason::not_object);
  EXPECT_EQ(parse_dropped(R"("request")"), ProtooDropReason::not_object);
  EXPECT_EQ(parse_dropped(R"({"request":true,)"), ProtooDropReason::not_json);
  EXPECT_EQ(parse_dropped(""), ProtooDropReason::not_json);
  EXPECT_EQ(parse_dropped("{\"request\":true,\"id\":1,\"method\":\"\xff\"}"),
            ProtooDropReason::not_json);
  ProtooParse p = parse_protoo("{oops");
  EXPECT_FALSE(p.detail.empty());
}

TEST(ProtooMessage, DeepNestingIsRefusedBeforeParsing) {
  std::string deep(kProtooMaxDepth + 1, '[');
  EXPECT_EQ(parse_dropped(R"({"request":true,"id":1,"method":"m","data":)" + deep),
            ProtooDropReason::too_deep);
  std::string ok_depth = std::string(kProtooMaxDepth - 1, '[') + std::string(kProtooMaxDepth - 1, ']');
  EXPECT_EQ(parse_ok(R"({"request":true,"id":1,"method":"m","data":)" + ok_depth + "}").method,
            "m");
  // Brackets inside strings are text.
  EXPECT_EQ(json_nesting_depth(R"({"a":"[[[[[[\"[[["})", 100), 1u);
  EXPECT_EQ(json_nesting_depth("[[]][[[]]]", 100), 3u);
  EXPECT_EQ(json_nesting_depth(std::string(1000, '{'), 10), 11u);  // stops at limit + 1
}

TEST(ProtooMessage, FramesRoundTrip) {
  json caps = {{"codecs", json::array()}};
  ProtooMessage r = parse_ok(protoo_request_text(77, "newConsumer", {{"id", "c1"}}));
  EXPECT_EQ(r.kind, ProtooKind::request);
  EXPECT_EQ(r.id, 77);
  EXPECT_EQ(r.method, "newConsumer");
  EXPECT_EQ(r.data, json({{"id", "c1"}}));

  json success = json::parse(protoo_success_text(json(4821337), caps));
  EXPECT_EQ(success, json({{"response", true}, {"id", 4821337}, {"ok", true}, {"data", caps}}));
  EXPECT_EQ(json::parse(protoo_success_text(json(1), nullptr))["data"], json::object());

  json error = json::parse(protoo_error_text(json(9), 500, "unknown request.method \"x\""));
  EXPECT_EQ(error, json({{"response", true},
                         {"id", 9},
                         {"ok", false},
                         {"errorCode", 500},
                         {"errorReason", "unknown request.method \"x\""}}));
  // A float id is echoed as received.
  EXPECT_EQ(json::parse(protoo_error_text(json(1.5), 429, "x"))["id"], 1.5);

  json n = json::parse(protoo_notification_text("peerClosed", {{"peerId", "b"}}));
  EXPECT_EQ(n, json({{"notification", true}, {"method", "peerClosed"}, {"data", {{"peerId", "b"}}}}));
}

TEST(ProtooMessage, SerialisationReplacesInvalidUtf8) {
  std::string text = protoo_notification_text("m", {{"name", std::string("a\xff")}});
  EXPECT_NE(text.find("a\xef\xbf\xbd"), std::string::npos) << text;
}

TEST(ProtooMessage, JsTruthiness) {
  EXPECT_FALSE(js_truthy(json()));
  EXPECT_FALSE(js_truthy(json(false)));
  EXPECT_FALSE(js_truthy(json(0)));
  EXPECT_FALSE(js_truthy(json(0u)));
  EXPECT_FALSE(js_truthy(json(0.0)));
  EXPECT_FALSE(js_truthy(json("")));
  EXPECT_TRUE(js_truthy(json(true)));
  EXPECT_TRUE(js_truthy(json(-1)));
  EXPECT_TRUE(js_truthy(json(0.1)));
  EXPECT_TRUE(js_truthy(json("0")));
  EXPECT_TRUE(js_truthy(json::object()));
  EXPECT_TRUE(js_truthy(json::array()));
}

}  // namespace
}  // namespace weir::signaling
