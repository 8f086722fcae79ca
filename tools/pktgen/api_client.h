// A small synchronous HTTPS/1.1 client for weir's broadcaster API (Boost.Beast, OpenSSL),
// keeping one keep-alive connection so that building thousands of transports does not
// open thousands of TCP connections and TLS handshakes. weir's certificate is usually
// self-signed, so it is not verified (a load generator on a test network, like curl -k).
// Plain http:// URLs still work against other servers. Control path only; never used
// while packets flow.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace weir::pktgen {

struct ApiResponse {
  int status = 0;  // 0: no HTTP answer (connection failed); see transport_error
  std::string body;
  nlohmann::json json;  // parsed body, or null when the body is not JSON
  std::string transport_error;

  bool ok() const { return status == 200; }
  // "POST /x -> 500: <errorReason>" or the connection error, for messages.
  std::string describe(std::string_view what) const;
};

// "https://host:port" (port defaults to 443, tls true) or "http://host:port" (80, tls
// false); false for anything else.
bool parse_http_url(std::string_view url, std::string& host, std::string& port, bool& tls);

class ApiClient {
 public:
  enum class Method { get, post, del };

  ApiClient(std::string host, std::string port, bool tls = true);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // body nullptr: no body. Reconnects once if the server closed the kept-alive connection.
  ApiResponse request(Method method, const std::string& target, const nlohmann::json* body);

 private:
  struct Connection;
  std::string host_, port_;
  bool tls_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace weir::pktgen
