// A cgroup v2 directory's resource usage (cpu.stat, memory.current/max,
// pids.current, io.stat), for `ctr stats` and `ctr-runtime events`. A value
// whose file is missing (controller not delegated, or no cgroup) is absent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace ctr::cgroup {

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

}  // namespace ctr::cgroup
