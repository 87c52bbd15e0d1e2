// The foreground half of `ctr run` / `ctr start -a` / `ctr attach` (and the
// terminal and signal plumbing `ctr exec` shares): attach to the shim, start
// a created container once connected (so no output is missed), relay stdio
// until it exits or the detach keys are typed, and forward the signals ctr
// receives to the container meanwhile (podman's --sig-proxy).
#pragma once

#include <sys/types.h>
#include <termios.h>

#include <functional>
#include <string>
#include <thread>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "runtime/base/unique_fd.h"

namespace ctr::cmd {

struct ForegroundOptions {
  bool interactive = false;              // send our stdin
  std::string detach_keys = "\x10\x11";  // bytes (detach_key_bytes); "" never detaches
  bool sig_proxy = true;                 // forward signals to the container
};

// Returns the container's exit status (0 when detached), or 125 after
// printing the error. `container_pid`: the created container's pid to start
// (0 when it is already running).
int attach_foreground(const ContainerRecord& record, pid_t container_pid, const ForegroundOptions& options);

// Raw mode on a terminal for the attach's duration (the container's pty
// does the line editing and ^C), restored however we leave.
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_ = -1;
  termios saved_{};
};

// While alive, the signals a user or a supervisor sends to ctr (INT, TERM,
// HUP, QUIT, USR1, USR2, ALRM, real-time ones...) are caught and handed to
// `forward` on a thread of their own (forwarding forks a runtime, which a
// signal handler must not do). Faults, job control, SIGCHLD, SIGPIPE and
// SIGWINCH keep their default handling.
class SignalProxy {
 public:
  explicit SignalProxy(std::function<void(int)> forward);
  ~SignalProxy();
  SignalProxy(const SignalProxy&) = delete;
  SignalProxy& operator=(const SignalProxy&) = delete;
  // The signals that are forwarded (for tests and docs).
  static bool forwards(int signal);

 private:
  std::function<void(int)> forward_;
  UniqueFd read_, write_;
  std::thread thread_;
};

}  // namespace ctr::cmd
