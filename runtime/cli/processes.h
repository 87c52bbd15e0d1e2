// Finding a container's processes without cgroups (kill --all, ps, delete
// --force): when the init has its own pid namespace, every process in that
// namespace; otherwise the init and its descendants.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/state.h"

namespace ctr::cli {

struct ProcStat {
  pid_t ppid = 0;
  char state = '?';
  uint64_t start_time = 0;  // field 22, clock ticks since boot
};
// Parses /proc/PID/stat text; the command name in parentheses may itself
// contain spaces and parentheses, so fields are counted from the last ')'.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

struct ProcessRef {
  pid_t pid = 0;
  uint64_t start_time = 0;  // checked again before signalling, against pid reuse
};

// The container's processes, init included, sorted by pid.
Result<std::vector<ProcessRef>> container_processes(pid_t init_pid);

// Sends `signal` to the init through its verified pidfd and, with `all`,
// to every other process of the container first (each through a pidfd whose
// start time is checked after opening).
Status signal_container(const ContainerState& state, int init_pidfd, int signal, bool all);

}  // namespace ctr::cli
