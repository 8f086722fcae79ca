// A room spread over two real workers through the broadcaster API: transports placed past
// the spread threshold, the producer piped to the other worker while it has consumers
// there, its pause reaching them, and every pipe taken down with its last consumer or the
// producer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <memory>

#include "control/control.h"
#include "control/ortc.h"
#include "dataplane/worker.h"
#include "dataplane/worker_pipes.h"
#include "loopback_media.h"

namespace weir::control {
namespace {

using nlohmann::json;

class SpreadRoom : public ::testing::Test {
 protected:
  void SetUp() override {
    pipes_ = std::make_unique<dp::WorkerPipes>(2);
    std::vector<dp::Worker*> workers;
    for (uint32_t i = 0; i < 2; ++i) {
      dp::WorkerConfig wc;
      wc.index = i;
      wc.pool_buffers = 8192;  // the engine lends 4096 to the kernel
      wc.pipes = pipes_.get();
      workers_[i] = std::make_unique<dp::Worker>(wc);
      std::string error;
      ASSERT_TRUE(workers_[i]->start(&error)) << error;
      workers.push_back(workers_[i].get());
    }
    ControlConfig config;
    config.rtc_min_port = 45000;
    config.rtc_max_port = 45199;
    config.room_spread_threshold = 1;
    config.demo_bot = false;
    control_ = std::make_unique<Control>(config, workers);
    json caps = generate_router_rtp_capabilities(default_media_codecs());
    ASSERT_EQ(control_
                  ->create_broadcaster(
                      "r", {{"id", "s"}, {"displayName", "s"}, {"device", {{"name", "x"}}}})
                  .status,
              200);
    ASSERT_EQ(control_
                  ->create_broadcaster("r", {{"id", "c"},
                                             {"displayName", "c"},
                                             {"device", {{"name", "x"}}},
                                             {"rtpCapabilities", caps}})
                  .status,
              200);
    send_t_ =
        control_
            ->create_transport("r", "s", {{"type", "plain"}, {"comedia", true}, {"rtcpMux", true}})
            .body;
    json opus = {{"kind", "audio"},
                 {"rtpParameters",
                  {{"codecs",
                    {{{"mimeType", "audio/opus"},
                      {"payloadType", 111},
                      {"clockRate", 48000},
                      {"channels", 2}}}},
                   {"encodings", {{{"ssrc", 1111}}}}}}};
    producer_ = control_->create_producer("r", "s", send_t_["id"], opus).body["id"];
    sender_ = udp_socket_on_loopback(&sender_port_);
  }
  void TearDown() override {
    for (const Receiver& r : receivers_) ::close(r.fd);
    if (sender_ >= 0) ::close(sender_);
    control_.reset();  // takes everything out of the workers first
    for (auto& w : workers_) w->stop();
  }

  struct Receiver {
    int fd = -1;
    std::string transport_id, consumer_id;
  };
  // A consumer on a transport of its own, connected to a fresh loopback socket.
  Receiver& add_receiver() {
    Receiver r;
    uint16_t port = 0;
    r.fd = udp_socket_on_loopback(&port);
    r.transport_id =
        control_
            ->create_transport("r", "c", {{"type", "plain"}, {"rtcpMux", true}, {"comedia", false}})
            .body["id"];
    EXPECT_EQ(
        control_->connect_transport("r", "c", r.transport_id, {{"ip", "127.0.0.1"}, {"port", port}})
            .status,
        200);
    ApiResult c = control_->consume("r", "c", r.transport_id, producer_);
    EXPECT_EQ(c.status, 200) << c.body.dump();
    r.consumer_id = c.body["id"];
    receivers_.push_back(r);
    return receivers_.back();
  }
  uint32_t worker_of_transport(const std::string& id) {
    return control_->transport_stats("r", id).body[0]["worker"].get<uint32_t>();
  }
  json worker_stats(uint32_t i) { return control_->server_stats().body["workers"][i]; }
  // Sends one packet; true if it reached r within 300 ms.
  bool forwarded_to(const Receiver& r) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(send_t_["port"].get<uint16_t>());
    const auto pkt = opus_rtp_packet(++seq_, 1111);
    ::sendto(sender_, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    pollfd pfd{r.fd, POLLIN, 0};
    if (::poll(&pfd, 1, 300) != 1) return false;
    uint8_t buf[1500];
    return ::recv(r.fd, buf, sizeof(buf), 0) > 0;
  }

  std::unique_ptr<dp::WorkerPipes> pipes_;
  std::array<std::unique_ptr<dp::Worker>, 2> workers_;
  std::unique_ptr<Control> control_;
  json send_t_;
  std::string producer_;
  int sender_ = -1;
  uint16_t sender_port_ = 0;
  uint16_t seq_ = 0;
  std::vector<Receiver> receivers_;
};

TEST_F(SpreadRoom, ConsumersPastTheThresholdGetTheProducerThroughAPipe) {
  add_receiver();
  add_receiver();  // the room has 1 consumer, not more than the threshold: still home
  Receiver remote = add_receiver();  // 2 > 1: the least-loaded worker
  EXPECT_EQ(worker_of_transport(send_t_["id"]), 0u);
  EXPECT_EQ(worker_of_transport(receivers_[0].transport_id), 0u);
  EXPECT_EQ(worker_of_transport(receivers_[1].transport_id), 0u);
  EXPECT_EQ(worker_of_transport(remote.transport_id), 1u);
  EXPECT_EQ(control_->consumer_stats("r", remote.consumer_id).body[0]["worker"], 1);
  EXPECT_EQ(worker_stats(0)["consumers"], 2);
  EXPECT_EQ(worker_stats(1)["consumers"], 1);
  EXPECT_EQ(worker_stats(1)["transports"], 1);

  bool got = false;
  for (int i = 0; i < 10 && !got; ++i) got = forwarded_to(remote);  // bounded
  ASSERT_TRUE(got) << "nothing reached the consumer on worker 1: "
                   << control_->server_stats().body.dump() << "\n"
                   << control_->consumer_stats("r", remote.consumer_id).body.dump();
  EXPECT_GE(worker_stats(0)["pipedOut"].get<uint64_t>(), 1u);
  EXPECT_GE(worker_stats(1)["pipedIn"].get<uint64_t>(), 1u);
  EXPECT_EQ(worker_stats(0)["pipeFull"], 0);

  // The producer's pause stops it at its worker: nothing crosses, nothing arrives.
  ASSERT_EQ(control_->set_producer_paused("r", "s", producer_, true).status, 200);
  const uint64_t piped = worker_stats(0)["pipedOut"].get<uint64_t>();
  EXPECT_FALSE(forwarded_to(remote));
  EXPECT_EQ(worker_stats(0)["pipedOut"].get<uint64_t>(), piped);
  ASSERT_EQ(control_->set_producer_paused("r", "s", producer_, false).status, 200);
  got = false;
  for (int i = 0; i < 10 && !got; ++i) got = forwarded_to(remote);
  EXPECT_TRUE(got) << "not resumed on worker 1";

  // Its last consumer there gone, the pipe goes: packets stay on worker 0.
  ASSERT_EQ(control_->close_consumer("r", "c", remote.consumer_id).status, 200);
  const uint64_t before = worker_stats(0)["pipedOut"].get<uint64_t>();
  EXPECT_TRUE(forwarded_to(receivers_[0]));
  EXPECT_EQ(worker_stats(0)["pipedOut"].get<uint64_t>(), before);
  EXPECT_EQ(worker_stats(1)["consumers"], 0);
}

TEST_F(SpreadRoom, ClosingTheProducerTakesItsPipesAndRemoteConsumersDown) {
  add_receiver();
  add_receiver();
  Receiver remote = add_receiver();
  ASSERT_EQ(worker_of_transport(remote.transport_id), 1u);
  bool got = false;
  for (int i = 0; i < 10 && !got; ++i) got = forwarded_to(remote);
  ASSERT_TRUE(got);
  ASSERT_EQ(control_->delete_broadcaster("r", "s").status, 200);
  EXPECT_EQ(control_->consumer_stats("r", remote.consumer_id).status, 404);
  for (uint32_t i = 0; i < 2; ++i) EXPECT_EQ(worker_stats(i)["consumers"], 0) << i;
  EXPECT_EQ(worker_stats(0)["transports"], 2);  // the consumers' transports stay
  EXPECT_EQ(worker_stats(1)["transports"], 1);
  ASSERT_EQ(control_->delete_broadcaster("r", "c").status, 200);
  for (uint32_t i = 0; i < 2; ++i) EXPECT_EQ(worker_stats(i)["transports"], 0) << i;
}

}  // namespace
}  // namespace weir::control
