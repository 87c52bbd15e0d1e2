#include "runtime/cli/processes.h"

#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <map>
#include <string>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/base/unique_fd.h"

namespace ctr::cli {

namespace {

std::string read_link(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string pid_namespace_of(pid_t pid) { return read_link("/proc/" + std::to_string(pid) + "/ns/pid"); }

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  return parse_proc_stat(*text);
}

// Every numeric entry of /proc: thread-group leaders only, which is what
// signals and ps want.
std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  DIR* dir = ::opendir("/proc");
  if (!dir) return pids;
  while (dirent* entry = ::readdir(dir)) {
    auto n = parse_u64(entry->d_name);
    if (n && *n > 0 && *n <= INT_MAX) pids.push_back(static_cast<pid_t>(*n));
  }
  ::closedir(dir);
  return pids;
}

std::vector<ProcessRef> in_namespace(const std::string& ns) {
  std::vector<ProcessRef> found;
  for (pid_t pid : all_pids()) {
    // Processes we may not inspect (EACCES) are not ours, so not the container's.
    if (pid_namespace_of(pid) != ns) continue;
    if (auto stat = read_proc_stat(pid)) found.push_back({pid, stat->start_time});
  }
  return found;
}

std::vector<ProcessRef> descendants(pid_t init_pid) {
  std::multimap<pid_t, ProcessRef> children;
  std::optional<ProcessRef> init;
  for (pid_t pid : all_pids()) {
    auto stat = read_proc_stat(pid);
    if (!stat) continue;
    if (pid == init_pid) init = ProcessRef{pid, stat->start_time};
    else children.emplace(stat->ppid, ProcessRef{pid, stat->start_time});
  }
  std::vector<ProcessRef> found;
  if (!init) return found;
  found.push_back(*init);
  for (size_t i = 0; i < found.size(); ++i) {
    auto [begin, end] = children.equal_range(found[i].pid);
    for (auto it = begin; it != end; ++it) found.push_back(it->second);
  }
  return found;
}

int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  size_t paren = text.rfind(')');
  if (paren == std::string_view::npos || paren + 2 >= text.size()) return std::nullopt;
  // Fields after the command: 3=state 4=ppid ... 22=starttime.
  auto fields = split(trim(text.substr(paren + 2)), ' ');
  if (fields.size() < 20 || fields[0].size() != 1) return std::nullopt;
  auto ppid = parse_i64(fields[1]);
  auto start = parse_u64(fields[19]);
  if (!ppid || !start) return std::nullopt;
  return ProcStat{static_cast<pid_t>(*ppid), fields[0][0], *start};
}

Result<std::vector<ProcessRef>> container_processes(pid_t init_pid) {
  std::string init_ns = pid_namespace_of(init_pid);
  if (init_ns.empty()) return make_error("container init " + std::to_string(init_pid) + " is gone", ESRCH);
  std::vector<ProcessRef> found =
      init_ns != pid_namespace_of(::getpid()) ? in_namespace(init_ns) : descendants(init_pid);
  std::sort(found.begin(), found.end(), [](const ProcessRef& a, const ProcessRef& b) { return a.pid < b.pid; });
  return found;
}

Status signal_container(const ContainerState& state, int init_pidfd, int signal, bool all) {
  if (all) {
    TRY_ASSIGN(processes, container_processes(state.pid));
    for (const auto& p : processes) {
      if (p.pid == state.pid) continue;
      UniqueFd pidfd(open_pidfd(p.pid));
      if (!pidfd) continue;  // exited meanwhile
      auto stat = read_proc_stat(p.pid);
      if (!stat || stat->start_time != p.start_time) continue;  // reused pid: not ours
      // A process exiting right now is not an error.
      (void)::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0);
    }
  }
  if (::syscall(SYS_pidfd_send_signal, init_pidfd, signal, nullptr, 0) != 0) {
    if (errno == ESRCH) return make_error("container not running", ESRCH);
    return sys_error("signal container init " + std::to_string(state.pid));
  }
  return {};
}

}  // namespace ctr::cli
