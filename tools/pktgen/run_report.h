// The --report file: what pktgen built on weir (room, broadcasters, transport, producer and
// consumer ids) and, at the end, what each consumer got, so that a test can watch weir's
// own view of those transports while the run goes on and check it afterwards.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api_client.h"
#include "fanout_scenario.h"

namespace weir::pktgen {

// {"phase", "room", "transport", "producer":{...}, "consumers":[{index, transportId,
// consumerId}, ...]}
nlohmann::ordered_json report_skeleton(const std::string& phase, const FanoutSpec& spec,
                                       const FanoutPlan& plan);
// weir's GET /rooms/R/transports/T/stats for each id: {id: first stats entry, or the
// error text}. Control path only.
nlohmann::ordered_json fetch_transport_stats(ApiClient& api, const std::string& room,
                                             const std::vector<std::string>& transport_ids);
// Writes path atomically (a temporary file renamed over it): a reader never sees half.
bool write_report_file(const std::string& path, const nlohmann::ordered_json& report,
                       std::string* error);

}  // namespace weir::pktgen
