#include "app/config.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace weir::app {
namespace {

// getopt wants mutable argv.
CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "weir");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_command_line(static_cast<int>(args.size()), argv.data());
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/weir-config-test-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    path_ = name;
    ssize_t n = write(fd, content.data(), content.size());
    EXPECT_EQ(n, static_cast<ssize_t>(content.size()));
    close(fd);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string error_of(std::vector<std::string> args) {
  CommandLine c = parse(std::move(args));
  EXPECT_EQ(c.action, CommandAction::error);
  return c.error;
}

std::string json_error(const std::string& text) {
  Config c;
  std::string error;
  EXPECT_FALSE(apply_json_config(nlohmann::json::parse(text), "test.json", c, &error));
  return error;
}

TEST(Config, DefaultsWithoutArguments) {
  CommandLine c = parse({});
  ASSERT_EQ(c.action, CommandAction::run) << c.error;
  EXPECT_EQ(c.config.listen_ip, "127.0.0.1");
  EXPECT_EQ(c.config.announced_address, "");
  EXPECT_EQ(c.config.rtc_min_port, 40000);
  EXPECT_EQ(c.config.rtc_max_port, 49999);
  EXPECT_EQ(c.config.workers, 1u);
  EXPECT_EQ(c.config.log_level, log::Level::info);
  EXPECT_EQ(c.config.http_ip, "127.0.0.1");
  EXPECT_EQ(c.config.http_port, 4443);
  EXPECT_EQ(c.config.io_engine, IoEngine::automatic);
  EXPECT_EQ(c.config.max_http_connections, 1024u);
  EXPECT_EQ(c.config.max_http_body_bytes, 1048576u);
}

TEST(Config, EveryFlagFromCommandLine) {
  CommandLine c = parse({"--listen-ip", "0.0.0.0", "--announced-address", "media.example.org",
                         "--rtc-min-port=41000", "--rtc-max-port", "41010", "--workers", "4",
                         "--log-level", "debug", "--http-ip", "::1", "--http-port", "0",
                         "--io-engine", "recvmmsg", "--max-http-connections", "10",
                         "--max-http-body-bytes", "4096"});
  ASSERT_EQ(c.action, CommandAction::run) << c.error;
  EXPECT_EQ(c.config.listen_ip, "0.0.0.0");
  EXPECT_EQ(c.config.announced_address, "media.example.org");
  EXPECT_EQ(c.config.rtc_min_port, 41000);
  EXPECT_EQ(c.config.rtc_max_port, 41010);
  EXPECT_EQ(c.config.workers, 4u);
  EXPECT_EQ(c.config.log_level, log::Level::debug);
  EXPECT_EQ(c.config.http_ip, "::1");
  EXPECT_EQ(c.config.http_port, 0);
  EXPECT_EQ(c.config.io_engine, IoEngine::recvmmsg);
  EXPECT_EQ(c.config.max_http_connections, 10u);
  EXPECT_EQ(c.config.max_http_body_bytes, 4096u);
}

TEST(Config, EveryKeyFromJsonFile) {
  TempFile file(R"({
    // comments are allowed
    "listenIp": "10.0.0.5", "announcedAddress": "203.0.113.7",
    "rtcMinPort": 42000, "rtcMaxPort": 42999, "workers": 2, "logLevel": "warn",
    "httpIp": "0.0.0.0", "httpPort": 8080, "ioEngine": "io_uring",
    "maxHttpConnections": 50, "maxHttpBodyBytes": 2048
  })");
  CommandLine c = parse({"--config", file.path()});
  ASSERT_EQ(c.action, CommandAction::run) << c.error;
  EXPECT_EQ(c.config.config_file, file.path());
  EXPECT_EQ(c.config.listen_ip, "10.0.0.5");
  EXPECT_EQ(c.config.announced_address, "203.0.113.7");
  EXPECT_EQ(c.config.rtc_min_port, 42000);
  EXPECT_EQ(c.config.rtc_max_port, 42999);
  EXPECT_EQ(c.config.workers, 2u);
  EXPECT_EQ(c.config.log_level, log::Level::warn);
  EXPECT_EQ(c.config.http_ip, "0.0.0.0");
  EXPECT_EQ(c.config.http_port, 8080);
  EXPECT_EQ(c.config.io_engine, IoEngine::io_uring);
  EXPECT_EQ(c.config.max_http_connections, 50u);
  EXPECT_EQ(c.config.max_http_body_bytes, 2048u);
}

TEST(Config, CommandLineOverridesFileWhereverItAppears) {
  TempFile file(R"({"rtcMinPort": 42000, "rtcMaxPort": 42999, "workers": 2})");
  CommandLine c = parse({"--workers", "3", "--config", file.path()});
  ASSERT_EQ(c.action, CommandAction::run) << c.error;
  EXPECT_EQ(c.config.workers, 3u);          // flag wins although it came first
  EXPECT_EQ(c.config.rtc_min_port, 42000);  // file
  EXPECT_EQ(c.config.rtc_max_port, 42999);  // file
  EXPECT_EQ(c.config.http_port, 4443);      // default
}

TEST(Config, CrossFieldValidationAfterOverride) {
  // Valid in the file, invalid once the flag overrides one end of the range.
  TempFile file(R"({"rtcMinPort": 42000, "rtcMaxPort": 42999})");
  EXPECT_EQ(error_of({"--config", file.path(), "--rtc-min-port", "50000"}),
            "rtcMinPort (50000) must not exceed rtcMaxPort (42999)");
}

TEST(Config, PortOrderError) {
  EXPECT_EQ(error_of({"--rtc-min-port", "50000", "--rtc-max-port", "40000"}),
            "rtcMinPort (50000) must not exceed rtcMaxPort (40000)");
}

TEST(Config, PortRangeTooSmall) {
  std::string e = error_of({"--rtc-min-port", "40000", "--rtc-max-port", "40000"});
  EXPECT_NE(e.find("rtcMinPort-rtcMaxPort (40000-40000) must hold at least 2 ports"),
            std::string::npos) << e;
  EXPECT_EQ(parse({"--rtc-min-port", "40000", "--rtc-max-port", "40001"}).action,
            CommandAction::run);
}

TEST(Config, PortOutOfRange) {
  EXPECT_EQ(error_of({"--rtc-max-port", "70000"}),
            "rtcMaxPort (70000) must be between 1 and 65535 (from --rtc-max-port)");
  EXPECT_EQ(error_of({"--rtc-min-port", "0"}),
            "rtcMinPort (0) must be between 1 and 65535 (from --rtc-min-port)");
}

TEST(Config, WorkerCountLimits) {
  EXPECT_EQ(error_of({"--workers", "0"}), "workers (0) must be between 1 and 64 (from --workers)");
  EXPECT_EQ(error_of({"--workers", "65"}),
            "workers (65) must be between 1 and 64 (from --workers)");
  EXPECT_EQ(parse({"--workers", "64"}).config.workers, 64u);
}

TEST(Config, UnparsableNumbers) {
  EXPECT_EQ(error_of({"--workers", "two"}), "workers: \"two\" is not a whole number (from --workers)");
  EXPECT_EQ(error_of({"--http-port", "80x"}),
            "httpPort: \"80x\" is not a whole number (from --http-port)");
  EXPECT_EQ(error_of({"--http-port", "-1"}),
            "httpPort: \"-1\" is not a whole number (from --http-port)");
  EXPECT_EQ(error_of({"--http-port", ""}),
            "httpPort: \"\" is not a whole number (from --http-port)");
  EXPECT_EQ(error_of({"--max-http-body-bytes", "99999999999999999999999"}),
            "maxHttpBodyBytes: \"99999999999999999999999\" is not a whole number (from "
            "--max-http-body-bytes)");
}

TEST(Config, BadEnumerations) {
  EXPECT_EQ(error_of({"--log-level", "verbose"}),
            "logLevel (\"verbose\") must be one of trace, debug, info, warn, error, off (from "
            "--log-level)");
  EXPECT_EQ(error_of({"--io-engine", "dpdk"}),
            "ioEngine (\"dpdk\") must be one of auto, io_uring, recvmmsg (from --io-engine)");
}

TEST(Config, BadAddresses) {
  EXPECT_EQ(error_of({"--listen-ip", "localhost"}),
            "listenIp (\"localhost\") is not an IPv4 or IPv6 address");
  EXPECT_EQ(error_of({"--http-ip", "1.2.3"}), "httpIp (\"1.2.3\") is not an IPv4 or IPv6 address");
  EXPECT_NE(error_of({"--listen-ip", "0.0.0.0"}).find("needs announcedAddress"), std::string::npos);
  EXPECT_NE(error_of({"--announced-address", "a b"}).find("announcedAddress"), std::string::npos);
}

TEST(Config, CommandLineShapeErrors) {
  EXPECT_EQ(error_of({"--frobnicate"}), "unknown option --frobnicate (see --help)");
  EXPECT_EQ(error_of({"--workers"}), "option --workers needs a value (see --help)");
  EXPECT_EQ(error_of({"extra"}), "unexpected argument \"extra\" (see --help)");
}

TEST(Config, JsonUnknownKey) {
  std::string e = json_error(R"({"rtcMinPort": 40000, "rtcMinport": 1})");
  EXPECT_EQ(e.rfind("unknown key \"rtcMinport\" in test.json (known keys: listenIp,", 0), 0u) << e;
}

TEST(Config, JsonWrongTypes) {
  EXPECT_EQ(json_error(R"({"workers": "2"})"),
            "workers must be a whole number, got string \"2\" (from test.json)");
  EXPECT_EQ(json_error(R"({"workers": 1.5})"),
            "workers must be a whole number, got a fractional number 1.5 (from test.json)");
  EXPECT_EQ(json_error(R"({"httpPort": -4})"), "httpPort (-4) must not be negative (from test.json)");
  EXPECT_EQ(json_error(R"({"listenIp": 127})"),
            "listenIp must be a string, got number 127 (from test.json)");
  EXPECT_EQ(json_error(R"({"logLevel": null})"),
            "logLevel must be a string, got null null (from test.json)");
  EXPECT_EQ(json_error(R"([1])"), "configuration test.json must be a JSON object, got array");
}

TEST(Config, JsonRangeCheckedLikeFlags) {
  EXPECT_EQ(json_error(R"({"workers": 0})"), "workers (0) must be between 1 and 64 (from test.json)");
}

TEST(Config, UnreadableOrInvalidFile) {
  std::string e = error_of({"--config", "/nonexistent/weir.json"});
  EXPECT_EQ(e, "cannot read configuration file \"/nonexistent/weir.json\": No such file or directory");
  TempFile bad(R"({"workers": 2,})");
  e = error_of({"--config", bad.path()});
  EXPECT_EQ(e.rfind("configuration file \"" + bad.path() + "\" is not valid JSON: ", 0), 0u) << e;
  EXPECT_NE(e.find("parse error"), std::string::npos) << e;
  TempFile wrong(R"({"workers": 99})");
  EXPECT_EQ(error_of({"--config", wrong.path()}),
            "workers (99) must be between 1 and 64 (from configuration file \"" + wrong.path() +
                "\")");
}

TEST(Config, ValidateCatchesProgrammaticConfigs) {
  Config c;
  std::string error;
  EXPECT_TRUE(validate_config(c, &error)) << error;
  c.workers = 0;
  EXPECT_FALSE(validate_config(c, &error));
  EXPECT_EQ(error, "workers (0) must be between 1 and 64");
}

TEST(Config, HelpAndVersion) {
  EXPECT_EQ(parse({"--help"}).action, CommandAction::help);
  EXPECT_EQ(parse({"-h"}).action, CommandAction::help);
  EXPECT_EQ(parse({"--workers", "1", "--help"}).action, CommandAction::help);
  EXPECT_EQ(parse({"--version"}).action, CommandAction::version);
  EXPECT_EQ(version_text(), "weir " + std::string(weir_version()) + "\n");
  EXPECT_STRNE(weir_version(), "unknown");
}

TEST(Config, HelpDocumentsEveryOptionAndTheFileForm) {
  std::string help = usage_text();
  const char* flags[] = {"--listen-ip", "--announced-address", "--rtc-min-port", "--rtc-max-port",
                         "--workers", "--log-level", "--http-ip", "--http-port", "--io-engine",
                         "--max-http-connections", "--max-http-body-bytes", "--config", "--help",
                         "--version"};
  for (const char* f : flags) EXPECT_NE(help.find(f), std::string::npos) << f;
  const char* keys[] = {"listenIp", "announcedAddress", "rtcMinPort", "rtcMaxPort", "workers",
                        "logLevel", "httpIp", "httpPort", "ioEngine", "maxHttpConnections",
                        "maxHttpBodyBytes"};
  for (const char* k : keys) {
    EXPECT_NE(help.find(std::string("JSON key: ") + k + "."), std::string::npos) << k;
    EXPECT_NE(help.find(std::string("\"") + k + "\":"), std::string::npos) << k;  // example
  }
  const char* defaults[] = {"Default: 40000.", "Default: 49999.", "Default: 4443.",
                            "Default: 1048576.", "Default: auto.", "Default: info."};
  for (const char* d : defaults) EXPECT_NE(help.find(d), std::string::npos) << d;
}

TEST(Config, HelpExampleIsAValidConfiguration) {
  std::string help = usage_text();
  size_t begin = help.find("  {\n");
  size_t end = help.find("  }\n", begin);
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  Config c;
  std::string error;
  ASSERT_TRUE(apply_json_config(nlohmann::json::parse(help.substr(begin, end + 3 - begin)),
                                "help example", c, &error))
      << error;
  EXPECT_TRUE(validate_config(c, &error)) << error;
}

}  // namespace
}  // namespace weir::app

namespace weir::app {
namespace {

TEST(CpuList, NumbersAndRangesInTheOrderGiven) {
  std::vector<uint32_t> cpus;
  ASSERT_TRUE(parse_cpu_list("3", &cpus));
  EXPECT_EQ(cpus, (std::vector<uint32_t>{3}));
  ASSERT_TRUE(parse_cpu_list("2,0", &cpus));
  EXPECT_EQ(cpus, (std::vector<uint32_t>{2, 0}));
  ASSERT_TRUE(parse_cpu_list("0-3,8,10-11", &cpus));
  EXPECT_EQ(cpus, (std::vector<uint32_t>{0, 1, 2, 3, 8, 10, 11}));
  ASSERT_TRUE(parse_cpu_list("1023", &cpus));
}

TEST(CpuList, MalformedRepeatedOrTooLargeIsRefused) {
  std::vector<uint32_t> cpus{7};
  for (const char* bad : {"", ",", "1,", ",1", "a", "1-", "-1", "3-1", "1-2-3", "0x1", " 1", "1,1",
                          "0-2,1", "1024", "99999999999"}) {
    EXPECT_FALSE(parse_cpu_list(bad, &cpus)) << '"' << bad << '"';
  }
  EXPECT_EQ(cpus, (std::vector<uint32_t>{7}));  // untouched on failure
}

TEST(Config, WorkerCpusFromFlagAndFile) {
  CommandLine c = parse({"--workers", "2", "--worker-cpus", "1,0"});
  ASSERT_EQ(c.action, CommandAction::run) << c.error;
  EXPECT_EQ(c.config.worker_cpus, (std::vector<uint32_t>{1, 0}));
  TempFile file(R"({"workers": 3, "workerCpus": "4-6"})");
  c = parse({"--config", file.path()});
  ASSERT_EQ(c.action, CommandAction::run) << c.error;
  EXPECT_EQ(c.config.worker_cpus, (std::vector<uint32_t>{4, 5, 6}));
  EXPECT_TRUE(parse({}).config.worker_cpus.empty());
}

TEST(Config, WorkerCpusNeedOnePerWorkerAndAValidList) {
  EXPECT_EQ(error_of({"--workers", "3", "--worker-cpus", "0,1"}),
            "workerCpus names 2 CPU(s) for 3 workers: one per worker");
  EXPECT_NE(error_of({"--worker-cpus", "0,0"})
                .find("workerCpus (\"0,0\") must be a list of "
                      "distinct CPU numbers"),
            std::string::npos);
}

}  // namespace
}  // namespace weir::app
