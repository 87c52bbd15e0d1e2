// ChildProcess: a child pid and its pidfd; killed and reaped in the
// destructor unless waited for or released, so no zombie is left behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr {

struct ExitStatus {
  int code = 0;    // exit code when exited normally
  int signal = 0;  // terminating signal, 0 when exited normally
  bool timed_out = false;
  // Shell convention: code, or 128 + signal.
  int shell_code() const { return signal ? 128 + signal : code; }
  std::string describe() const;
};

class ChildProcess {
 public:
  ChildProcess() = default;
  // Takes ownership of a child pid (and its pidfd, opened here if not given).
  static Result<ChildProcess> adopt(pid_t pid, int pidfd = -1);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  // Waits for the child; with a timeout, kills it (SIGKILL) when it expires.
  Result<ExitStatus> wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  Status kill(int signal) const;
  // Forgets the child without reaping it (it outlives us, e.g. a container init).
  pid_t release();

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
};

struct SpawnOptions {
  std::vector<std::string> env;  // empty: inherit the caller's environment
  bool inherit_env = true;       // false: exactly `env`, even when empty
  std::optional<std::string> stdin_data;  // fed to the child's stdin, then closed
  int stdin_fd = -1;                      // -1: inherit (ignored with stdin_data)
  int stdout_fd = -1;                     // -1: inherit
  int stderr_fd = -1;
  // The program to run when it differs from argv[0] (OCI hooks: `path` runs
  // with `args[0]` as its argv[0]). Absolute or relative: no PATH search.
  std::string executable;
};

// posix_spawn()s argv[0] (absolute, or searched in PATH when it has no '/').
Result<ChildProcess> spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options = {});
// Runs argv to completion and returns how it ended.
Result<ExitStatus> run_process(const std::vector<std::string>& argv, const SpawnOptions& options = {},
                               std::optional<std::chrono::milliseconds> timeout = std::nullopt);

}  // namespace ctr
