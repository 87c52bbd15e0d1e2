#include "runtime/cli/foreground.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <thread>

#include "runtime/base/unique_fd.h"
#include "runtime/cli/log.h"
#include "runtime/cli/signals.h"
#include "runtime/console.h"

namespace ctr::cli {

namespace {

void forward_pending(int signal_fd, const ChildProcess& child) {
  signalfd_siginfo info;
  while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    // Fails only once the process has exited; the pidfd poll notices that.
    (void)child.kill(static_cast<int>(info.ssi_signo));
  }
}

// Poll both the signalfd and the child's pidfd: no SIGCHLD handler, no race
// between "a signal came" and "the child is gone".
void forward_until_exit(int signal_fd, const ChildProcess& child) {
  pollfd fds[2] = {{signal_fd, POLLIN, 0}, {child.pidfd(), POLLIN, 0}};
  for (;;) {
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log_debug("poll while forwarding signals failed; waiting without forwarding");
      return;
    }
    if (fds[0].revents & POLLIN) forward_pending(signal_fd, child);
    if (fds[1].revents) return;
  }
}

}  // namespace

Result<ExitStatus> wait_in_foreground(ChildProcess& child, int pty_master) {
  bool relaying = pty_master >= 0;
  sigset_t forwarded = forwarded_signals(relaying);
  // SIGWINCH is blocked here too but left to the relay: a process-directed
  // SIGWINCH must not land on this thread, where it would be ignored.
  sigset_t blocked = forwarded;
  if (relaying) sigaddset(&blocked, SIGWINCH);
  sigset_t old_mask;
  ::pthread_sigmask(SIG_BLOCK, &blocked, &old_mask);
  UniqueFd signal_fd(::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) {
    auto err = sys_error("signalfd");
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    return err;
  }
  std::thread relay;
  Status relay_status;
  if (relaying) relay = std::thread([&relay_status, pty_master] { relay_status = relay_pty(pty_master); });

  forward_until_exit(signal_fd.get(), child);
  auto status = child.wait();
  // The relay ends when the pty hangs up, i.e. once every process holding
  // its other end is gone; the output written before that is not lost.
  if (relay.joinable()) relay.join();
  if (!relay_status) log_debug("terminal relay: " + relay_status.error().message);
  // Signals that came after the exit were meant for the container: drop
  // them rather than act on them ourselves once unblocked.
  signalfd_siginfo info;
  while (::read(signal_fd.get(), &info, sizeof info) > 0) {
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return status;
}

}  // namespace ctr::cli
