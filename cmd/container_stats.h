// One container's resource usage for `ctr stats`, from its cgroup v2 files
// (cpu.stat, memory.current/max, pids.current, io.stat). A value whose file
// is missing (controller not delegated, or no cgroup) is absent and shown
// as "--", as podman does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cmd/output.h"

namespace ctr::cmd {

struct StatsSample {
  std::optional<uint64_t> cpu_usec;  // cpu.stat usage_usec
  std::optional<uint64_t> mem_usage, mem_limit;
  std::optional<uint64_t> pids;
  std::optional<uint64_t> read_bytes, write_bytes;  // io.stat, summed over devices
  int64_t taken_ns = 0;                             // CLOCK_REALTIME
};

// Reads the files of cgroup `dir` ("" = no cgroup: everything absent).
// An unlimited memory.max reads as the host's memory (podman's limit).
StatsSample sample_cgroup(const std::string& dir);
// io.stat text -> (rbytes, wbytes) summed.
std::pair<uint64_t, uint64_t> io_totals(const std::string& io_stat);

// podman's stats row: ID, Name, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO,
// PIDs. CPU % over [since_ns, now] using `previous` cpu usage (0 and the
// start time for the first sample).
Json stats_row(const std::string& id, const std::string& name, const StatsSample& now,
               uint64_t previous_cpu_usec, int64_t since_ns);
// The same as podman's `--format json` object (id, name, cpu_percent, ...).
Json stats_json(const Json& row, const StatsSample& now);

}  // namespace ctr::cmd
