#include "cmd/inspect_limits.h"

#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

// podman's [{"Path": "/dev/sda", "Rate": N}], null when there are none.
Json throttles(const std::vector<cgroup::Throttle>& list, const DevicePathOf& device_path) {
  if (list.empty()) return nullptr;
  Json out = Json::array();
  for (const auto& t : list) {
    std::string path = device_path(t.major, t.minor);
    if (path.empty()) path = std::to_string(t.major) + ":" + std::to_string(t.minor);
    out.push_back({{"Path", path}, {"Rate", t.rate}});
  }
  return out;
}

}  // namespace

std::string block_device_path(int64_t major, int64_t minor) {
  // The kernel's own name for it (podman scans /dev for the node instead).
  auto uevent = read_file("/sys/dev/block/" + std::to_string(major) + ":" + std::to_string(minor) + "/uevent");
  if (!uevent) return "";
  for (const auto& line : split(*uevent, '\n'))
    if (starts_with(line, "DEVNAME=")) return "/dev/" + line.substr(8);
  return "";
}

void add_limit_fields(Json& host_config, const cgroup::Resources& r, std::optional<int> oom_score_adj,
                      const DevicePathOf& device_path) {
  Json& h = host_config;
  h["Memory"] = r.memory_limit.value_or(0);
  h["MemoryReservation"] = r.memory_reservation.value_or(0);
  h["MemorySwap"] = r.memory_swap.value_or(0);
  int64_t nano_cpus = 0;
  if (r.cpu_quota && *r.cpu_quota > 0 && r.cpu_period && *r.cpu_period > 0)
    nano_cpus = static_cast<int64_t>(static_cast<double>(*r.cpu_quota) / static_cast<double>(*r.cpu_period) * 1e9);
  h["NanoCpus"] = nano_cpus;
  h["CpuShares"] = r.cpu_shares.value_or(0);
  h["CpuPeriod"] = r.cpu_period.value_or(0);
  h["CpuQuota"] = r.cpu_quota.value_or(0);
  h["CpusetCpus"] = r.cpuset_cpus;
  h["CpusetMems"] = r.cpuset_mems;
  h["PidsLimit"] = r.pids_limit.value_or(0);
  h["BlkioWeight"] = r.blkio_weight.value_or(0);
  h["BlkioDeviceReadBps"] = throttles(r.read_bps, device_path);
  h["BlkioDeviceWriteBps"] = throttles(r.write_bps, device_path);
  h["OomScoreAdj"] = oom_score_adj.value_or(0);
}

}  // namespace ctr::cmd
