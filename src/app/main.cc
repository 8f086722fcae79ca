// weir's entry point: configuration, then the threads in dependency order — dataplane
// workers, the control thread, the HTTP server — and the reverse order on SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/config.h"
#include "app/dpdk_dataplane.h"
#include "base/log.h"
#include "control/control.h"
#include "dataplane/dtls_transport.h"
#include "dataplane/srtp_session.h"
#include "dataplane/worker.h"
#include "dataplane/worker_pipes.h"
#include "signaling/http_server.h"
#include "signaling/tls_context.h"

namespace {

using namespace weir;
namespace net = boost::asio;

// Every transport holds one or two UDP sockets; the default soft limit (1024) would cap a
// server at a few hundred transports.
void raise_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur >= lim.rlim_max) {
    LOG_DEBUG("app", "open-file limit already at its maximum (%llu)",
              static_cast<unsigned long long>(lim.rlim_cur));
    return;
  }
  rlim_t before = lim.rlim_cur;
  lim.rlim_cur = lim.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    LOG_WARN("app", "could not raise the open-file limit from %llu to %llu: %s",
             static_cast<unsigned long long>(before), static_cast<unsigned long long>(lim.rlim_max),
             std::strerror(errno));
    return;
  }
  LOG_DEBUG("app", "open-file limit raised from %llu to %llu",
            static_cast<unsigned long long>(before), static_cast<unsigned long long>(lim.rlim_max));
}

std::string url_host(const std::string& ip) {
  return ip.find(':') == std::string::npos ? ip : "[" + ip + "]";
}

void stop_workers(std::vector<std::unique_ptr<dp::Worker>>& workers) {
  for (auto& w : workers) w->stop();
}

int run(const app::Config& config) {
  raise_file_limit();
  // SIGINT and SIGTERM are blocked before any thread exists, so every thread inherits the
  // mask and the main thread alone takes them with sigwait: a signal that arrives during
  // start-up waits for the ready state and still leads to a clean shutdown.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string error;
  if (!dp::srtp_library_init(&error)) {
    LOG_ERROR("app", "cannot initialise SRTP: %s", error.c_str());
    return 1;
  }

  app::DpdkDataplane dpdk;  // declared first: the port outlives the workers that poll it
  if (config.dataplane == app::Dataplane::dpdk && !app::open_dpdk_dataplane(config, &dpdk, &error)) {
    LOG_ERROR("app", "DPDK dataplane cannot start: %s", error.c_str());
    return 1;
  }
  // The pipes between workers outlive them (declared before): a room larger than one core
  // spreads its consumers over several workers.
  std::unique_ptr<dp::WorkerPipes> pipes;
  if (config.workers > 1) pipes = std::make_unique<dp::WorkerPipes>(config.workers);
  std::vector<std::unique_ptr<dp::Worker>> workers;
  std::vector<dp::Worker*> worker_ptrs;
  for (uint32_t i = 0; i < config.workers; ++i) {
    dp::WorkerConfig wc;
    wc.index = i;
    wc.prefer_mmsg = config.io_engine == app::IoEngine::recvmmsg;
    wc.keyframe_request_interval_ms = config.keyframe_request_interval_ms;
    wc.dpdk_port = dpdk.port.get();
    wc.pipes = pipes.get();
    if (!config.worker_cpus.empty()) wc.cpu = static_cast<int>(config.worker_cpus[i]);
    if (config.webrtc_server_port != 0) {
      wc.shared_ip = config.listen_ip;
      wc.shared_port = static_cast<uint16_t>(config.webrtc_server_port + i);
    }
    workers.push_back(std::make_unique<dp::Worker>(wc));
    if (!workers.back()->start(&error)) {
      LOG_ERROR("app", "dataplane worker %u cannot start: %s", i, error.c_str());
      workers.pop_back();
      stop_workers(workers);
      return 1;
    }
    worker_ptrs.push_back(workers.back().get());
  }
  const char* engine = workers.front()->engine_name();
  if (config.io_engine == app::IoEngine::io_uring && std::string(engine) != "io_uring") {
    LOG_WARN("app",
             "ioEngine is io_uring but io_uring could not be set up: MEDIA RUNS ON %s, which "
             "costs more system calls per packet batch. Check the kernel version, seccomp "
             "and RLIMIT_MEMLOCK (see the I/O engine's log line above), or set ioEngine to "
             "auto to accept the fallback quietly",
             engine);
  }

  control::ControlConfig cc;
  cc.listen_ip = config.listen_ip;
  cc.announced_address = config.announced_address;
  cc.rtc_min_port = config.rtc_min_port;
  cc.rtc_max_port = config.rtc_max_port;
  cc.webrtc_shared_port = config.webrtc_server_port != 0;
  cc.ice_consent_timeout_ms = uint64_t{config.ice_consent_timeout_s} * 1000;
  cc.room_spread_threshold = config.room_spread_threshold;
  cc.udp_ports = dpdk.udp_ports.get();
  if (!config.dtls_certificate_file.empty()) {
    cc.dtls_certificate = dp::DtlsCertificate::load(config.dtls_certificate_file,
                                                    config.dtls_private_key_file, &error);
    if (!cc.dtls_certificate) {
      LOG_ERROR("app", "cannot use the DTLS certificate: %s", error.c_str());
      stop_workers(workers);
      return 1;
    }
  } else {
    cc.dtls_certificate = dp::DtlsCertificate::generate(&error);
    if (!cc.dtls_certificate) {
      LOG_ERROR("app", "cannot generate a DTLS certificate: %s", error.c_str());
      stop_workers(workers);
      return 1;
    }
  }
  LOG_INFO("app", "DTLS certificate %s, sha-256 fingerprint %s",
           config.dtls_certificate_file.empty() ? "generated (ECDSA P-256)"
                                                : config.dtls_certificate_file.c_str(),
           cc.dtls_certificate->fingerprints().back().value.c_str());

  // The control thread's loop exists before Control: ICE and DTLS of the WebRTC transports
  // run on it, and every Control call is posted to it.
  net::io_context control_ctx(1);
  auto control_work = net::make_work_guard(control_ctx);
  auto control = std::make_unique<control::Control>(cc, worker_ptrs, &control_ctx);
  std::thread control_thread([&control_ctx] { control_ctx.run(); });

  signaling::TlsOptions tls;
  tls.certificate_file = config.tls_certificate_file;
  tls.private_key_file = config.tls_private_key_file;
  tls.state_dir = config.state_dir.empty() ? signaling::default_state_dir() : config.state_dir;
  signaling::TlsSetup tls_setup = signaling::make_tls_setup(tls, &error);

  signaling::HttpServerConfig hc;
  hc.tls = tls_setup.context;
  hc.web_root = config.web_root;
  hc.websocket.max_message_bytes = config.max_ws_message_bytes;
  hc.websocket.max_queued_bytes = config.max_ws_queued_bytes;
  hc.websocket.requests_per_second = config.ws_request_rate;
  hc.websocket.request_burst = config.ws_request_burst;
  hc.ip = config.http_ip;
  hc.port = config.http_port;
  hc.max_connections = config.max_http_connections;
  hc.max_body_bytes = config.max_http_body_bytes;
  hc.server_name = std::string("weir/") + app::weir_version();
  signaling::HttpServer server(hc, control_ctx, *control);
  bool serving = false;
  if (!tls_setup.context) {
    LOG_ERROR("app", "%s", error.c_str());
  } else {
    LOG_INFO("app", "TLS certificate %s, sha-256 fingerprint %s", tls_setup.description.c_str(),
             tls_setup.fingerprint_sha256.c_str());
    serving = server.start(&error);
    if (!serving) LOG_ERROR("app", "%s", error.c_str());
  }
  if (serving) {
    std::string media = config.listen_ip;
    if (!config.announced_address.empty()) media += " (announced as " + config.announced_address + ")";
    LOG_INFO("app",
             "weir %s ready: HTTPS and protoo WebSocket on https://%s:%u (web app from %s), "
             "media on %s UDP %u-%u, %u dataplane worker%s (%s)",
             app::weir_version(), url_host(config.http_ip).c_str(), server.port(),
             config.web_root.c_str(), media.c_str(),
             config.rtc_min_port, config.rtc_max_port, config.workers,
             config.workers == 1 ? "" : "s", engine);

    int signal = 0;
    while (sigwait(&stop_signals, &signal) != 0) {
    }
    LOG_INFO("app", "%s received, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
  }

  // Reverse order: no new requests, then the control thread finishes what it has (requests
  // in flight, then closing every room, which says goodbye to DTLS peers), then stops: the
  // WebRTC plumbing's waits on the workers would keep its loop busy forever.
  server.stop();
  net::post(control_ctx, [&control, &control_ctx] {
    control->close_all();
    control_ctx.stop();
  });
  control_work.reset();
  control_thread.join();
  control.reset();
  stop_workers(workers);
  if (serving) LOG_INFO("app", "stopped");
  return serving ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  app::CommandLine cli = app::parse_command_line(argc, argv);
  switch (cli.action) {
    case app::CommandAction::help:
      std::fputs(app::usage_text().c_str(), stdout);
      return 0;
    case app::CommandAction::version:
      std::fputs(app::version_text().c_str(), stdout);
      return 0;
    case app::CommandAction::error:
      std::fprintf(stderr, "weir: %s\n", cli.error.c_str());
      return 2;
    case app::CommandAction::run: break;
  }
  log::set_level(cli.config.log_level);
  if (!cli.config.config_file.empty()) {
    LOG_INFO("app", "configuration read from %s", cli.config.config_file.c_str());
  }
  return run(cli.config);
}
