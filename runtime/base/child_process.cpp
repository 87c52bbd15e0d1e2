#include "runtime/base/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "runtime/base/files.h"

extern char** environ;

namespace ctr {

std::string ExitStatus::describe() const {
  if (timed_out) return "timed out";
  if (signal) return std::string("killed by signal ") + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exited with status " + std::to_string(code);
}

static int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

Result<ChildProcess> ChildProcess::adopt(pid_t pid, int pidfd) {
  ChildProcess child;
  child.pid_ = pid;
  child.pidfd_.reset(pidfd >= 0 ? pidfd : open_pidfd(pid));
  if (!child.pidfd_) {
    auto err = sys_error("pidfd_open " + std::to_string(pid));
    child.release();
    return err;
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    (void)kill(SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

pid_t ChildProcess::release() {
  pidfd_.reset();
  return std::exchange(pid_, -1);
}

Status ChildProcess::kill(int signal) const {
  if (pid_ <= 0) return make_error("no child process", ESRCH);
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), signal, nullptr, 0) != 0)
    return sys_error("signal process " + std::to_string(pid_));
  return {};
}

Result<ExitStatus> ChildProcess::wait(std::optional<std::chrono::milliseconds> timeout) {
  if (pid_ <= 0) return make_error("no child process to wait for", ECHILD);
  ExitStatus result;
  if (timeout) {
    auto deadline = std::chrono::steady_clock::now() + *timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd pfd{pidfd_.get(), POLLIN, 0};
      int n = ::poll(&pfd, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("poll pidfd");
      if (n > 0) break;
      result.timed_out = true;
      (void)kill(SIGKILL);
      break;
    }
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return sys_error("waitpid " + std::to_string(pid_));
  }
  pid_ = -1;
  pidfd_.reset();
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  else result.code = WEXITSTATUS(status);
  return result;
}

namespace {
struct CStrings {
  std::vector<char*> ptrs;
  explicit CStrings(const std::vector<std::string>& strings) {
    for (const auto& s : strings) ptrs.push_back(const_cast<char*>(s.c_str()));
    ptrs.push_back(nullptr);
  }
};
}  // namespace

Result<ChildProcess> spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return make_error("spawn: empty command", EINVAL);
  int pipe_fds[2] = {-1, -1};
  if (options.stdin_data && ::pipe2(pipe_fds, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd stdin_read(pipe_fds[0]), stdin_write(pipe_fds[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_read) posix_spawn_file_actions_adddup2(&actions, stdin_read.get(), 0);
  else if (options.stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, options.stdin_fd, 0);
  if (options.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, options.stdout_fd, 1);
  if (options.stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, options.stderr_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

  CStrings args(argv), env(options.env);
  char** envp = options.inherit_env && options.env.empty() ? environ : env.ptrs.data();
  pid_t pid = -1;
  const std::string& program = options.executable.empty() ? argv[0] : options.executable;
  bool search = options.executable.empty() && argv[0].find('/') == std::string::npos;
  int rc = search ? ::posix_spawnp(&pid, program.c_str(), &actions, &attr, args.ptrs.data(), envp)
                  : ::posix_spawn(&pid, program.c_str(), &actions, &attr, args.ptrs.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return sys_error("run `" + program + "`", rc);
  stdin_read.reset();
  TRY_ASSIGN(child, ChildProcess::adopt(pid));
  if (options.stdin_data) {
    // A child that exits without reading its stdin is not our error.
    sighandler_t old = ::signal(SIGPIPE, SIG_IGN);
    (void)write_all(stdin_write.get(), *options.stdin_data);
    ::signal(SIGPIPE, old);
  }
  return child;
}

Result<ExitStatus> run_process(const std::vector<std::string>& argv, const SpawnOptions& options,
                               std::optional<std::chrono::milliseconds> timeout) {
  TRY_ASSIGN(child, spawn_process(argv, options));
  return child.wait(timeout);
}

}  // namespace ctr
