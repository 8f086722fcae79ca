#include "run_report.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace weir::pktgen {

using ojson = nlohmann::ordered_json;

ojson report_skeleton(const std::string& phase, const FanoutSpec& spec, const FanoutPlan& plan) {
  ojson r;
  r["phase"] = phase;
  r["room"] = spec.room;
  r["transport"] = spec.transport;
  r["producer"] = {{"broadcasterId", plan.producer_broadcaster},
                   {"transportId", plan.producer_transport_id},
                   {"producerId", plan.producer_id}};
  ojson consumers = ojson::array();
  for (size_t i = 0; i < plan.consumers.size(); ++i) {
    consumers.push_back({{"index", i},
                         {"transportId", plan.consumers[i].transport_id},
                         {"consumerId", plan.consumers[i].consumer_id}});
  }
  r["consumerBroadcasterId"] = plan.consumer_broadcaster;
  r["consumers"] = std::move(consumers);
  return r;
}

ojson fetch_transport_stats(ApiClient& api, const std::string& room,
                            const std::vector<std::string>& transport_ids) {
  ojson out = ojson::object();
  for (const std::string& id : transport_ids) {
    const ApiResponse r = api.request(ApiClient::Method::get,
                                      "/rooms/" + room + "/transports/" + id + "/stats", nullptr);
    if (r.ok() && r.json.is_array() && !r.json.empty()) {
      out[id] = ojson::parse(r.json[0].dump());
    } else {
      out[id] = r.describe("GET stats");
    }
  }
  return out;
}

bool write_report_file(const std::string& path, const ojson& report, std::string* error) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) {
    *error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  const std::string text = report.dump(1) + "\n";
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace weir::pktgen
