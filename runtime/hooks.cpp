// OCI hooks: spawn each hook with the container state on stdin, capture its
// stderr for the error message, and kill it when its timeout expires.
#include "runtime/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include "runtime/base/child_process.h"
#include "runtime/base/strings.h"

namespace ctr {
namespace {

using Clock = std::chrono::steady_clock;

// How much of a failing hook's stderr goes into the error message: enough
// for the last lines, which usually say what went wrong.
constexpr size_t k_stderr_in_message = 1024;
constexpr size_t k_stderr_kept = 8 * k_stderr_in_message;

// Writing the state to a hook that exits without reading its stdin raises
// SIGPIPE, which would kill us. Block it in this thread (not process-wide:
// other threads keep their disposition) and swallow the one we caused.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;
  ~SigpipeGuard() {
    if (raised_ && !was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_set_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  void note_epipe() { raised_ = true; }

 private:
  sigset_t pipe_set_{};
  sigset_t old_mask_{};
  bool was_pending_ = false;
  bool raised_ = false;
};

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
  return std::pair<UniqueFd, UniqueFd>(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

Status set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return sys_error("fcntl O_NONBLOCK");
  return {};
}

// Our ends of a running hook's stdin and stderr.
struct HookIo {
  UniqueFd stdin_write;
  UniqueFd stderr_read;
  std::string_view pending_input;
  std::string errors;

  void write_some(SigpipeGuard& guard) {
    ssize_t n = ::write(stdin_write.get(), pending_input.data(), pending_input.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n < 0) {
      // EPIPE: the hook does not read its stdin, which is its business.
      if (errno == EPIPE) guard.note_epipe();
      pending_input = {};
    } else {
      pending_input.remove_prefix(static_cast<size_t>(n));
    }
    if (pending_input.empty()) stdin_write.reset();  // EOF for the hook
  }

  // Reads what is available; false once the pipe is at EOF (or broken).
  bool read_some() {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(stderr_read.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      if (n <= 0) {
        stderr_read.reset();
        return false;
      }
      errors.append(buf, static_cast<size_t>(n));
      if (errors.size() > k_stderr_kept) errors.erase(0, errors.size() - k_stderr_kept / 2);
    }
  }
};

// Feeds stdin and collects stderr until the hook exits or the deadline passes.
// Returns false on timeout.
Result<bool> pump_until_exit(const ChildProcess& child, HookIo& io, std::optional<Clock::time_point> deadline) {
  SigpipeGuard guard;
  for (;;) {
    pollfd fds[3] = {{child.pidfd(), POLLIN, 0}, {io.stderr_read.get(), POLLIN, 0}, {io.stdin_write.get(), POLLOUT, 0}};
    int timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return false;
      timeout_ms = static_cast<int>(left) + 1;  // round up: never wake just before the deadline
    }
    int n = ::poll(fds, 3, timeout_ms);  // poll ignores the entries whose fd is -1
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("poll");
    if (n == 0) continue;  // the deadline check above decides
    if (fds[2].revents) io.write_some(guard);
    if (fds[1].revents) io.read_some();
    if (fds[0].revents) return true;
  }
}

// The end of the hook's stderr, trimmed, for the error message.
std::string stderr_excerpt(const std::string& errors) {
  std::string_view text = trim(errors);
  if (text.size() <= k_stderr_in_message) return std::string(text);
  text = text.substr(text.size() - k_stderr_in_message);
  // Do not start in the middle of a UTF-8 sequence.
  while (!text.empty() && (static_cast<unsigned char>(text.front()) & 0xC0) == 0x80) text.remove_prefix(1);
  return "..." + std::string(text);
}

Status run_hook(const spec::Hook& hook, const std::string& state_json) {
  TRY_ASSIGN(stdin_pipe, make_pipe());
  TRY_ASSIGN(stderr_pipe, make_pipe());
  TRY(set_nonblocking(stdin_pipe.second.get()));
  TRY(set_nonblocking(stderr_pipe.first.get()));

  SpawnOptions options;
  options.executable = hook.path;
  options.env = hook.env;
  options.inherit_env = false;  // the spec's env is the whole environment, even when empty
  options.stdin_fd = stdin_pipe.first.get();
  options.stderr_fd = stderr_pipe.second.get();
  std::vector<std::string> argv = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  TRY_ASSIGN(child, spawn_process(argv, options));
  stdin_pipe.first.reset();  // only the hook holds these ends now, so EOF and EPIPE work
  stderr_pipe.second.reset();

  HookIo io{std::move(stdin_pipe.second), std::move(stderr_pipe.first), state_json, {}};
  if (io.pending_input.empty()) io.stdin_write.reset();
  std::optional<Clock::time_point> deadline;
  if (hook.timeout && *hook.timeout > 0) deadline = Clock::now() + std::chrono::seconds(*hook.timeout);

  TRY_ASSIGN(exited, pump_until_exit(child, io, deadline));
  // Fails only if it exited at the deadline after all; wait() tells.
  if (!exited) (void)child.kill(SIGKILL);
  TRY_ASSIGN(status, child.wait());
  // Only what is already there: a background child of the hook may keep the
  // pipe open for ever.
  if (io.stderr_read) io.read_some();

  std::string excerpt = stderr_excerpt(io.errors);
  std::string suffix = excerpt.empty() ? "" : ": " + excerpt;
  if (!exited) return make_error("timed out after " + std::to_string(*hook.timeout) + "s" + suffix, ETIMEDOUT);
  if (status.code != 0 || status.signal != 0) return make_error(status.describe() + suffix);
  return {};
}

}  // namespace

Status run_hooks(const std::vector<spec::Hook>& hooks, const char* kind, const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    TRY_CTX(run_hook(hooks[i], state_json),
            std::string(kind) + " hook #" + std::to_string(i) + " (" + hooks[i].path + ")");
  }
  return {};
}

}  // namespace ctr
