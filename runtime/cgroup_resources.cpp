// OCI linux.resources <-> cgroup::Resources.
#include <nlohmann/json.hpp>

#include "runtime/cgroup.h"

namespace ctr::cgroup {
namespace {

using json = nlohmann::json;

template <typename T>
Status read_number(const json& obj, const char* key, const std::string& path, std::optional<T>& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_number_integer())
    return make_error("linux.resources." + path + "." + key + ": expected an integer", EINVAL);
  if constexpr (std::is_unsigned_v<T>) {
    if (it->is_number_unsigned() || it->get<int64_t>() >= 0) {
      out = static_cast<T>(it->get<uint64_t>());
      if (static_cast<uint64_t>(*out) != it->get<uint64_t>())
        return make_error("linux.resources." + path + "." + key + ": out of range", ERANGE);
      return {};
    }
    return make_error("linux.resources." + path + "." + key + ": must not be negative", EINVAL);
  } else {
    out = static_cast<T>(it->get<int64_t>());
    return {};
  }
}

Status read_string(const json& obj, const char* key, const std::string& path, std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) return make_error("linux.resources." + path + "." + key + ": expected a string", EINVAL);
  out = it->get<std::string>();
  return {};
}

Status read_throttles(const json& blkio, const char* key, std::vector<Throttle>& out) {
  auto it = blkio.find(key);
  if (it == blkio.end() || it->is_null()) return {};
  std::string path = std::string("linux.resources.blockIO.") + key;
  if (!it->is_array()) return make_error(path + ": expected an array", EINVAL);
  for (const auto& entry : *it) {
    if (!entry.is_object()) return make_error(path + ": expected objects {major, minor, rate}", EINVAL);
    std::optional<int64_t> major, minor;
    std::optional<uint64_t> rate;
    TRY(read_number(entry, "major", "blockIO", major));
    TRY(read_number(entry, "minor", "blockIO", minor));
    TRY(read_number(entry, "rate", "blockIO", rate));
    if (!major || !minor || !rate) return make_error(path + ": each entry needs major, minor and rate", EINVAL);
    out.push_back({*major, *minor, *rate});
  }
  return {};
}

const json* section(const json& root, const char* key, const std::string& what, Status& status) {
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) return nullptr;
  if (!it->is_object()) {
    status = make_error("linux.resources." + what + ": expected an object", EINVAL);
    return nullptr;
  }
  return &*it;
}

}  // namespace

Result<Resources> parse_resources(const std::string& text) {
  Resources r;
  if (text.empty()) return r;
  json root = json::parse(text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) return make_error("linux.resources: expected an object", EINVAL);
  Status status;
  if (const json* m = section(root, "memory", "memory", status)) {
    TRY(read_number(*m, "limit", "memory", r.memory_limit));
    TRY(read_number(*m, "swap", "memory", r.memory_swap));
    TRY(read_number(*m, "reservation", "memory", r.memory_reservation));
  }
  if (const json* c = section(root, "cpu", "cpu", status)) {
    TRY(read_number(*c, "shares", "cpu", r.cpu_shares));
    TRY(read_number(*c, "quota", "cpu", r.cpu_quota));
    TRY(read_number(*c, "period", "cpu", r.cpu_period));
    TRY(read_string(*c, "cpus", "cpu", r.cpuset_cpus));
    TRY(read_string(*c, "mems", "cpu", r.cpuset_mems));
  }
  if (const json* p = section(root, "pids", "pids", status)) TRY(read_number(*p, "limit", "pids", r.pids_limit));
  if (const json* b = section(root, "blockIO", "blockIO", status)) {
    TRY(read_number(*b, "weight", "blockIO", r.blkio_weight));
    TRY(read_throttles(*b, "throttleReadBpsDevice", r.read_bps));
    TRY(read_throttles(*b, "throttleWriteBpsDevice", r.write_bps));
  }
  TRY(std::move(status));
  return r;
}

std::string resources_json(const Resources& r) {
  json j = json::object();
  if (r.memory_limit) j["memory"]["limit"] = *r.memory_limit;
  if (r.memory_swap) j["memory"]["swap"] = *r.memory_swap;
  if (r.memory_reservation) j["memory"]["reservation"] = *r.memory_reservation;
  if (r.cpu_shares) j["cpu"]["shares"] = *r.cpu_shares;
  if (r.cpu_quota) j["cpu"]["quota"] = *r.cpu_quota;
  if (r.cpu_period) j["cpu"]["period"] = *r.cpu_period;
  if (!r.cpuset_cpus.empty()) j["cpu"]["cpus"] = r.cpuset_cpus;
  if (!r.cpuset_mems.empty()) j["cpu"]["mems"] = r.cpuset_mems;
  if (r.pids_limit) j["pids"]["limit"] = *r.pids_limit;
  if (r.blkio_weight) j["blockIO"]["weight"] = *r.blkio_weight;
  auto throttles = [](const std::vector<Throttle>& list) {
    json a = json::array();
    for (const auto& t : list) a.push_back({{"major", t.major}, {"minor", t.minor}, {"rate", t.rate}});
    return a;
  };
  if (!r.read_bps.empty()) j["blockIO"]["throttleReadBpsDevice"] = throttles(r.read_bps);
  if (!r.write_bps.empty()) j["blockIO"]["throttleWriteBpsDevice"] = throttles(r.write_bps);
  return j.dump();
}

}  // namespace ctr::cgroup
