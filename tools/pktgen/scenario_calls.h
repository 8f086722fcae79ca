// The broadcaster API calls the fanout and meeting scenarios share, and what they read
// from weir's answers. Control path only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api_client.h"
#include "fanout_scenario.h"

namespace weir::pktgen {

// prefix + 16 random hex digits.
std::string random_id(const char* prefix);
// A plain transport with rtcp-mux, SRTP with `suite` unless it is "none".
nlohmann::json plain_transport_request(const std::string& suite, bool comedia);
// weir's srtpParameters from a transport answer; true (and key empty) when SRTP is off.
bool read_weir_key(const nlohmann::json& answer, const std::string& suite,
                   std::vector<uint8_t>& key, std::string* error);
// One call that must answer 200; false with *error "<what> <target> -> status: reason".
bool api_call(ApiClient& api, ApiClient::Method method, const std::string& target,
              const nlohmann::json* body, nlohmann::json& answer, const char* what,
              std::string* error);
// A consume answer's consumer id and its first encoding's SSRC and codec's payload type.
bool read_consume_answer(const nlohmann::json& answer, ConsumerInfo& ci, std::string* error);

}  // namespace weir::pktgen
