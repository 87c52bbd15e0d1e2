// One container's resource usage for `ctr stats`, from its cgroup v2 files
// (cpu.stat, memory.current/max, pids.current, io.stat). A value whose file
// is missing (controller not delegated, or no cgroup) is absent and shown
// as "--", as podman does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cmd/output.h"
#include "runtime/cgroup_stats.h"

namespace ctr::cmd {

using cgroup::io_totals;
using cgroup::sample_cgroup;
using cgroup::StatsSample;

// podman's stats row: ID, Name, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO,
// PIDs. CPU % over [since_ns, now] using `previous` cpu usage (0 and the
// start time for the first sample).
Json stats_row(const std::string& id, const std::string& name, const StatsSample& now,
               uint64_t previous_cpu_usec, int64_t since_ns);
// The same as podman's `--format json` object (id, name, cpu_percent, ...).
Json stats_json(const Json& row, const StatsSample& now);

}  // namespace ctr::cmd
