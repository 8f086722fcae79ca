// ProtooPeerChannel on one io_context that stands for both the control thread and the
// connection's strand: every callback exactly once, with the answer, 408 or 410.
#include "signaling/protoo_peer_channel.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace weir::signaling {
namespace {

namespace net = boost::asio;
using control::PeerResponse;
using nlohmann::json;

struct FakeSink : ProtooSink {
  std::vector<json> sent;
  std::vector<uint16_t> closes;
  void send_text(std::string text) override { sent.push_back(json::parse(text)); }
  void close_with(uint16_t code, std::string) override { closes.push_back(code); }
};

class ProtooPeerChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sink_ = std::make_shared<FakeSink>();
    channel_ = std::make_shared<ProtooPeerChannel>(ctx_, ctx_.get_executor(), sink_,
                                                   std::chrono::milliseconds(unit_ms_));
  }
  void run() {
    ctx_.restart();
    ctx_.poll();
  }
  // Callbacks record what they got; the count proves "exactly once".
  std::function<void(const PeerResponse&)> recorder(std::vector<PeerResponse>* out) {
    return [out](const PeerResponse& r) { out->push_back(r); };
  }

  int unit_ms_ = 2000;
  net::io_context ctx_;
  std::shared_ptr<FakeSink> sink_;
  std::shared_ptr<ProtooPeerChannel> channel_;
};

TEST_F(ProtooPeerChannelTest, NotificationIsSent) {
  channel_->notify("newPeer", {{"id", "b"}});
  run();
  ASSERT_EQ(sink_->sent.size(), 1u);
  EXPECT_EQ(sink_->sent[0], json({{"notification", true}, {"method", "newPeer"},
                                  {"data", {{"id", "b"}}}}));
}

TEST_F(ProtooPeerChannelTest, RequestAnsweredOnce) {
  std::vector<PeerResponse> got;
  channel_->request("newConsumer", {{"id", "c1"}}, recorder(&got));
  run();
  ASSERT_EQ(sink_->sent.size(), 1u);
  const json& req = sink_->sent[0];
  EXPECT_EQ(req["request"], true);
  EXPECT_EQ(req["method"], "newConsumer");
  ASSERT_TRUE(req["id"].is_number_unsigned());
  EXPECT_LT(req["id"].get<uint32_t>(), 10000000u);
  EXPECT_EQ(channel_->pending_requests(), 1u);

  PeerResponse ok;
  ok.ok = true;
  ok.data = {{"x", 1}};
  EXPECT_TRUE(channel_->on_response(req["id"], ok));
  EXPECT_FALSE(channel_->on_response(req["id"], ok));  // a duplicate answer is ignored
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].ok);
  EXPECT_EQ(got[0].data, json({{"x", 1}}));
  EXPECT_EQ(channel_->pending_requests(), 0u);
  EXPECT_FALSE(channel_->on_response(json("1"), ok));
  EXPECT_FALSE(channel_->on_response(json(-1), ok));
}

TEST_F(ProtooPeerChannelTest, ConcurrentRequestsGetDistinctIdsAndTheirOwnAnswers) {
  std::vector<PeerResponse> a, b;
  channel_->request("one", {}, recorder(&a));
  channel_->request("two", {}, recorder(&b));
  run();
  ASSERT_EQ(sink_->sent.size(), 2u);
  EXPECT_NE(sink_->sent[0]["id"], sink_->sent[1]["id"]);
  PeerResponse err;
  err.error_code = 403;
  err.error_reason = "nope";
  EXPECT_TRUE(channel_->on_response(sink_->sent[1]["id"], err));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].error_code, 403);
  EXPECT_TRUE(a.empty());
}

TEST_F(ProtooPeerChannelTest, ConnectionCloseFailsPendingWith410) {
  std::vector<PeerResponse> got;
  channel_->request("newConsumer", {}, recorder(&got));
  channel_->request("newDataConsumer", {}, recorder(&got));
  run();
  EXPECT_TRUE(channel_->on_connection_closed());  // Control did not close it: tell Control
  ASSERT_EQ(got.size(), 2u);
  for (const PeerResponse& r : got) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, 410);
  }
  // After the close: requests fail (asynchronously), notifications are dropped.
  channel_->request("late", {}, recorder(&got));
  EXPECT_EQ(got.size(), 2u);
  channel_->notify("x", {});
  run();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].error_code, 410);
  EXPECT_EQ(sink_->sent.size(), 2u);
}

TEST_F(ProtooPeerChannelTest, CloseByControlSends4000AndIsNotReportedBack) {
  std::vector<PeerResponse> got;
  channel_->request("newConsumer", {}, recorder(&got));
  channel_->close();
  run();
  ASSERT_EQ(sink_->closes.size(), 1u);
  EXPECT_EQ(sink_->closes[0], kProtooCloseCode);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].error_code, 410);
  EXPECT_FALSE(channel_->on_connection_closed());
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(ProtooPeerChannelTest, TimeoutGives408) {
  unit_ms_ = 1;  // 15 ms for the first request, 15.1 ms for the second
  SetUp();
  std::vector<PeerResponse> got;
  channel_->request("slow", {}, recorder(&got));
  channel_->request("slower", {}, recorder(&got));
  run();
  json first_id = sink_->sent[0]["id"];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    ctx_.restart();
    ctx_.run_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].error_code, 408);
  EXPECT_EQ(got[1].error_code, 408);
  PeerResponse late;
  late.ok = true;
  EXPECT_FALSE(channel_->on_response(first_id, late));
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(ProtooPeerChannelTest, SinkGoneDropsOutputButCallbacksStillRun) {
  std::vector<PeerResponse> got;
  sink_.reset();
  channel_->notify("x", {});
  channel_->request("y", {}, recorder(&got));
  run();
  EXPECT_TRUE(channel_->on_connection_closed());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].error_code, 410);
}

}  // namespace
}  // namespace weir::signaling
