#include "tests/integration/runtime_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "runtime/base/files.h"
#include "tests/integration/test_env.h"

extern char** environ;

namespace ctr::itest {

std::string RunResult::describe() const {
  std::string text = timed_out ? "timed out" : "exit code " + std::to_string(exit_code);
  if (!out.empty()) text += "\n--- stdout ---\n" + out;
  if (!err.empty()) text += "\n--- stderr ---\n" + err;
  return text;
}

Capture::Capture() : fd_(::memfd_create("ctr-itest-capture", MFD_CLOEXEC)) {}

std::string Capture::read() const {
  std::string text;
  char buffer[8192];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd_.get(), buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
  return text;
}

RuntimeProcess::~RuntimeProcess() {
  if (child_.pid() > 0 && !finished_) (void)finish();
}

RunResult RuntimeProcess::finish() {
  if (finished_ || child_.pid() <= 0) return result_;
  pid_t pid = child_.pid();
  auto left =
      timeout_ - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_at_);
  auto status = child_.wait(std::max(left, std::chrono::milliseconds(1)));
  untrack_child(pid);
  finished_ = true;
  result_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  if (!status) {
    result_.err = status.error().message;
    return result_;
  }
  result_.timed_out = status->timed_out;
  result_.exit_code = status->shell_code();
  if (out_) result_.out = out_->read();
  if (err_) result_.err = err_->read();
  if (result_.timed_out)
    result_.err += "\n[ctr-itest: the runtime was killed after " + std::to_string(timeout_.count()) + " ms]";
  return result_;
}

Runtime::Runtime(std::string binary, std::string root, std::vector<std::string> env)
    : binary_(std::move(binary)), root_(std::move(root)), env_(std::move(env)) {}

RunResult Runtime::operator()(const std::vector<std::string>& args, const RunOptions& options) const {
  return start(args, options).finish();
}

namespace {

std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    std::string kv = *entry;
    std::string key = kv.substr(0, kv.find('='));
    bool overridden = false;
    for (const auto& e : extra) overridden |= e.substr(0, e.find('=')) == key;
    if (!overridden) env.push_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> ptrs;
  for (const auto& s : strings) ptrs.push_back(const_cast<char*>(s.c_str()));
  ptrs.push_back(nullptr);
  return ptrs;
}

}  // namespace

RuntimeProcess Runtime::start(const std::vector<std::string>& args, const RunOptions& options) const {
  enable_subreaper();
  RuntimeProcess process;
  process.timeout_ = options.timeout;
  std::vector<std::string> argv = {binary_, "--root", root_};
  argv.insert(argv.end(), args.begin(), args.end());

  int pipe_fds[2] = {-1, -1};
  if (options.stdin_data && ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    process.result_.err = std::string("pipe: ") + std::strerror(errno);
    return process;
  }
  UniqueFd stdin_read(pipe_fds[0]), stdin_write(pipe_fds[1]);
  if (!stdin_read) stdin_read.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int out_fd = options.stdout_fd, err_fd = options.stderr_fd;
  if (out_fd < 0) out_fd = process.out_.emplace().fd();
  if (err_fd < 0) err_fd = process.err_.emplace().fd();

  // Every source fd is first moved above the target range, so a dup2 onto
  // 0..2+N never clobbers a source that is still to be duplicated.
  std::vector<UniqueFd> high;
  auto lift = [&high](int fd) {
    high.emplace_back(::fcntl(fd, F_DUPFD_CLOEXEC, 100));
    return high.back().get();
  };
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, lift(stdin_read.get()), 0);
  posix_spawn_file_actions_adddup2(&actions, lift(out_fd), 1);
  posix_spawn_file_actions_adddup2(&actions, lift(err_fd), 2);
  for (size_t i = 0; i < options.extra_fds.size(); ++i)
    posix_spawn_file_actions_adddup2(&actions, lift(options.extra_fds[i]), static_cast<int>(3 + i));
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  auto env = merged_environment(env_);
  auto argv_c = c_strings(argv), env_c = c_strings(env);
  pid_t pid = -1;
  process.started_at_ = std::chrono::steady_clock::now();
  auto lock = spawn_lock();  // the reaper must not take this child before it is tracked
  int rc = ::posix_spawn(&pid, binary_.c_str(), &actions, &attr, argv_c.data(), env_c.data());
  if (rc == 0) track_child(pid);
  lock.unlock();
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    process.result_.err = "cannot run `" + binary_ + "`: " + std::strerror(rc);
    return process;
  }
  auto child = ChildProcess::adopt(pid);
  if (!child) {
    untrack_child(pid);
    process.result_.err = child.error().message;
    return process;
  }
  process.child_ = std::move(child).value();
  stdin_read.reset();
  if (options.stdin_data) {
    // A runtime that exits without reading its stdin is not the harness's error.
    sighandler_t old = ::signal(SIGPIPE, SIG_IGN);
    (void)write_all(stdin_write.get(), *options.stdin_data);
    ::signal(SIGPIPE, old);
  }
  return process;
}

}  // namespace ctr::itest
