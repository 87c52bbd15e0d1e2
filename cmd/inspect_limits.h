// The resource limits in `ctr inspect`'s HostConfig, as podman 4.3 shows
// them (libpod/container_inspect.go): Memory, MemoryReservation,
// MemorySwap, NanoCpus, CpuShares, CpuQuota, CpuPeriod, CpusetCpus,
// CpusetMems, PidsLimit, BlkioWeight, BlkioDeviceReadBps/WriteBps,
// OomScoreAdj. They come from the record's linux.resources (which `ctr
// update` rewrites), so an update shows at once; 0 / "" / null when unset.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "cmd/output.h"
#include "runtime/cgroup.h"

namespace ctr::cmd {

// major:minor -> the device's path ("/dev/sda"); "" when unknown.
using DevicePathOf = std::function<std::string(int64_t major, int64_t minor)>;
std::string block_device_path(int64_t major, int64_t minor);

// Sets the limit fields of `host_config` (an object).
void add_limit_fields(Json& host_config, const cgroup::Resources& limits, std::optional<int> oom_score_adj,
                      const DevicePathOf& device_path = block_device_path);

}  // namespace ctr::cmd
