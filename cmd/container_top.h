// The formatting half of `ctr top`: podman's (psgo's) descriptors, headers
// and value formats, over process facts gathered from /proc by cmd/top.cpp.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::cmd {

// What top knows about one process of a container.
struct TopProcess {
  pid_t host_pid = 0, pid = 0, ppid = 0, pgid = 0;  // pid/ppid/pgid as the container sees them
  std::string user, group;                          // container names (else numbers)
  std::string host_user, host_group;                // host names (else numbers)
  int64_t elapsed_ns = 0, cpu_ns = 0;
  std::string tty = "?", args, comm, state;
  int nice = 0;
  uint64_t vsz_kib = 0;
};

// podman's default: user pid ppid pcpu etime tty time args.
std::vector<std::string> default_top_descriptors();
// The descriptors named by `args` (each may be comma separated); an error
// naming an unknown one and listing the valid ones.
Result<std::vector<std::string>> parse_top_descriptors(const std::vector<std::string>& args);
// Go's time.Duration.String(): "0s", "12ms", "3.5s", "1m2.25s", "1h0m0s".
std::string go_duration(int64_t ns);
// The table podman prints (columns at least 12 wide, 2 spaces apart).
std::string render_top(const std::vector<std::string>& descriptors, const std::vector<TopProcess>& processes);

}  // namespace ctr::cmd
