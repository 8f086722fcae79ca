#include "options.h"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "media_payload.h"

namespace weir::pktgen {
namespace {

bool parse_u32(std::string_view text, uint32_t min, uint32_t max, uint32_t& out) {
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) return false;
  out = v;
  return true;
}

bool parse_seconds(std::string_view text, double min, double& out) {
  // strtod needs a terminated string; option values come from argv and are short.
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < min || v > 86400) {
    return false;
  }
  out = v;
  return true;
}

bool known_suite(std::string_view s) {
  return s == "AES_CM_128_HMAC_SHA1_80" || s == "AES_CM_128_HMAC_SHA1_32" ||
         s == "AEAD_AES_128_GCM" || s == "none";
}

bool check_combination(const Options& o, const std::string& webrtc_option, std::string* error) {
  if (o.help) return true;
  if (o.transport != "webrtc") {
    if (!webrtc_option.empty()) {
      *error = webrtc_option + " needs --transport webrtc";
      return false;
    }
    return true;
  }
  if (o.suite == "none") {
    *error = "--transport webrtc always uses SRTP: --suite none does not apply";
    return false;
  }
  if (static_cast<uint64_t>(o.bad_fingerprint_consumers) + o.silent_consumers >= o.consumers) {
    *error = "--bad-fingerprint-consumers plus --silent-consumers must leave a measured consumer";
    return false;
  }
  if (o.silent_consumers > 0 && o.silence_at_s >= o.duration_s) {
    *error = "--silence-at must fall inside --duration";
    return false;
  }
  if (!o.restart_ice.empty() && o.restart_ice_at_s >= o.duration_s) {
    *error = "--restart-ice-at must fall inside --duration";
    return false;
  }
  return true;
}

// The meeting scenario's options. True when `name` is one of them (*ok: value valid).
bool parse_meeting_option(std::string_view name, std::string_view value, Options& o, bool& ok) {
  if (name == "--scenario") {
    o.scenario = value;
    ok = value == "fanout" || value == "meeting";
  } else if (name == "--rooms") {
    ok = parse_u32(value, 1, 1000, o.rooms);
  } else if (name == "--peers") {
    ok = parse_u32(value, 2, 50, o.peers);
  } else if (name == "--audio-rate") {
    ok = parse_u32(value, 1, 1000, o.audio_rate_pps);
  } else if (name == "--audio-payload") {
    ok = parse_u32(value, static_cast<uint32_t>(kMinAudioPayloadSize), kMaxPayloadSize,
                   o.audio_payload_bytes);
  } else {
    return false;
  }
  return true;
}

// meeting_option: the first meeting-only option given; fanout_option: the first option
// given that only a fanout has.
bool check_meeting(const Options& o, const std::string& meeting_option,
                   const std::string& fanout_option, std::string* error) {
  if (o.help) return true;
  if (o.scenario != "meeting") {
    if (!meeting_option.empty()) {
      *error = meeting_option + " needs --scenario meeting";
      return false;
    }
    return true;
  }
  if (!fanout_option.empty()) {
    *error = fanout_option + " does not apply to --scenario meeting (it has rooms x peers)";
    return false;
  }
  if (o.transport != "plain") {
    *error = "--scenario meeting runs on plain transports only";
    return false;
  }
  if (o.rooms * o.peers > 10000) {
    *error = "--rooms x --peers must be at most 10000";
    return false;
  }
  return true;
}

// The DPDK mode's options. True when `name` is one of them (*ok: value valid).
bool parse_dpdk_option(std::string_view name, std::string_view value, Options& o, bool& ok) {
  if (name == "--dpdk-eal-args") {
    o.dpdk_eal_args = value;
    ok = !value.empty();
  } else if (name == "--dpdk-prefix-length") {
    ok = parse_u32(value, 1, 32, o.dpdk_prefix_length);
  } else if (name == "--dpdk-mbufs") {
    ok = parse_u32(value, 1023, 4194303, o.dpdk_mbufs);
  } else if (name == "--dpdk-queues") {
    ok = parse_u32(value, 1, kMaxDpdkQueues, o.dpdk_queues);
  } else {
    return false;
  }
  return true;
}

// dpdk_option: the first DPDK-only option given.
bool check_dpdk(const Options& o, const std::string& dpdk_option, std::string* error) {
  if (o.help) return true;
  if (o.mode != "dpdk") {
    if (!dpdk_option.empty()) {
      *error = dpdk_option + " needs --mode dpdk";
      return false;
    }
    return true;
  }
  if (o.dpdk_eal_args.empty()) {
    *error = "--mode dpdk needs --dpdk-eal-args (the port: --vdev=... or -a PCI)";
    return false;
  }
  in_addr a{};
  if (inet_pton(AF_INET, o.local_ip.c_str(), &a) != 1 || o.local_ip.rfind("127.", 0) == 0) {
    *error = "--mode dpdk needs --local-ip: the IPv4 address of pktgen's DPDK port (not " +
             o.local_ip + ")";
    return false;
  }
  const uint64_t sockets = o.scenario == "meeting" ? uint64_t{o.rooms} * o.peers : o.consumers;
  if (sockets > kMaxDpdkSockets) {
    *error = "--mode dpdk serves at most " + std::to_string(kMaxDpdkSockets) +
             " consumer sockets (UDP ports " + std::to_string(kFirstDpdkPort) + " and up)";
    return false;
  }
  return true;
}

}  // namespace

const char* usage_text() {
  return "usage: pktgen [options]\n"
         "Builds a fanout scenario on weir through its broadcaster HTTP API (1 VP8 producer ->\n"
         "N consumers, each on its own plain or WebRTC transport and local UDP socket), sends\n"
         "paced SRTP, verifies what every consumer receives and prints one JSON result line.\n"
         "\n"
         "  --api URL            weir's HTTPS API (default https://127.0.0.1:4443)\n"
         "  --room ID            room id (default: random)\n"
         "  --consumers N        consumers, one transport and socket each (default 100)\n"
         "  --rate PPS           packets per second of the producer (default 100)\n"
         "  --duration S         measured window in seconds (default 10)\n"
         "  --warmup S           longest warm-up before the window (default 2); it ends early\n"
         "                       once every consumer has received a packet\n"
         "  --payload BYTES      RTP payload size incl. VP8 descriptor (default 1100, min 34)\n"
         "  --suite NAME         AES_CM_128_HMAC_SHA1_80 (default) | AES_CM_128_HMAC_SHA1_32 |\n"
         "                       AEAD_AES_128_GCM | none (plain RTP)\n"
         "  --server-pid PID     weir's pid: its CPU (utime+stime) and RSS over the window\n"
         "  --local-ip IP        address of pktgen's sockets (default 127.0.0.1); in DPDK mode\n"
         "                       the IPv4 address of pktgen's DPDK port\n"
         "  --mode M             uring (default): kernel UDP sockets on io_uring engines;\n"
         "                       dpdk: UDP ports of pktgen's own DPDK port, served by weir's\n"
         "                       DPDK engine and network stack (ARP, IPv4, UDP), every queue\n"
         "                       polled by the receiving thread, the sender's packets handed\n"
         "                       to it; the HTTPS API still goes over kernel TCP\n"
         "  --git COMMIT         short commit written into the result (default \"unknown\")\n"
         "  --verify-sample K    SRTP-verify 1 in K packets of each consumer (default 1 = all);\n"
         "                       the others are counted by header only\n"
         "  --transport T        plain (default): plain transports with signaled SRTP keys;\n"
         "                       webrtc: WebRTC transports, pktgen runs ICE (controlling,\n"
         "                       toward weir's ICE-lite) and DTLS-SRTP on every socket\n"
         "  --report FILE        write room, broadcaster, transport and consumer ids (once\n"
         "                       set up, \"phase\":\"running\") and per-consumer results with\n"
         "                       weir's transport stats (at the end, \"phase\":\"done\")\n"
         "  --quiet              no progress line on stderr\n"
         "  --help               this text\n"
         "WebRTC mode only:\n"
         "  --dtls-role R        pktgen's DTLS role: client (default; weir is DTLS server),\n"
         "                       server (weir is the client), mixed (alternates per transport)\n"
         "  --consent-interval S ICE consent check period, randomized 0.8-1.2x (default 3);\n"
         "                       keep it well below weir's --ice-consent-timeout\n"
         "  --rtcp-interval S    each consumer sends an SRTCP receiver report every S seconds\n"
         "                       (default 1; 0: none)\n"
         "  --bad-fingerprint-consumers K\n"
         "                       K consumers (spread over the N) signal a wrong DTLS\n"
         "                       fingerprint: weir must fail their handshake, they must get\n"
         "                       no media, and they are left out of expected/forwarded\n"
         "  --silent-consumers K K consumers go silent --silence-at seconds into the window:\n"
         "                       no more ICE checks, every packet ignored (weir should then\n"
         "                       withdraw consent); left out of expected/forwarded\n"
         "  --silence-at S       (default 1)\n"
         "  --restart-ice WHO    producer | consumer | both: restartIce on the producer's\n"
         "                       transport and/or the first measured consumer's, switching to\n"
         "                       the new credentials while media flows\n"
         "  --restart-ice-at S   seconds into the window (default: half of it)\n"
         "DPDK mode only (--mode dpdk; plain or WebRTC transports):\n"
         "  --dpdk-eal-args ARGS EAL's arguments, one string, e.g. \"--no-huge --no-pci -m 1024\n"
         "                       --file-prefix pktgen --vdev=net_memif0,role=client,socket=S\";\n"
         "                       the port is DPDK port 0\n"
         "  --dpdk-prefix-length N  on-link subnet of --local-ip (default 24)\n"
         "  --dpdk-mbufs N       mbufs per queue (default 65535)\n"
         "  --dpdk-queues N      RX/TX queue pairs (default 1, at most 8). Over net_memif the\n"
         "                       client has no more queues than the server: give weir's\n"
         "                       --workers, so that every worker's queue reaches pktgen\n"
         "Scenario:\n"
         "  --scenario S         fanout (default) | meeting: R rooms x K peers, every peer a\n"
         "                       broadcaster producing audio and video on its own plain\n"
         "                       transport and consuming the others of its room on a second\n"
         "                       one (one pktgen socket each); video at --rate/--payload\n"
         "  --rooms R            meeting rooms (default 1)\n"
         "  --peers K            peers per room, 2 to 50 (default 4)\n"
         "  --audio-rate PPS     packets per second of each audio producer (default 50)\n"
         "  --audio-payload BYTES  opus-like RTP payload size (default 160, min 20)\n";
}

bool parse_options(int argc, const char* const* argv, Options& out, std::string* error) {
  std::string webrtc_option;  // the first WebRTC-only option given, for the message
  // The same for check_meeting.
  std::string meeting_option, fanout_option;
  std::string dpdk_option;
  for (int i = 1; i < argc; ++i) {
    bool webrtc_only = false;
    std::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--") {
      *error = "unexpected argument " + std::string(arg);
      return false;
    }
    std::string_view name = arg;
    std::string_view value;
    bool has_value = false;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name == "--help" || name == "-h") {
      out.help = true;
      continue;
    }
    if (name == "--quiet") {
      out.quiet = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        *error = "missing value for " + std::string(name);
        return false;
      }
      value = argv[++i];
    }
    bool ok = true;
    if (parse_meeting_option(name, value, out, ok)) {
      if (meeting_option.empty() && name != "--scenario") meeting_option = name;
    } else if (parse_dpdk_option(name, value, out, ok)) {
      if (dpdk_option.empty()) dpdk_option = name;
    } else if (name == "--api") {
      out.api = value;
      ok = !value.empty();
    } else if (name == "--room") {
      out.room = value;
      ok = !value.empty();
    } else if (name == "--consumers") {
      ok = parse_u32(value, 1, 100000, out.consumers);
      if (fanout_option.empty()) fanout_option = name;
    } else if (name == "--rate") {
      ok = parse_u32(value, 1, 1000000, out.rate_pps);
    } else if (name == "--duration") {
      ok = parse_seconds(value, 0.1, out.duration_s);
    } else if (name == "--warmup") {
      ok = parse_seconds(value, 0, out.warmup_s);
    } else if (name == "--payload") {
      ok = parse_u32(value, static_cast<uint32_t>(kMinPayloadSize), kMaxPayloadSize,
                     out.payload_bytes);
    } else if (name == "--suite") {
      out.suite = value;
      ok = known_suite(value);
    } else if (name == "--server-pid") {
      uint32_t pid = 0;
      ok = parse_u32(value, 1, 0x7fffffff, pid);
      out.server_pid = static_cast<int>(pid);
    } else if (name == "--local-ip") {
      out.local_ip = value;
      ok = !value.empty();
    } else if (name == "--mode") {
      out.mode = value;
      ok = value == "uring" || value == "dpdk";
    } else if (name == "--git") {
      out.git = value;
      ok = !value.empty();
    } else if (name == "--verify-sample") {
      ok = parse_u32(value, 1, 1000000, out.verify_sample);
    } else if (name == "--transport") {
      out.transport = value;
      ok = value == "plain" || value == "webrtc";
    } else if (name == "--report") {
      out.report_path = value;
      ok = !value.empty();
      if (fanout_option.empty()) fanout_option = name;
    } else if (name == "--dtls-role") {
      out.dtls_role = value;
      ok = value == "client" || value == "server" || value == "mixed";
      webrtc_only = true;
    } else if (name == "--consent-interval") {
      ok = parse_seconds(value, 0.05, out.consent_interval_s);
      webrtc_only = true;
    } else if (name == "--rtcp-interval") {
      ok = parse_seconds(value, 0, out.rtcp_interval_s);
      webrtc_only = true;
    } else if (name == "--bad-fingerprint-consumers") {
      ok = parse_u32(value, 0, 100000, out.bad_fingerprint_consumers);
      webrtc_only = true;
    } else if (name == "--silent-consumers") {
      ok = parse_u32(value, 0, 100000, out.silent_consumers);
      webrtc_only = true;
    } else if (name == "--silence-at") {
      ok = parse_seconds(value, 0, out.silence_at_s);
      webrtc_only = true;
    } else if (name == "--restart-ice") {
      out.restart_ice = value;
      ok = value == "producer" || value == "consumer" || value == "both";
      webrtc_only = true;
    } else if (name == "--restart-ice-at") {
      ok = parse_seconds(value, 0, out.restart_ice_at_s);
      webrtc_only = true;
    } else {
      *error = "unknown option " + std::string(name);
      return false;
    }
    if (!ok) {
      *error = "invalid value \"" + std::string(value) + "\" for " + std::string(name);
      return false;
    }
    if (webrtc_only && webrtc_option.empty()) webrtc_option = name;
  }
  return check_combination(out, webrtc_option, error) &&
         check_meeting(out, meeting_option, fanout_option, error) &&
         check_dpdk(out, dpdk_option, error);
}

}  // namespace weir::pktgen
