// One container's resource usage for `ctr stats`, from its cgroup v2 files
// (cpu.stat, memory.current/max, pids.current, io.stat) and its network
// namespace (/proc/PID/net/dev, every interface but lo). A value whose file
// is missing (controller not delegated, or no cgroup) is absent and shown
// as "--", as podman does.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "cmd/output.h"
#include "runtime/cgroup_stats.h"

namespace ctr::cmd {

using cgroup::io_totals;
using cgroup::sample_cgroup;
using cgroup::StatsSample;

// Bytes received and sent over a network namespace's interfaces.
struct NetTotals {
  uint64_t rx = 0, tx = 0;
};
// /proc/PID/net/dev text -> the totals of every interface but lo.
NetTotals net_totals(const std::string& proc_net_dev);
// The totals of container process `pid`'s network namespace; nullopt when
// unreadable, or when it is ctr's own (--network=host: podman shows none).
std::optional<NetTotals> container_net_io(pid_t pid);

// podman's stats row: ID, Name, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO,
// PIDs. CPU % over [since_ns, now] using `previous` cpu usage (0 and the
// start time for the first sample).
Json stats_row(const std::string& id, const std::string& name, const StatsSample& now,
               uint64_t previous_cpu_usec, int64_t since_ns, const std::optional<NetTotals>& net = std::nullopt);
// The same as podman's `--format json` object (id, name, cpu_percent, ...).
Json stats_json(const Json& row, const StatsSample& now);

}  // namespace ctr::cmd
