// Two real dataplane workers joined by WorkerPipes on loopback: the producer's transport on
// worker 0, consumers' transports on worker 1, set up through the same commands the control
// thread posts (AddPipedProducer on 1, then AddProducerPipe on 0).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/worker_pipes.h"
#include "forwarding_harness.h"

namespace weir::dp::testing {

class TwoWorkerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(srtp_library_init(nullptr));
    pipes_ = std::make_unique<WorkerPipes>(2);
    for (uint32_t i = 0; i < 2; ++i) {
      WorkerConfig config;
      config.index = i;
      config.pool_buffers = 8192;
      config.pipes = pipes_.get();
      workers_[i] = std::make_unique<Worker>(config);
      std::string error;
      ASSERT_TRUE(workers_[i]->start(&error)) << error;
    }
  }
  void TearDown() override {
    for (auto& w : workers_) w->stop();
  }

  void run(uint32_t worker, Command c) {
    workers_[worker]->wait_applied(workers_[worker]->post(std::move(c)));
  }

  SocketAddress add_transport(uint32_t worker, TransportId id, bool comedia,
                              SocketAddress remote = {}) {
    std::string error;
    const int fd = open_udp_socket(*SocketAddress::parse("127.0.0.1", 0), &error);
    EXPECT_GE(fd, 0) << error;
    const SocketAddress local = *SocketAddress::parse("127.0.0.1", socket_local_port(fd));
    transports_.push_back(std::make_unique<TransportCounters>());
    run(worker,
        AddPlainTransport{
            id, UdpBinding{fd, {}}, {}, comedia, false, remote, {}, transports_.back().get()});
    return local;
  }

  // A VP8 producer on worker 0's transport `transport`, asking its endpoint for key frames
  // by PLI, with a history for NACKs.
  AddProducer add_producer(ProducerId id, TransportId transport, uint32_t ssrc) {
    AddProducer c{};
    c.id = id;
    c.transport = transport;
    c.ssrc = ssrc;
    c.clock_rate = 90000;
    c.codec = wire::CodecKind::vp8;
    c.rtx_apt.fill(kNoMapping);
    c.pt_map = identity_pt_map();
    c.ext_map = no_extensions();
    c.keyframe_request = KeyFrameRequest::pli;
    c.retransmission_packets = 64;
    producers_.push_back(std::make_unique<ProducerCounters>());
    c.counters = producers_.back().get();
    run(0, c);
    return c;
  }
  // Worker 1 gets the producer's copy, then worker 0 the pipe to it.
  void pipe_to_worker1(const AddProducer& producer) {
    AddPipedProducer piped{producer, 0};
    piped.producer.counters = nullptr;
    run(1, piped);
    run(0, AddProducerPipe{producer.id, 1});
  }
  ConsumerCounters& add_consumer(uint32_t worker, ConsumerId id, ProducerId p, TransportId t,
                                 uint32_t ssrc) {
    AddConsumer c{};
    c.id = id;
    c.producer = p;
    c.transport = t;
    c.ssrc = ssrc;
    c.clock_rate = 90000;
    c.keyframe_sync = true;
    c.pt_map = identity_pt_map();
    c.ext_map = no_extensions();
    consumers_.push_back(std::make_unique<ConsumerCounters>());
    c.counters = consumers_.back().get();
    run(worker, c);
    return *consumers_.back();
  }

  std::unique_ptr<WorkerPipes> pipes_;  // outlives the workers
  std::array<std::unique_ptr<Worker>, 2> workers_;
  std::vector<std::unique_ptr<TransportCounters>> transports_;
  std::vector<std::unique_ptr<ProducerCounters>> producers_;
  std::vector<std::unique_ptr<ConsumerCounters>> consumers_;
};

}  // namespace weir::dp::testing
