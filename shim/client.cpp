#include "shim/client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::shim {

namespace {

constexpr int kSyncFd = 3;

std::string path_in(const std::string& dir, const char* name) {
  return dir + "/" + name;
}

void add(std::vector<std::string>& argv, const char* flag, const std::string& value) {
  if (value.empty()) return;
  argv.push_back(flag);
  argv.push_back(value);
}

// posix_spawn of the shim with the sync pipe's write end as fd 3.
Result<ChildProcess> start_shim(const SpawnShimOptions& options, int sync_write) {
  std::vector<std::string> args{options.shim_binary};
  ShimOptions shim = options.shim;
  shim.sync_fd = kSyncFd;
  for (auto& arg : shim_arguments(shim)) args.push_back(std::move(arg));
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  TRY_ASSIGN(null_fd, open_fd("/dev/null", O_RDWR));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int stdio[3] = {options.stdin_fd, options.stdout_fd, options.stderr_fd};
  for (int fd = 0; fd < 3; ++fd)
    posix_spawn_file_actions_adddup2(&actions, stdio[fd] >= 0 ? stdio[fd] : null_fd.get(), fd);
  posix_spawn_file_actions_adddup2(&actions, sync_write, kSyncFd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, options.shim_binary.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return sys_error("run the shim `" + options.shim_binary + "`", rc);
  return ChildProcess::adopt(pid);
}

// Everything the shim writes before it closes the pipe (one line).
Result<std::string> read_sync(int fd, std::chrono::milliseconds timeout) {
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd, POLLIN, 0};
    int n = left.count() > 0 ? ::poll(&pfd, 1, static_cast<int>(left.count())) : 0;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return make_error("the shim did not report within " + std::to_string(timeout.count()) + " ms", ETIMEDOUT);
    char buffer[4096];
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return text;
    text.append(buffer, static_cast<size_t>(got));
    if (text.find('\n') != std::string::npos) return text;
  }
}

}  // namespace

std::vector<std::string> shim_arguments(const ShimOptions& o) {
  std::vector<std::string> argv;
  add(argv, "--id", o.id);
  add(argv, "--bundle", o.bundle);
  add(argv, "--state-dir", o.state_dir);
  add(argv, "--runtime", o.runtime);
  for (const auto& arg : o.runtime_args) add(argv, "--runtime-arg", arg);
  add(argv, "--log-driver", log_driver_name(o.log_driver));
  add(argv, "--log-path", o.log_path);
  if (o.log_max_size) add(argv, "--log-max-size", std::to_string(o.log_max_size));
  if (o.log_max_files != 1) add(argv, "--log-max-files", std::to_string(o.log_max_files));
  if (o.terminal) argv.push_back("--terminal");
  if (o.stdin) argv.push_back("--stdin");
  if (o.start) argv.push_back("--start");
  if (o.sync_fd >= 0) add(argv, "--sync-fd", std::to_string(o.sync_fd));
  if (o.timeout) add(argv, "--timeout", std::to_string(o.timeout));
  add(argv, "--exit-command", o.exit_command);
  for (const auto& arg : o.exit_args) add(argv, "--exit-arg", arg);
  if (!o.notify_socket.empty()) add(argv, "--notify-socket", o.notify_socket);
  if (o.notify_main_pid) argv.push_back("--notify-main-pid");
  add(argv, "--network-helper", o.network_helper);
  add(argv, "--network-helper-bin", o.network_helper_bin);
  for (const auto& arg : o.network_helper_args) add(argv, "--network-helper-arg", arg);
  for (const auto& spec : o.publish) add(argv, "--publish", spec);
  add(argv, "--port-handler", o.port_handler);
  if (o.exec) argv.push_back("--exec");
  add(argv, "--exec-id", o.exec_id);
  add(argv, "--process", o.process_json);
  return argv;
}

Result<CreateResult> spawn_shim(const SpawnShimOptions& options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd sync_read(fds[0]), sync_write(fds[1]);
  TRY_ASSIGN(shim, start_shim(options, sync_write.get()));
  sync_write.reset();  // EOF on the read end once every shim process let go of it
  // The first shim process forks and exits at once; reap it now.
  auto first = shim.wait(std::chrono::milliseconds(30000));
  if (!first) return std::move(first).error().context("wait for the shim");
  auto report = read_create_report(sync_read.get(), options.timeout);
  if (!report) return std::move(report).error().context("shim for `" + options.shim.id + "`");
  if (!*report) {
    return make_error("the shim for `" + options.shim.id +
                          "` exited without reporting whether the container was created (" + first->describe() + ")",
                      EPROTO);
  }
  return **report;
}

Result<std::optional<CreateResult>> read_create_report(int fd, std::chrono::milliseconds timeout) {
  TRY_ASSIGN(text, read_sync(fd, timeout));
  if (trim(text).empty()) return std::optional<CreateResult>();
  TRY_ASSIGN(report, parse_sync_report(trim(text)));
  return std::optional<CreateResult>(CreateResult{report.pid, report.error, report.exit_code});
}

const char* container_state_name(ContainerState state) {
  switch (state) {
    case ContainerState::running:
      return "running";
    case ContainerState::exited:
      return "exited";
    case ContainerState::exited_unknown:
      return "exited (unknown status)";
  }
  return "?";
}

namespace {

// exit.json, when it is there (an error when it is there but unreadable).
Result<std::optional<ExitRecord>> read_exit(const std::string& state_dir) {
  auto text = read_file(path_in(state_dir, kExitFile));
  if (!text) {
    if (text.error().code == ENOENT) return std::optional<ExitRecord>();
    return std::move(text).error();
  }
  TRY_ASSIGN(record, parse_exit_record(*text));
  return std::optional<ExitRecord>(std::move(record));
}

pid_t read_pid(const std::string& path) {
  auto text = read_file(path);
  auto pid = text ? parse_u64(trim(*text)) : std::nullopt;
  return pid && *pid <= INT32_MAX ? static_cast<pid_t>(*pid) : 0;
}

}  // namespace

Result<ContainerStatus> read_container_status(const std::string& state_dir) {
  ContainerStatus status;
  status.pid = read_pid(path_in(state_dir, kContainerPidFile));
  TRY_ASSIGN(exit, read_exit(state_dir));
  if (exit) {
    status.state = ContainerState::exited;
    status.exit = std::move(exit);
    return status;
  }
  auto shim_text = read_file(path_in(state_dir, kShimPidFile));
  if (!shim_text) return std::move(shim_text).error().context("no shim state in `" + state_dir + "`");
  TRY_ASSIGN(shim, parse_identity(*shim_text));
  status.shim_pid = shim.pid;
  if (identity_alive(shim)) {
    status.state = ContainerState::running;
    return status;
  }
  // The shim may have written exit.json just before it exited.
  TRY_ASSIGN(late_exit, read_exit(state_dir));
  status.state = late_exit ? ContainerState::exited : ContainerState::exited_unknown;
  status.exit = std::move(late_exit);
  return status;
}

Result<ContainerStatus> wait_container(const std::string& state_dir, std::chrono::milliseconds timeout) {
  UniqueFd watch(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!watch) return sys_error("inotify");
  if (::inotify_add_watch(watch.get(), state_dir.c_str(), IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE) < 0)
    return sys_error("watch `" + state_dir + "`");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  UniqueFd shim_pidfd;
  pid_t watched_shim = 0;
  for (;;) {
    TRY_ASSIGN(status, read_container_status(state_dir));
    if (status.state != ContainerState::running) return status;
    // Another shim (a --restart relaunch): the caller decides what that means.
    if (watched_shim != 0 && status.shim_pid != watched_shim) return status;
    if (!shim_pidfd) {
      shim_pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, status.shim_pid, 0)));
      watched_shim = status.shim_pid;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return status;
    pollfd pfds[2] = {{watch.get(), POLLIN, 0}, {shim_pidfd.get(), POLLIN, 0}};
    if (::poll(pfds, shim_pidfd ? 2 : 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
      return sys_error("poll");
    char events[4096];
    while (::read(watch.get(), events, sizeof events) > 0) {
    }
  }
}

}  // namespace ctr::shim
