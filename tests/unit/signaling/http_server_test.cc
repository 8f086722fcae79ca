// The broadcaster API end to end over real HTTPS: a real HttpServer on 127.0.0.1 (ephemeral
// port, an in-memory self-signed certificate), a real Control on its own control thread
// and a real started dataplane Worker.
#include "signaling/http_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/ssl.hpp>
#include "signaling/beast_http.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control/control.h"
#include "dataplane/srtp_session.h"
#include "dataplane/worker.h"
#include "signaling/tls_context.h"

namespace weir::signaling {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;

struct Answer {
  int status = -1;  // -1: no HTTP answer (error says why)
  std::string body;
  std::string content_type;
  std::string allow;
  std::string protocol;  // Sec-WebSocket-Protocol
  std::string error;
  json parsed() const { return json::parse(body, nullptr, false); }
  std::string reason() const { return parsed().value("errorReason", std::string("<none>")); }
};

// A blocking HTTPS/1.1 client on one connection (the server's certificate is not
// verified: it is self-signed). Reads time out after 10 s so that a server that never
// answers fails the test instead of hanging it.
class Client {
 public:
  explicit Client(uint16_t port) : tls_(net::ssl::context::tls_client), socket_(ioc_, tls_) {
    tls_.set_verify_mode(net::ssl::verify_none);
    beast::error_code ec;
    tcp::socket& raw = socket_.next_layer();
    raw.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    timeval tv{10, 0};
    setsockopt(raw.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(raw.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (!ec) socket_.handshake(net::ssl::stream_base::client, ec);
    connected_ = !ec;
  }
  bool connected() const { return connected_; }

  Answer request(http::verb method, const std::string& target, const std::string& body = "",
                 bool has_body = false) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (has_body || !body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    beast::error_code ec;
    http::write(socket_, req, ec);
    if (ec) return failed("write: " + ec.message());
    return read_answer();
  }
  Answer get(const std::string& target) { return request(http::verb::get, target); }
  Answer post(const std::string& target, const json& body) {
    return request(http::verb::post, target, body.dump(), true);
  }
  Answer del(const std::string& target) { return request(http::verb::delete_, target); }

  // Raw bytes, for requests no HTTP library would produce.
  Answer raw(const std::string& bytes) {
    beast::error_code ec;
    net::write(socket_, net::buffer(bytes), ec);
    if (ec) return failed("write: " + ec.message());
    return read_answer();
  }

  // True once the server has closed its side (read returns end of stream).
  bool closed_by_server() {
    char byte;
    beast::error_code ec;
    socket_.read_some(net::buffer(&byte, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::ssl::error::stream_truncated;
  }

 private:
  Answer read_answer() {
    // A signal meant for another thread of this process (the in-process server's) can
    // interrupt the blocking read: the parser keeps what it had, the read goes on. Giving
    // up instead left the answer on the socket for the next request to read.
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    beast::error_code ec;
    for (int attempt = 0; attempt < 100; ++attempt) {
      http::read(socket_, buffer_, parser, ec);
      if (ec != net::error::interrupted) break;
    }
    if (ec) return failed("read: " + ec.message());
    const http::response<http::string_body>& res = parser.get();
    Answer a;
    a.status = static_cast<int>(res.result_int());
    a.body = res.body();
    a.content_type = std::string(res[http::field::content_type]);
    a.allow = std::string(res[http::field::allow]);
    a.protocol = std::string(res[http::field::sec_websocket_protocol]);
    return a;
  }
  static Answer failed(std::string why) {
    Answer a;
    a.error = std::move(why);
    return a;
  }

  net::io_context ioc_;
  net::ssl::context tls_;
  beast::ssl_stream<tcp::socket> socket_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

// One worker, one Control and one control thread for the whole suite; an HttpServer per test.
class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    ASSERT_TRUE(dp::srtp_library_init(&error)) << error;
    dp::WorkerConfig wc;
    wc.index = 0;
    wc.pool_buffers = 2048;
    wc.engine.rx_buffers = 256;
    wc.engine.queue_depth = 256;
    worker_ = new dp::Worker(wc);
    ASSERT_TRUE(worker_->start(&error)) << error;
    control::ControlConfig cc;
    cc.rtc_min_port = 46000;
    cc.rtc_max_port = 46999;
    control_ = new control::Control(cc, {worker_});
    control_ctx_ = new net::io_context(1);
    work_ = new net::executor_work_guard<net::io_context::executor_type>(
        control_ctx_->get_executor());
    control_thread_ = new std::thread([] { control_ctx_->run(); });
    TlsSetup tls = make_tls_setup(TlsOptions{}, &error);
    ASSERT_TRUE(tls.context) << error;
    tls_ = new std::shared_ptr<net::ssl::context>(tls.context);
  }

  static void TearDownTestSuite() {
    if (control_thread_) {
      net::post(*control_ctx_, [] { control_->close_all(); });
      delete work_;
      control_thread_->join();
      delete control_thread_;
      delete control_ctx_;
    }
    delete control_;
    if (worker_) worker_->stop();
    delete worker_;
    delete tls_;
  }

  void SetUp() override {
    ASSERT_NE(control_thread_, nullptr);
    server_ = start_server(HttpServerConfig{});
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { stop_server(std::move(server_)); }

  static std::unique_ptr<HttpServer> start_server(HttpServerConfig config) {
    config.ip = "127.0.0.1";
    config.port = 0;
    if (!config.tls) config.tls = *tls_;
    auto server = std::make_unique<HttpServer>(config, *control_ctx_, *control_);
    std::string error;
    EXPECT_TRUE(server->start(&error)) << error;
    EXPECT_NE(server->port(), 0);
    return server;
  }

  // Stop the server, then let the control thread finish anything queued and close the
  // rooms before the server's io_context goes away (see the shutdown order in
  // http_server.h): the rooms' peers hold PeerChannels bound to that io_context.
  static void stop_server(std::unique_ptr<HttpServer> server) {
    if (!server) return;
    server->stop();
    std::promise<void> drained;
    net::post(*control_ctx_, [&drained] {
      control_->close_all();
      drained.set_value();
    });
    drained.get_future().wait();
    server.reset();
  }

  uint16_t port() const { return server_->port(); }

  static dp::Worker* worker_;
  static control::Control* control_;
  static net::io_context* control_ctx_;
  static net::executor_work_guard<net::io_context::executor_type>* work_;
  static std::thread* control_thread_;
  static std::shared_ptr<net::ssl::context>* tls_;
  std::unique_ptr<HttpServer> server_;
};

std::shared_ptr<net::ssl::context>* HttpServerTest::tls_ = nullptr;

dp::Worker* HttpServerTest::worker_ = nullptr;
control::Control* HttpServerTest::control_ = nullptr;
net::io_context* HttpServerTest::control_ctx_ = nullptr;
net::executor_work_guard<net::io_context::executor_type>* HttpServerTest::work_ = nullptr;
std::thread* HttpServerTest::control_thread_ = nullptr;

json broadcaster(const std::string& id) {
  return {{"id", id}, {"displayName", "Broadcaster " + id}, {"device", {{"name", "FFmpeg"}}}};
}

TEST_F(HttpServerTest, MalformedJsonIs400NamingTheParserError) {
  Client c(port());
  Answer a = c.request(http::verb::post, "/rooms/r1/broadcasters", "{\"id\": \"x\",", true);
  ASSERT_EQ(a.status, 400) << a.error << a.body;
  EXPECT_EQ(a.content_type, "application/json");
  EXPECT_EQ(a.reason().rfind("malformed JSON body: ", 0), 0u) << a.body;
  EXPECT_NE(a.reason().find("parse error"), std::string::npos) << a.body;
  // The connection survives a 400 from the API: keep-alive goes on.
  EXPECT_EQ(c.get("/rooms/r1").status, 200);
}

TEST_F(HttpServerTest, MissingFieldIs400NamingTheField) {
  Client c(port());
  Answer a = c.post("/rooms/r2/broadcasters", {{"displayName", "B"}, {"device", {{"name", "x"}}}});
  ASSERT_EQ(a.status, 400) << a.error << a.body;
  EXPECT_NE(a.reason().find("body.id"), std::string::npos) << a.body;
  a = c.post("/rooms/r2/broadcasters", {{"id", "b"}, {"displayName", "B"}, {"device", json::object()}});
  ASSERT_EQ(a.status, 400) << a.error << a.body;
  EXPECT_NE(a.reason().find("body.device.name"), std::string::npos) << a.body;
}

TEST_F(HttpServerTest, UnknownBroadcasterIs404) {
  Client c(port());
  Answer a = c.post("/rooms/r3/broadcasters/nobody/transports", {{"type", "plain"}});
  ASSERT_EQ(a.status, 404) << a.error << a.body;
  EXPECT_NE(a.reason().find("nobody"), std::string::npos) << a.body;
  EXPECT_EQ(c.del("/rooms/r3/broadcasters/nobody").status, 404);
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405) {
  Client c(port());
  Answer a = c.get("/x");
  ASSERT_EQ(a.status, 404) << a.error;
  EXPECT_EQ(a.reason(), "no route for GET /x");
  a = c.request(http::verb::put, "/rooms/r4");
  ASSERT_EQ(a.status, 405) << a.error;
  EXPECT_EQ(a.allow, "GET");
  EXPECT_EQ(a.content_type, "application/json");
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413) {
  Client c(port());
  std::string big(1024 * 1024 + 1, ' ');
  Answer a = c.request(http::verb::post, "/rooms/r5/broadcasters", big, true);
  ASSERT_EQ(a.status, 413) << a.error;
  EXPECT_NE(a.reason().find("1048576"), std::string::npos) << a.body;
  EXPECT_TRUE(c.closed_by_server());
  // Exactly at the limit is routed (and answered by Control, not by the HTTP layer).
  Client d(port());
  std::string at_limit(1024 * 1024, ' ');
  EXPECT_EQ(d.request(http::verb::post, "/rooms/r5/broadcasters", at_limit, true).status, 400);
}

TEST_F(HttpServerTest, GarbageOnOneConnectionDoesNotStopAnother) {
  Client bad(port());
  Client good(port());
  ASSERT_TRUE(bad.connected());
  ASSERT_TRUE(good.connected());
  Answer a = bad.raw("\x16\x03\x01 this is not HTTP\r\n\r\n");
  ASSERT_EQ(a.status, 400) << a.error;
  EXPECT_EQ(a.reason().rfind("bad HTTP request: ", 0), 0u) << a.body;
  EXPECT_TRUE(bad.closed_by_server());
  EXPECT_EQ(good.get("/stats").status, 200);
  Client fresh(port());
  EXPECT_EQ(fresh.get("/stats").status, 200);
}

TEST_F(HttpServerTest, ConnectionLimitAnswers503) {
  HttpServerConfig config;
  config.max_connections = 1;
  std::unique_ptr<HttpServer> small = start_server(config);
  {
    Client first(small->port());
    ASSERT_EQ(first.get("/stats").status, 200);
    Client second(small->port());
    Answer a = second.get("/stats");
    ASSERT_EQ(a.status, 503) << a.error;
    EXPECT_NE(a.reason().find("too many connections"), std::string::npos) << a.body;
    EXPECT_TRUE(second.closed_by_server());
    EXPECT_EQ(first.get("/stats").status, 200);  // the admitted one is unaffected
  }
  // Both closed: the server notices asynchronously. Bounded wait for the slot to free.
  for (int i = 0; i < 200 && small->open_connections() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(small->open_connections(), 0u);
  Client third(small->port());
  EXPECT_EQ(third.get("/stats").status, 200);
  stop_server(std::move(small));
}

TEST_F(HttpServerTest, ServerStatsShape) {
  Client c(port());
  Answer a = c.get("/stats");
  ASSERT_EQ(a.status, 200) << a.error;
  json s = a.parsed();
  ASSERT_TRUE(s.is_object()) << a.body;
  EXPECT_TRUE(s.contains("version"));
  ASSERT_TRUE(s["workers"].is_array()) << a.body;
  ASSERT_EQ(s["workers"].size(), 1u);
  EXPECT_EQ(s["workers"][0]["index"], 0);
  EXPECT_TRUE(s["workers"][0]["engine"] == "io_uring" || s["workers"][0]["engine"] == "recvmmsg");
  for (const char* k : {"rooms", "transports", "producers", "consumers"}) {
    EXPECT_TRUE(s[k].is_number()) << k;
  }
}

TEST_F(HttpServerTest, BroadcasterTransportProduceConsumeFlow) {
  Client c(port());
  const std::string room = "/rooms/flow%20room";

  Answer a = c.get(room);
  ASSERT_EQ(a.status, 200) << a.error << a.body;
  json caps = a.parsed();
  ASSERT_TRUE(caps["codecs"].is_array()) << a.body;
  ASSERT_FALSE(caps["codecs"].empty());
  ASSERT_TRUE(caps["headerExtensions"].is_array()) << a.body;

  // The sender: an ffmpeg-like broadcaster without capabilities.
  a = c.post(room + "/broadcasters", broadcaster("sender"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.parsed(), json({{"peers", json::array()}}));
  EXPECT_EQ(c.post(room + "/broadcasters", broadcaster("sender")).status, 500);  // duplicate

  a = c.post(room + "/broadcasters/sender/transports", {{"type", "webrtc"}});
  ASSERT_EQ(a.status, 500) << a.body;  // this test's Control has no event loop for ICE/DTLS
  EXPECT_EQ(a.reason(), "this server runs no WebRTC (no control event loop)");

  a = c.post(room + "/broadcasters/sender/transports",
             {{"type", "plain"}, {"comedia", true}, {"rtcpMux", false}});
  ASSERT_EQ(a.status, 200) << a.body;
  json send_transport = a.parsed();
  ASSERT_TRUE(send_transport["id"].is_string()) << a.body;
  EXPECT_EQ(send_transport["ip"], "127.0.0.1");
  EXPECT_TRUE(send_transport["port"].is_number_unsigned()) << a.body;
  EXPECT_TRUE(send_transport["rtcpPort"].is_number_unsigned()) << a.body;
  const std::string send_tid = send_transport["id"];

  json rtp_parameters = {
      {"codecs", {{{"mimeType", "video/VP8"}, {"payloadType", 101}, {"clockRate", 90000}}}},
      {"encodings", {{{"ssrc", 2222}}}}};
  a = c.post(room + "/broadcasters/sender/transports/" + send_tid + "/producers",
             {{"kind", "video"}, {"rtpParameters", rtp_parameters}});
  ASSERT_EQ(a.status, 200) << a.body;
  const std::string producer_id = a.parsed()["id"];

  // The receiver: a broadcaster with the router's capabilities sees the producer.
  json receiver = broadcaster("receiver");
  receiver["rtpCapabilities"] = caps;
  a = c.post(room + "/broadcasters", receiver);
  ASSERT_EQ(a.status, 200) << a.body;
  json peers = a.parsed()["peers"];
  ASSERT_EQ(peers.size(), 1u) << a.body;
  EXPECT_EQ(peers[0]["id"], "sender");
  ASSERT_EQ(peers[0]["producers"].size(), 1u) << a.body;
  EXPECT_EQ(peers[0]["producers"][0]["id"], producer_id);
  EXPECT_EQ(peers[0]["producers"][0]["kind"], "video");

  a = c.post(room + "/broadcasters/receiver/transports",
             {{"type", "plain"}, {"comedia", false}, {"rtcpMux", true}});
  ASSERT_EQ(a.status, 200) << a.body;
  json recv_transport = a.parsed();
  EXPECT_FALSE(recv_transport.contains("rtcpPort")) << a.body;
  const std::string recv_tid = recv_transport["id"];
  a = c.post(room + "/broadcasters/receiver/transports/" + recv_tid + "/connect",
             {{"ip", "127.0.0.1"}, {"port", 9}});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.parsed(), json::object());
  a = c.post(room + "/broadcasters/receiver/transports/" + recv_tid + "/connect",
             {{"ip", "127.0.0.1"}, {"port", 9}});
  EXPECT_EQ(a.status, 500) << a.body;

  a = c.request(http::verb::post, room + "/broadcasters/receiver/transports/" + recv_tid +
                                      "/consume?producerId=" + producer_id);
  ASSERT_EQ(a.status, 200) << a.body;
  json consumer = a.parsed();
  ASSERT_TRUE(consumer["id"].is_string()) << a.body;
  EXPECT_EQ(consumer["producerId"], producer_id);
  EXPECT_EQ(consumer["kind"], "video");
  EXPECT_EQ(consumer["type"], "simple");
  ASSERT_TRUE(consumer["rtpParameters"]["codecs"].is_array()) << a.body;
  EXPECT_EQ(consumer["rtpParameters"]["codecs"][0]["mimeType"], "video/VP8") << a.body;
  ASSERT_EQ(consumer["rtpParameters"]["encodings"].size(), 1u) << a.body;
  EXPECT_TRUE(consumer["rtpParameters"]["encodings"][0]["ssrc"].is_number()) << a.body;
  const std::string consumer_id = consumer["id"];

  // Stats of each object.
  a = c.get(room + "/transports/" + send_tid + "/stats");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.parsed()[0]["type"], "plain-rtp-transport") << a.body;
  a = c.get(room + "/producers/" + producer_id + "/stats");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.parsed()[0]["type"], "inbound-rtp") << a.body;
  a = c.get(room + "/consumers/" + consumer_id + "/stats");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(a.parsed().size(), 2u) << a.body;
  EXPECT_EQ(a.parsed()[0]["type"], "outbound-rtp") << a.body;
  EXPECT_EQ(a.parsed()[1]["type"], "inbound-rtp") << a.body;

  // Pause / resume / close.
  const std::string sender_path = room + "/broadcasters/sender";
  const std::string receiver_path = room + "/broadcasters/receiver";
  EXPECT_EQ(c.post(sender_path + "/producers/" + producer_id + "/pause", json::object()).status, 200);
  EXPECT_EQ(c.post(sender_path + "/producers/" + producer_id + "/resume", json::object()).status, 200);
  EXPECT_EQ(c.post(receiver_path + "/consumers/" + consumer_id + "/pause", json::object()).status, 200);
  EXPECT_EQ(c.post(receiver_path + "/consumers/" + consumer_id + "/resume", json::object()).status, 200);
  EXPECT_EQ(c.del(receiver_path + "/consumers/" + consumer_id).status, 200);
  EXPECT_EQ(c.del(receiver_path + "/consumers/" + consumer_id).status, 404);
  EXPECT_EQ(c.del(sender_path + "/producers/" + producer_id).status, 200);

  a = c.del(sender_path);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body, "broadcaster deleted");
  EXPECT_EQ(a.content_type.rfind("text/plain", 0), 0u) << a.content_type;
  EXPECT_EQ(c.del(sender_path).status, 404);
  EXPECT_EQ(c.del(receiver_path).status, 200);
}

TEST_F(HttpServerTest, ConsumePausedFromTheStart) {
  Client c(port());
  const std::string room = "/rooms/paused";
  json caps = c.get(room).parsed();
  ASSERT_EQ(c.post(room + "/broadcasters", broadcaster("s")).status, 200);
  json t = c.post(room + "/broadcasters/s/transports", {{"type", "plain"}}).parsed();
  json p = c.post(room + "/broadcasters/s/transports/" + t.value("id", "") + "/producers",
                  {{"kind", "audio"},
                   {"rtpParameters",
                    {{"codecs", {{{"mimeType", "audio/opus"}, {"payloadType", 100},
                                  {"clockRate", 48000}, {"channels", 2}}}},
                     {"encodings", {{{"ssrc", 1111}}}}}}})
                 .parsed();
  ASSERT_TRUE(p["id"].is_string()) << p.dump();
  json r = broadcaster("r");
  r["rtpCapabilities"] = caps;
  ASSERT_EQ(c.post(room + "/broadcasters", r).status, 200);
  json rt = c.post(room + "/broadcasters/r/transports", {{"type", "plain"}, {"comedia", true}}).parsed();
  Answer a = c.post(room + "/broadcasters/r/transports/" + rt.value("id", "") +
                        "/consume?producerId=" + p["id"].get<std::string>(),
                    {{"paused", true}});
  ASSERT_EQ(a.status, 200) << a.body;
  a = c.get(room + "/consumers/" + a.parsed().value("id", "") + "/stats");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.parsed()[0]["paused"], true) << a.body;
}

// TLS only: a plain-HTTP request is never answered, the connection just closes.
TEST_F(HttpServerTest, PlainHttpIsNotServed) {
  net::io_context ioc;
  tcp::socket raw(ioc);
  raw.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port()));
  timeval tv{10, 0};
  setsockopt(raw.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  net::write(raw, net::buffer(std::string("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")));
  char buf[512];
  beast::error_code ec;
  size_t n = 0;
  // The server's TLS stack may answer with an alert record, never with HTTP.
  while (!ec) n += raw.read_some(net::buffer(buf), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_EQ(std::string(buf, std::min<size_t>(n, 4)).find("HTTP"), std::string::npos);
  Client good(port());
  EXPECT_EQ(good.get("/stats").status, 200);
}

std::string upgrade_request(const std::string& target, const std::string& protocol) {
  std::string r = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n";
  if (!protocol.empty()) r += "Sec-WebSocket-Protocol: " + protocol + "\r\n";
  return r + "\r\n";
}

// protoo-server's order: the subprotocol first (403), then the demo's query check (400).
TEST_F(HttpServerTest, WebSocketUpgradeIsChecked) {
  struct Case {
    std::string target, protocol;
    int status;
    std::string reason;
  };
  const Case cases[] = {
      {"/?roomId=r&peerId=p", "", 403, "Sec-WebSocket-Protocol"},
      {"/?roomId=r&peerId=p", "chat, superchat", 403, "Sec-WebSocket-Protocol"},
      {"/?roomId=r", "protoo", 400, "Connection request without roomId and/or peerId"},
      {"/?peerId=p", "protoo", 400, "Connection request without roomId and/or peerId"},
      {"/?roomId=&peerId=p", "protoo", 400, "Connection request without roomId and/or peerId"},
      {"/", "protoo", 400, "Connection request without roomId and/or peerId"},
      {"/?roomId=%zz&peerId=p", "protoo", 400, "percent-encoding"},
      {"/ws?roomId=r&peerId=p", "protoo", 404, "no WebSocket endpoint"},
  };
  for (const Case& k : cases) {
    Client c(port());
    Answer a = c.raw(upgrade_request(k.target, k.protocol));
    EXPECT_EQ(a.status, k.status) << k.target << " " << k.protocol << ": " << a.error;
    EXPECT_NE(a.reason().find(k.reason), std::string::npos) << a.body;
  }
  EXPECT_EQ(server_->open_websockets(), 0u);
}

TEST_F(HttpServerTest, WebSocketUpgradeEchoesProtoo) {
  Client c(port());
  // Raw bytes: the 101 is read as an HTTP response with no body.
  Answer a = c.raw(upgrade_request("/?roomId=ws-room&peerId=alice&consumerReplicas=x",
                                   "foo, protoo"));
  EXPECT_EQ(a.status, 101) << a.error;
  EXPECT_EQ(a.protocol, "protoo");
  for (int i = 0; i < 200 && server_->open_websockets() != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(server_->open_websockets(), 1u);
}

class StaticFilesTest : public HttpServerTest {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("weir-web-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(root_ / "assets");
    write(root_ / "index.html", "<html>weir</html>");
    write(root_ / "assets" / "app.js", "console.log(1)");
    write(root_ / "style.css", "body{}");
    write(root_ / "app.js.map", "{}");
    write(root_.parent_path() / (root_.filename().string() + "-secret.txt"), "secret");
    HttpServerConfig config;
    config.web_root = root_.string();
    server_ = start_server(config);
  }
  void TearDown() override {
    HttpServerTest::TearDown();
    std::filesystem::remove_all(root_);
    std::filesystem::remove(root_.parent_path() / (root_.filename().string() + "-secret.txt"));
  }
  static void write(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p) << text;
  }
  std::filesystem::path root_;
  static int counter_;
};
int StaticFilesTest::counter_ = 0;

TEST_F(StaticFilesTest, ServesTheWebAppWithContentTypes) {
  Client c(port());
  Answer a = c.get("/");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body, "<html>weir</html>");
  EXPECT_EQ(a.content_type, "text/html; charset=utf-8");
  a = c.get("/?roomId=x");
  EXPECT_EQ(a.status, 200);
  a = c.get("/assets/app.js?v=3");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "text/javascript; charset=utf-8");
  // Each answer's error says why a request got none (status -1): seen once under load.
  a = c.get("/style.css");
  EXPECT_EQ(a.content_type, "text/css; charset=utf-8") << a.error;
  a = c.get("/app.js.map");
  EXPECT_EQ(a.content_type, "application/json") << a.error;
  a = c.get("/missing.js");
  EXPECT_EQ(a.status, 404) << a.error;
  a = c.get("/assets");
  EXPECT_EQ(a.status, 404) << a.error;  // a directory
  a = c.request(http::verb::post, "/index.html");
  EXPECT_EQ(a.status, 404) << a.error;
}

TEST_F(StaticFilesTest, RefusesTraversal) {
  const std::string secret = "/../" + root_.filename().string() + "-secret.txt";
  for (const std::string& t : {secret, std::string("/%2e%2e/") + root_.filename().string() +
                                           "-secret.txt",
                               std::string("/assets/%2E%2E/%2E%2E/etc/passwd"),
                               std::string("/assets/..%2f..%2fetc/passwd"),
                               std::string("/assets\\..\\index.html")}) {
    Client c(port());
    Answer a = c.get(t);
    EXPECT_TRUE(a.status == 403 || a.status == 400) << t << " -> " << a.status << " " << a.body;
    EXPECT_EQ(a.body.find("secret"), std::string::npos) << t;
  }
}

TEST_F(StaticFilesTest, ApiRoutesKeepPrecedence) {
  Client c(port());
  EXPECT_EQ(c.get("/stats").content_type, "application/json");
  Answer a = c.get("/rooms/static-room");
  ASSERT_EQ(a.status, 200);
  EXPECT_TRUE(a.parsed().contains("codecs")) << a.body;
  a = c.get("/rooms/x/nothing-here");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.content_type, "application/json");  // the API's 404, not a file lookup
}

}  // namespace
}  // namespace weir::signaling
