// weir's configuration: every option, its default, and how it is read — an optional JSON
// file (--config FILE, camelCase keys) overridden by command-line flags — and validated
// with errors that name the offending key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/log.h"

namespace weir::app {

enum class IoEngine {
  automatic,  // io_uring, falling back to recvmmsg (logged) when it cannot be set up
  io_uring,   // as automatic, but the fallback is a loud warning: io_uring was expected
  recvmmsg,   // always the recvmmsg/sendmmsg fallback
};
const char* io_engine_name(IoEngine engine);  // "auto", "io_uring", "recvmmsg"

// The source tree's web/dist (a compile-time define), where `web` builds the demo app.
const char* default_web_root();

enum class Dataplane { uring, dpdk };

struct Config {
  std::string listen_ip = "127.0.0.1";  // media (UDP) sockets bind here
  std::string announced_address;        // told to clients instead of listen_ip; empty: none
  uint16_t rtc_min_port = 40000;
  uint16_t rtc_max_port = 49999;
  uint32_t workers = 1;                 // dataplane threads
  // Consumers a room may have before its new transports spread over the workers.
  uint32_t room_spread_threshold = 500;
  // Worker i runs on CPU worker_cpus[i]; empty: the scheduler places the workers.
  std::vector<uint32_t> worker_cpus;
  log::Level log_level = log::Level::info;
  std::string http_ip = "127.0.0.1";
  uint16_t http_port = 4443;            // 0: any free port (logged at startup)
  IoEngine io_engine = IoEngine::automatic;
  uint32_t max_http_connections = 1024;
  uint64_t max_http_body_bytes = 1048576;
  uint16_t webrtc_server_port = 0;  // 0: WebRTC transports get their own ports
  uint32_t ice_consent_timeout_s = 30;
  std::string dtls_certificate_file;  // empty: a certificate is generated at start
  std::string dtls_private_key_file;
  uint32_t keyframe_request_interval_ms = 500;
  // HTTPS/WSS (one port: http_ip:http_port).
  std::string tls_certificate_file;  // empty: self-signed, generated once into state_dir
  std::string tls_private_key_file;
  std::string state_dir;             // empty: $XDG_STATE_HOME/weir or ~/.local/state/weir
  std::string web_root = default_web_root();  // the demo web app's files
  uint64_t max_ws_message_bytes = 960000;
  uint64_t max_ws_queued_bytes = 4194304;
  uint32_t ws_request_rate = 50;     // protoo requests per second per connection; 0: no limit
  uint32_t ws_request_burst = 200;
  Dataplane dataplane = Dataplane::uring;
  std::string dpdk_eal_args;
  uint16_t dpdk_port = 0;
  uint8_t dpdk_prefix_length = 24;
  std::string dpdk_gateway;  // empty: none
  uint32_t dpdk_mbufs = 16383;
  uint32_t dpdk_idle_sleep_us = 100;
  std::string config_file;              // the --config file read, if any
};

// What the command line asks for.
enum class CommandAction { run, help, version, error };

struct CommandLine {
  CommandAction action = CommandAction::run;
  Config config;
  std::string error;  // for CommandAction::error: one operator-readable line
};

// Parses argv (getopt_long), reads the --config file if given, applies the flags over it
// and validates the result.
CommandLine parse_command_line(int argc, char* const* argv);

// Applies the keys of a parsed JSON configuration object onto config. source names the
// file in errors. false with *error on an unknown key, a wrong type or a bad value.
bool apply_json_config(const nlohmann::json& json, const std::string& source, Config& config,
                       std::string* error);
// Reads and applies a JSON configuration file.
bool load_config_file(const std::string& path, Config& config, std::string* error);
// Cross-field checks (port range, worker count, ...). false with *error naming the key.
bool validate_config(const Config& config, std::string* error);

// A CPU list as taskset and the kernel's cpuset files write it: numbers and ranges, comma
// separated ("2,3", "0-3,8"), in the order given. False if malformed, a CPU repeats, or one
// is at least kMaxCpu.
constexpr uint32_t kMaxCpu = 1024;
bool parse_cpu_list(const std::string& text, std::vector<uint32_t>* cpus);

// The --help text: every option with its default and meaning, and the JSON file form.
std::string usage_text();
std::string version_text();
const char* weir_version();  // the project version, "0.1.0"

}  // namespace weir::app
