#include "app/config.h"

#include <arpa/inet.h>
#include <getopt.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#ifndef WEIR_VERSION
#define WEIR_VERSION "unknown"
#endif
#ifndef WEIR_DEFAULT_WEB_ROOT
#define WEIR_DEFAULT_WEB_ROOT "web/dist"
#endif

namespace weir::app {
namespace {

enum class Opt {
  listen_ip,
  announced_address,
  rtc_min_port,
  rtc_max_port,
  workers,
  worker_cpus,
  room_spread_threshold,
  log_level,
  http_ip,
  http_port,
  io_engine,
  max_http_connections,
  max_http_body_bytes,
  webrtc_server_port,
  ice_consent_timeout,
  dtls_certificate_file,
  dtls_private_key_file,
  keyframe_request_interval,
  tls_certificate_file,
  tls_private_key_file,
  state_dir,
  web_root,
  max_ws_message_bytes,
  max_ws_queued_bytes,
  ws_request_rate,
  ws_request_burst,
  dataplane,
  dpdk_eal_args,
  dpdk_port,
  dpdk_prefix_length,
  dpdk_gateway,
  dpdk_mbufs,
  dpdk_idle_sleep,
};

enum class Kind { text, number };

struct OptionInfo {
  Opt id;
  const char* key;    // JSON key
  const char* flag;   // long option, without "--"
  const char* value;  // placeholder in --help
  Kind kind;
  uint64_t min, max;  // numbers only
  const char* default_text;
  const char* help;
};

constexpr uint64_t kMaxWorkers = 64;

// One table drives the JSON keys, the flags, the range checks and --help.
const OptionInfo kOptions[] = {
    {Opt::listen_ip, "listenIp", "listen-ip", "IP", Kind::text, 0, 0, "127.0.0.1",
     "IP address the media (RTP/RTCP) UDP sockets bind to. 0.0.0.0 needs announcedAddress."},
    {Opt::announced_address, "announcedAddress", "announced-address", "ADDR", Kind::text, 0, 0,
     "none",
     "Address given to clients instead of listenIp (public IP behind NAT, or a host name)."},
    {Opt::rtc_min_port, "rtcMinPort", "rtc-min-port", "PORT", Kind::number, 1, 65535, "40000",
     "Lowest UDP port for media transports."},
    {Opt::rtc_max_port, "rtcMaxPort", "rtc-max-port", "PORT", Kind::number, 1, 65535, "49999",
     "Highest UDP port for media transports (a transport without rtcpMux takes two)."},
    {Opt::workers, "workers", "workers", "N", Kind::number, 1, kMaxWorkers, "1",
     "Dataplane worker threads (one per core you give weir), 1 to 64."},
    {Opt::worker_cpus, "workerCpus", "worker-cpus", "LIST", Kind::text, 0, 0, "none",
     "CPUs the workers are pinned to, worker i on the i-th: numbers and ranges such as 2,3 or "
     "2-5, at least one per worker. Unset: the scheduler places them (and may put a busy "
     "worker on the core of another busy thread)."},
    {Opt::room_spread_threshold, "roomSpreadThreshold", "room-spread-threshold", "N", Kind::number,
     0, 1000000, "500",
     "A room with more consumers than this spreads: its new transports go to the least-loaded "
     "worker, and its producers are piped to the workers that have their consumers. Below "
     "it a room stays on one worker (rooms are placed on the worker with the fewest "
     "consumers)."},
    {Opt::log_level, "logLevel", "log-level", "LEVEL", Kind::text, 0, 0, "info",
     "Log verbosity: trace, debug, info, warn, error or off. debug logs every HTTP request."},
    {Opt::http_ip, "httpIp", "http-ip", "IP", Kind::text, 0, 0, "127.0.0.1",
     "IP address the broadcaster HTTP API listens on."},
    {Opt::http_port, "httpPort", "http-port", "PORT", Kind::number, 0, 65535, "4443",
     "TCP port of the broadcaster HTTP API; 0 picks a free port (shown in the ready line)."},
    {Opt::io_engine, "ioEngine", "io-engine", "ENGINE", Kind::text, 0, 0, "auto",
     "UDP I/O: auto (io_uring, else recvmmsg), io_uring (same, but warns loudly when it has to "
     "fall back) or recvmmsg (always the fallback)."},
    {Opt::max_http_connections, "maxHttpConnections", "max-http-connections", "N", Kind::number, 1,
     1000000, "1024",
     "Open HTTPS connections at most, protoo WebSockets included; more are answered 503 and "
     "closed."},
    {Opt::max_http_body_bytes, "maxHttpBodyBytes", "max-http-body-bytes", "BYTES", Kind::number, 1,
     1ull << 30, "1048576", "Largest HTTP request body; larger ones are answered 413."},
    {Opt::webrtc_server_port, "webRtcServerPort", "webrtc-server-port", "PORT", Kind::number, 0,
     65535, "0",
     "One UDP port shared by every WebRTC transport of a worker (mediasoup's WebRtcServer; "
     "worker i uses PORT+i), demultiplexed by ICE username and 5-tuple. 0: each WebRTC "
     "transport gets its own port from the rtc range."},
    {Opt::ice_consent_timeout, "iceConsentTimeout", "ice-consent-timeout", "SECONDS", Kind::number,
     1, 3600, "30",
     "A WebRTC transport whose peer sent no valid ICE check for this long loses consent: "
     "iceState disconnected, media to it stops until the peer checks again."},
    {Opt::dtls_certificate_file, "dtlsCertificateFile", "dtls-certificate-file", "FILE", Kind::text,
     0, 0, "generated",
     "PEM certificate for DTLS; needs dtlsPrivateKeyFile. Without "
     "it an ECDSA P-256 certificate is generated at start."},
    {Opt::dtls_private_key_file, "dtlsPrivateKeyFile", "dtls-private-key-file", "FILE", Kind::text,
     0, 0, "none", "PEM private key of dtlsCertificateFile."},
    {Opt::keyframe_request_interval, "keyFrameRequestInterval", "keyframe-request-interval", "MS",
     Kind::number, 0, 60000, "500",
     "Key-frame requests (PLI/FIR) to one producer are sent at most once per this many "
     "milliseconds; the consumers' requests in between share the key frame it brings."},
    {Opt::tls_certificate_file, "tlsCertificateFile", "tls-certificate-file", "FILE", Kind::text,
     0, 0, "generated",
     "PEM certificate (chain) of the HTTPS/WSS port; needs tlsPrivateKeyFile. Without it a "
     "self-signed certificate for localhost and 127.0.0.1 is generated on the first run and "
     "kept in stateDir."},
    {Opt::tls_private_key_file, "tlsPrivateKeyFile", "tls-private-key-file", "FILE", Kind::text, 0,
     0, "none", "PEM private key (unencrypted) of tlsCertificateFile."},
    {Opt::state_dir, "stateDir", "state-dir", "DIR", Kind::text, 0, 0,
     "$XDG_STATE_HOME/weir, else ~/.local/state/weir",
     "Directory for state kept across runs: the generated TLS certificate and key."},
    {Opt::web_root, "webRoot", "web-root", "DIR", Kind::text, 0, 0, WEIR_DEFAULT_WEB_ROOT,
     "Directory of the demo web app served at https://host:port/ (index.html and its files). "
     "The default is the source tree's web/dist."},
    {Opt::max_ws_message_bytes, "maxWsMessageBytes", "max-ws-message-bytes", "BYTES",
     Kind::number, 1024, 1ull << 30, "960000",
     "Largest protoo WebSocket message; a larger one closes the connection with 1009."},
    {Opt::max_ws_queued_bytes, "maxWsQueuedBytes", "max-ws-queued-bytes", "BYTES", Kind::number,
     65536, 1ull << 32, "4194304",
     "Output waiting for a WebSocket client beyond this means it is not reading: the "
     "connection is dropped."},
    {Opt::ws_request_rate, "wsRequestRate", "ws-request-rate", "N", Kind::number, 0, 1000000, "50",
     "protoo requests per second one connection may make on average (token bucket; 0: no "
     "limit). Excess requests are answered 429 \"too many requests\"; a sustained flood (1000 "
     "refused within 10 s) closes the socket with 1008."},
    {Opt::ws_request_burst, "wsRequestBurst", "ws-request-burst", "N", Kind::number, 1, 1000000,
     "200", "Requests a connection may make at once before wsRequestRate applies."},
    {Opt::dataplane, "dataplane", "dataplane", "MODE", Kind::text, 0, 0, "uring",
     "Media I/O: uring (kernel UDP sockets, through ioEngine) or dpdk (the workers poll a "
     "DPDK port and run their own ARP/IPv4/UDP stack on listenIp; signaling stays on the "
     "kernel's TCP)."},
    {Opt::dpdk_eal_args, "dpdkEalArgs", "dpdk-eal-args", "ARGS", Kind::text, 0, 0, "none",
     "DPDK EAL arguments, space-separated, passed through unchanged, e.g. \"-a 0000:03:00.0\" "
     "or \"--no-huge --no-pci -m 1024 --in-memory --vdev=net_af_packet0,iface=eth1\"."},
    {Opt::dpdk_port, "dpdkPort", "dpdk-port", "ID", Kind::number, 0, 1023, "0",
     "DPDK port id that carries media (one RX/TX queue pair per worker)."},
    {Opt::dpdk_prefix_length, "dpdkPrefixLength", "dpdk-prefix-length", "BITS", Kind::number, 1,
     32, "24", "Subnet of listenIp on the DPDK port: peers inside it are reached directly."},
    {Opt::dpdk_gateway, "dpdkGateway", "dpdk-gateway", "IP", Kind::text, 0, 0, "none",
     "Next hop for peers outside the subnet (resolved by ARP); without it they are "
     "unreachable."},
    {Opt::dpdk_mbufs, "dpdkMbufs", "dpdk-mbufs", "N", Kind::number, 1024, 1u << 24, "16383",
     "mbufs in each worker's pool (each 2 KiB of data room plus headers)."},
    {Opt::dpdk_idle_sleep, "dpdkIdleSleepUs", "dpdk-idle-sleep-us", "US", Kind::number, 0, 10000,
     "100",
     "An idle worker naps this long between polls after 256 empty ones; 0 spins (a core of "
     "its own, lowest latency)."},
};

const OptionInfo* find_by_key(std::string_view key) {
  for (const OptionInfo& o : kOptions) {
    if (key == o.key) return &o;
  }
  return nullptr;
}

bool set_number(Config& c, const OptionInfo& o, uint64_t v, const std::string& origin,
                std::string* error) {
  if (v < o.min || v > o.max) {
    *error = std::string(o.key) + " (" + std::to_string(v) + ") must be between " +
             std::to_string(o.min) + " and " + std::to_string(o.max) + " (from " + origin + ")";
    return false;
  }
  switch (o.id) {
    case Opt::rtc_min_port: c.rtc_min_port = static_cast<uint16_t>(v); break;
    case Opt::rtc_max_port: c.rtc_max_port = static_cast<uint16_t>(v); break;
    case Opt::workers: c.workers = static_cast<uint32_t>(v); break;
    case Opt::room_spread_threshold: c.room_spread_threshold = static_cast<uint32_t>(v); break;
    case Opt::http_port: c.http_port = static_cast<uint16_t>(v); break;
    case Opt::max_http_connections: c.max_http_connections = static_cast<uint32_t>(v); break;
    case Opt::max_http_body_bytes: c.max_http_body_bytes = v; break;
    case Opt::webrtc_server_port:
      c.webrtc_server_port = static_cast<uint16_t>(v);
      break;
    case Opt::ice_consent_timeout:
      c.ice_consent_timeout_s = static_cast<uint32_t>(v);
      break;
    case Opt::keyframe_request_interval:
      c.keyframe_request_interval_ms = static_cast<uint32_t>(v);
      break;
    case Opt::max_ws_message_bytes: c.max_ws_message_bytes = v; break;
    case Opt::max_ws_queued_bytes: c.max_ws_queued_bytes = v; break;
    case Opt::ws_request_rate: c.ws_request_rate = static_cast<uint32_t>(v); break;
    case Opt::ws_request_burst: c.ws_request_burst = static_cast<uint32_t>(v); break;
    case Opt::dpdk_port: c.dpdk_port = static_cast<uint16_t>(v); break;
    case Opt::dpdk_prefix_length: c.dpdk_prefix_length = static_cast<uint8_t>(v); break;
    case Opt::dpdk_mbufs: c.dpdk_mbufs = static_cast<uint32_t>(v); break;
    case Opt::dpdk_idle_sleep: c.dpdk_idle_sleep_us = static_cast<uint32_t>(v); break;
    default: break;
  }
  return true;
}

bool set_text(Config& c, const OptionInfo& o, const std::string& v, const std::string& origin,
              std::string* error) {
  auto bad = [&](const char* expected) {
    *error = std::string(o.key) + " (\"" + v + "\") must be " + expected + " (from " + origin + ")";
    return false;
  };
  switch (o.id) {
    case Opt::listen_ip: c.listen_ip = v; break;
    case Opt::announced_address: c.announced_address = v; break;
    case Opt::http_ip: c.http_ip = v; break;
    case Opt::dtls_certificate_file:
      c.dtls_certificate_file = v;
      break;
    case Opt::dtls_private_key_file:
      c.dtls_private_key_file = v;
      break;
    case Opt::tls_certificate_file: c.tls_certificate_file = v; break;
    case Opt::tls_private_key_file: c.tls_private_key_file = v; break;
    case Opt::state_dir: c.state_dir = v; break;
    case Opt::web_root: c.web_root = v; break;
    case Opt::dpdk_eal_args: c.dpdk_eal_args = v; break;
    case Opt::worker_cpus:
      if (!parse_cpu_list(v, &c.worker_cpus)) {
        return bad("a list of distinct CPU numbers and ranges below 1024, like 2,3 or 2-5");
      }
      break;
    case Opt::dpdk_gateway: c.dpdk_gateway = v; break;
    case Opt::dataplane:
      if (v == "uring") {
        c.dataplane = Dataplane::uring;
      } else if (v == "dpdk") {
        c.dataplane = Dataplane::dpdk;
      } else {
        return bad("one of uring, dpdk");
      }
      break;
    case Opt::log_level:
      if (!log::parse_level(v, c.log_level)) return bad("one of trace, debug, info, warn, error, off");
      break;
    case Opt::io_engine:
      if (v == "auto") {
        c.io_engine = IoEngine::automatic;
      } else if (v == "io_uring") {
        c.io_engine = IoEngine::io_uring;
      } else if (v == "recvmmsg") {
        c.io_engine = IoEngine::recvmmsg;
      } else {
        return bad("one of auto, io_uring, recvmmsg");
      }
      break;
    default: break;
  }
  return true;
}

// A flag's value: numbers must be plain decimal digits, nothing else.
bool set_from_text(Config& c, const OptionInfo& o, const std::string& v, const std::string& origin,
                   std::string* error) {
  if (o.kind == Kind::text) return set_text(c, o, v, origin, error);
  uint64_t n = 0;
  const char* end = v.data() + v.size();
  auto [ptr, ec] = std::from_chars(v.data(), end, n);
  if (v.empty() || ec != std::errc() || ptr != end) {
    *error = std::string(o.key) + ": \"" + v + "\" is not a whole number (from " + origin + ")";
    return false;
  }
  return set_number(c, o, n, origin, error);
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool is_unspecified_ip(const std::string& s) { return s == "0.0.0.0" || s == "::"; }

// Word-wraps text into lines of at most width columns, continuation lines indented; the
// first line continues wherever the caller's line is.
std::string wrap(std::string_view text, size_t indent, size_t width) {
  std::string out;
  size_t column = indent;
  while (!text.empty()) {
    size_t space = text.find(' ');
    std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    if (column > indent && column + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
  }
  return out + "\n";
}

}  // namespace

const char* io_engine_name(IoEngine engine) {
  switch (engine) {
    case IoEngine::automatic: return "auto";
    case IoEngine::io_uring: return "io_uring";
    case IoEngine::recvmmsg: return "recvmmsg";
  }
  return "?";
}

bool apply_json_config(const nlohmann::json& json, const std::string& source, Config& config,
                       std::string* error) {
  if (!json.is_object()) {
    *error = "configuration " + source + " must be a JSON object, got " + json.type_name();
    return false;
  }
  for (const auto& [key, value] : json.items()) {
    const OptionInfo* o = find_by_key(key);
    if (!o) {
      std::string known;
      for (const OptionInfo& k : kOptions) known += (known.empty() ? "" : ", ") + std::string(k.key);
      *error = "unknown key \"" + key + "\" in " + source + " (known keys: " + known + ")";
      return false;
    }
    if (o->kind == Kind::number) {
      if (value.is_number_unsigned()) {
        if (!set_number(config, *o, value.get<uint64_t>(), source, error)) return false;
      } else if (value.is_number_integer()) {
        *error = std::string(o->key) + " (" + value.dump() + ") must not be negative (from " +
                 source + ")";
        return false;
      } else {
        *error = std::string(o->key) + " must be a whole number, got " +
                 (value.is_number() ? "a fractional number " + value.dump()
                                    : std::string(value.type_name()) + " " + value.dump()) +
                 " (from " + source + ")";
        return false;
      }
    } else {
      if (!value.is_string()) {
        *error = std::string(o->key) + " must be a string, got " + value.type_name() + " " +
                 value.dump() + " (from " + source + ")";
        return false;
      }
      if (!set_text(config, *o, value.get<std::string>(), source, error)) return false;
    }
  }
  return true;
}

bool load_config_file(const std::string& path, Config& config, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read configuration file \"" + path + "\": " + std::strerror(errno);
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    // Comments are allowed: operators annotate their configuration files.
    json = nlohmann::json::parse(text.str(), nullptr, true, true);
  } catch (const nlohmann::json::parse_error& e) {
    *error = "configuration file \"" + path + "\" is not valid JSON: " + e.what();
    return false;
  }
  return apply_json_config(json, "configuration file \"" + path + "\"", config, error);
}

bool validate_config(const Config& c, std::string* error) {
  if (!is_ip_literal(c.listen_ip)) {
    *error = "listenIp (\"" + c.listen_ip + "\") is not an IPv4 or IPv6 address";
    return false;
  }
  if (is_unspecified_ip(c.listen_ip) && c.announced_address.empty()) {
    *error = "listenIp " + c.listen_ip +
             " needs announcedAddress: clients cannot send media to an unspecified address";
    return false;
  }
  if (c.announced_address.find_first_of(" \t\r\n/") != std::string::npos) {
    *error = "announcedAddress (\"" + c.announced_address + "\") must be an IP address or host name";
    return false;
  }
  if (!is_ip_literal(c.http_ip)) {
    *error = "httpIp (\"" + c.http_ip + "\") is not an IPv4 or IPv6 address";
    return false;
  }
  if (c.rtc_min_port == 0) {
    *error = "rtcMinPort must be between 1 and 65535";
    return false;
  }
  if (c.rtc_min_port > c.rtc_max_port) {
    *error = "rtcMinPort (" + std::to_string(c.rtc_min_port) + ") must not exceed rtcMaxPort (" +
             std::to_string(c.rtc_max_port) + ")";
    return false;
  }
  if (c.rtc_max_port - c.rtc_min_port + 1 < 2) {
    *error = "the port range rtcMinPort-rtcMaxPort (" + std::to_string(c.rtc_min_port) + "-" +
             std::to_string(c.rtc_max_port) +
             ") must hold at least 2 ports (a transport needs one for RTP and one for RTCP)";
    return false;
  }
  if (c.workers < 1 || c.workers > kMaxWorkers) {
    *error = "workers (" + std::to_string(c.workers) + ") must be between 1 and " +
             std::to_string(kMaxWorkers);
    return false;
  }
  if (!c.worker_cpus.empty() && c.worker_cpus.size() < c.workers) {
    *error = "workerCpus names " + std::to_string(c.worker_cpus.size()) + " CPU(s) for " +
             std::to_string(c.workers) + " workers: one per worker";
    return false;
  }
  if (c.dataplane == Dataplane::dpdk) {
    unsigned char v4[4];
    if (inet_pton(AF_INET, c.listen_ip.c_str(), v4) != 1 || is_unspecified_ip(c.listen_ip)) {
      *error = "with dataplane dpdk, listenIp (\"" + c.listen_ip +
               "\") must be the IPv4 address the DPDK port answers for";
      return false;
    }
    if (!c.dpdk_gateway.empty() && inet_pton(AF_INET, c.dpdk_gateway.c_str(), v4) != 1) {
      *error = "dpdkGateway (\"" + c.dpdk_gateway + "\") is not an IPv4 address";
      return false;
    }
  } else if (!c.dpdk_eal_args.empty() || !c.dpdk_gateway.empty()) {
    *error = "dpdkEalArgs and dpdkGateway need dataplane dpdk";
    return false;
  }
  if (c.max_http_connections < 1) {
    *error = "maxHttpConnections must be at least 1";
    return false;
  }
  if (c.max_http_body_bytes < 1) {
    *error = "maxHttpBodyBytes must be at least 1";
    return false;
  }
  if (c.dtls_certificate_file.empty() != c.dtls_private_key_file.empty()) {
    *error = "dtlsCertificateFile and dtlsPrivateKeyFile must be given together";
    return false;
  }
  if (c.tls_certificate_file.empty() != c.tls_private_key_file.empty()) {
    *error = "tlsCertificateFile and tlsPrivateKeyFile must be given together";
    return false;
  }
  if (c.webrtc_server_port != 0 && c.webrtc_server_port + c.workers - 1 > 65535) {
    *error = "webRtcServerPort (" + std::to_string(c.webrtc_server_port) +
             ") + workers - 1 must "
             "not exceed 65535";
    return false;
  }
  return true;
}

CommandLine parse_command_line(int argc, char* const* argv) {
  CommandLine out;
  constexpr int kConfigFlag = 1000;
  constexpr int kFirstOption = 2000;
  std::vector<option> longopts;
  for (size_t i = 0; i < std::size(kOptions); ++i) {
    longopts.push_back({kOptions[i].flag, required_argument, nullptr,
                        kFirstOption + static_cast<int>(i)});
  }
  longopts.push_back({"config", required_argument, nullptr, kConfigFlag});
  longopts.push_back({"help", no_argument, nullptr, 'h'});
  longopts.push_back({"version", no_argument, nullptr, 'V'});
  longopts.push_back({nullptr, 0, nullptr, 0});

  auto fail = [&](std::string message) {
    out.action = CommandAction::error;
    out.error = std::move(message);
    return out;
  };

  // Flags are collected first and applied after the file, so that they override it
  // wherever they appear on the line.
  std::vector<std::pair<const OptionInfo*, std::string>> flags;
  optind = 0;  // GNU: re-initialise, so that parsing can run more than once (tests)
  opterr = 0;
  while (true) {
    int index = -1;
    int c = getopt_long(argc, argv, "+:hV", longopts.data(), &index);
    if (c == -1) break;
    if (c == 'h') {
      out.action = CommandAction::help;
      return out;
    }
    if (c == 'V') {
      out.action = CommandAction::version;
      return out;
    }
    if (c == ':') {
      return fail(std::string("option ") + argv[optind - 1] + " needs a value (see --help)");
    }
    if (c == '?') {
      return fail(std::string("unknown option ") + argv[optind - 1] + " (see --help)");
    }
    if (c == kConfigFlag) {
      out.config.config_file = optarg;
      continue;
    }
    flags.emplace_back(&kOptions[c - kFirstOption], optarg);
  }
  if (optind < argc) {
    return fail(std::string("unexpected argument \"") + argv[optind] + "\" (see --help)");
  }

  std::string error;
  if (!out.config.config_file.empty() &&
      !load_config_file(out.config.config_file, out.config, &error)) {
    return fail(error);
  }
  for (const auto& [o, value] : flags) {
    if (!set_from_text(out.config, *o, value, std::string("--") + o->flag, &error)) {
      return fail(error);
    }
  }
  if (!validate_config(out.config, &error)) return fail(error);
  return out;
}

const char* weir_version() { return WEIR_VERSION; }

const char* default_web_root() { return WEIR_DEFAULT_WEB_ROOT; }

std::string version_text() { return std::string("weir ") + WEIR_VERSION + "\n"; }

std::string usage_text() {
  std::string s =
      "Usage: weir [OPTIONS]\n"
      "weir is a WebRTC selective forwarding unit. On one HTTPS port it serves the\n"
      "broadcaster API, protoo rooms over WebSocket (wss://host:port/?roomId=&peerId=)\n"
      "and the demo web app, and it forwards RTP/SRTP between the plain and WebRTC\n"
      "(ICE-lite, DTLS-SRTP) transports created through them.\n"
      "\n"
      "Options (command-line flags override the configuration file):\n";
  for (const OptionInfo& o : kOptions) {
    std::string left = std::string("  --") + o.flag + " " + o.value;
    s += left;
    s += std::string(left.size() < 32 ? 32 - left.size() : 1, ' ');
    s += wrap(o.help, 32, 80);
    s += std::string(32, ' ') + "JSON key: " + o.key + ". Default: " + o.default_text + ".\n";
  }
  s +=
      "  --config FILE                 Read options from a JSON file (keys as above;\n"
      "                                comments allowed). Unknown keys are an error.\n"
      "  -h, --help                    Show this help and exit.\n"
      "  -V, --version                 Show the version and exit.\n"
      "\n"
      "Configuration file example:\n"
      "  {\n";
  const char* example[] = {
      "    \"listenIp\": \"0.0.0.0\",",
      "    \"announcedAddress\": \"203.0.113.7\",",
      "    \"rtcMinPort\": 40000,",
      "    \"rtcMaxPort\": 49999,",
      "    \"workers\": 2,",
      "    \"logLevel\": \"info\",",
      "    \"httpIp\": \"127.0.0.1\",",
      "    \"httpPort\": 4443,",
      "    \"ioEngine\": \"auto\",",
      "    \"maxHttpConnections\": 1024,",
      "    \"maxHttpBodyBytes\": 1048576,",
      "    \"webRtcServerPort\": 44444,",
      "    \"iceConsentTimeout\": 30,",
      "    \"keyFrameRequestInterval\": 500,",
      "    \"tlsCertificateFile\": \"/etc/weir/cert.pem\",",
      "    \"tlsPrivateKeyFile\": \"/etc/weir/key.pem\",",
      "    \"stateDir\": \"/var/lib/weir\",",
      "    \"webRoot\": \"/usr/share/weir/web\",",
      "    \"maxWsMessageBytes\": 960000,",
      "    \"maxWsQueuedBytes\": 4194304,",
      "    \"wsRequestRate\": 50,",
      "    \"wsRequestBurst\": 200",
  };
  for (const char* line : example) s += std::string(line) + "\n";
  s +=
      "  }\n"
      "\n"
      "Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 when startup fails,\n"
      "2 for a bad configuration.\n";
  return s;
}

bool parse_cpu_list(const std::string& text, std::vector<uint32_t>* cpus) {
  std::vector<uint32_t> out;
  auto number = [](std::string_view t, uint32_t* n) {
    const char* end = t.data() + t.size();
    auto [ptr, ec] = std::from_chars(t.data(), end, *n);
    return !t.empty() && ec == std::errc() && ptr == end && *n < kMaxCpu;
  };
  std::string_view rest(text);
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const size_t dash = item.find('-');
    uint32_t first = 0;
    uint32_t last = 0;
    if (dash == std::string_view::npos) {
      if (!number(item, &first)) return false;
      last = first;
    } else if (!number(item.substr(0, dash), &first) || !number(item.substr(dash + 1), &last) ||
               last < first) {
      return false;
    }
    for (uint32_t cpu = first; cpu <= last; ++cpu) {
      if (std::find(out.begin(), out.end(), cpu) != out.end()) return false;
      out.push_back(cpu);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  *cpus = std::move(out);
  return true;
}

}  // namespace weir::app
