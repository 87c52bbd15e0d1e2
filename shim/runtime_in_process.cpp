#include "shim/runtime_in_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "runtime/cli/command.h"

namespace ctr::shim {

bool is_builtin_runtime(const std::string& runtime) {
  if (std::getenv("CTR_SHIM_EXEC_RUNTIME")) return false;  // for comparing both ways
  auto slash = runtime.rfind('/');
  return runtime.substr(slash == std::string::npos ? 0 : slash + 1) == "ctr-runtime";
}

Result<ExitStatus> run_builtin_runtime(const std::vector<std::string>& argv, const SpawnOptions& spawn,
                                       std::chrono::milliseconds timeout) {
  // Everything the child needs is made before the fork (the shim is single
  // threaded, so the child may allocate; this only keeps it simple).
  std::vector<std::string> copy = argv;
  std::vector<char*> cargv;
  for (auto& arg : copy) cargv.push_back(arg.data());
  cargv.push_back(nullptr);
  std::fflush(nullptr);  // nothing of ours may be written twice by the child
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork the OCI runtime");
  if (pid == 0) {
    // What posix_spawn + exec would give the runtime: an empty signal mask
    // (the shim blocks the signals it reads from its signalfd), handlers
    // reset (the shim has none; SIG_IGN survives exec too), the given stdio,
    // and none of the shim's fds (all of them are close-on-exec).
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int fds[3] = {spawn.stdin_fd, spawn.stdout_fd, spawn.stderr_fd};
    for (int target = 0; target < 3; ++target) {
      if (fds[target] >= 0 && fds[target] != target && ::dup2(fds[target], target) < 0) ::_exit(126);
    }
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    (void)::prctl(PR_SET_NAME, "ctr-runtime");
    int code = cli::run_main(static_cast<int>(copy.size()), cargv.data(), cli::all_commands());
    std::fflush(nullptr);
    ::_exit(code);
  }
  TRY_ASSIGN(child, ChildProcess::adopt(pid));
  return child.wait(timeout);
}

}  // namespace ctr::shim
