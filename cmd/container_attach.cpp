#include "cmd/container_attach.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <map>

#include "cmd/container_launch.h"
#include "shim/client.h"

namespace ctr::cmd {
namespace {

// The write end of the live SignalProxy's pipe (one proxy at a time).
std::atomic<int> g_proxy_pipe{-1};
std::map<int, struct sigaction> g_saved_actions;

void on_proxied_signal(int signal) {
  int saved_errno = errno;
  int fd = g_proxy_pipe.load();
  unsigned char byte = static_cast<unsigned char>(signal);
  if (fd >= 0) (void)!::write(fd, &byte, 1);
  errno = saved_errno;
}

}  // namespace

RawTerminal::RawTerminal(int fd) {
  if (::isatty(fd) != 1 || ::tcgetattr(fd, &saved_) != 0) return;
  termios raw = saved_;
  ::cfmakeraw(&raw);
  raw.c_oflag |= OPOST;  // keep \n -> \r\n for our own messages
  if (::tcsetattr(fd, TCSANOW, &raw) == 0) fd_ = fd;
}

RawTerminal::~RawTerminal() {
  if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
}

bool SignalProxy::forwards(int signal) {
  switch (signal) {
    // Uncatchable, synchronous faults, the ones ctr needs itself (children,
    // broken pipes, window size) and job control of ctr's own terminal.
    case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGABRT: case SIGTRAP:
    case SIGSYS: case SIGCHLD: case SIGPIPE: case SIGWINCH: case SIGURG: case SIGTSTP: case SIGTTIN: case SIGTTOU:
    case SIGCONT:
      return false;
    default:
      return signal >= 1 && signal <= SIGRTMAX && (signal < 32 || signal >= SIGRTMIN);
  }
}

SignalProxy::SignalProxy(std::function<void(int)> forward) : forward_(std::move(forward)) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  read_.reset(fds[0]);
  write_.reset(fds[1]);
  (void)::fcntl(write_.get(), F_SETFL, O_NONBLOCK);  // a full pipe drops a signal rather than block the handler
  // The thread starts with every signal blocked, so handlers run elsewhere.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &old);
  thread_ = std::thread([this] {
    for (;;) {
      unsigned char byte = 0;
      ssize_t n = ::read(read_.get(), &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 0) return;
      if (forward_) forward_(byte);
    }
  });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  g_proxy_pipe = write_.get();
  struct sigaction action {};
  action.sa_handler = on_proxied_signal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int sig = 1; sig <= SIGRTMAX; ++sig) {
    if (!forwards(sig)) continue;
    struct sigaction old_action {};
    if (::sigaction(sig, &action, &old_action) == 0) g_saved_actions[sig] = old_action;
  }
}

SignalProxy::~SignalProxy() {
  for (const auto& [sig, action] : g_saved_actions) ::sigaction(sig, &action, nullptr);
  g_saved_actions.clear();
  g_proxy_pipe = -1;
  if (thread_.joinable()) {
    unsigned char stop = 0;
    (void)!::write(write_.get(), &stop, 1);
    thread_.join();
  }
}

int attach_foreground(const ContainerRecord& record, pid_t container_pid, const ForegroundOptions& foreground) {
  shim::AttachOptions options;
  options.stdin_fd = foreground.interactive ? STDIN_FILENO : -1;
  options.detach_keys = foreground.detach_keys;
  bool terminal = record.tty && ::isatty(STDIN_FILENO) == 1;
  if (terminal) options.terminal_fd = STDIN_FILENO;
  if (container_pid > 0) options.on_connected = [&] { return start_created(record); };
  std::optional<SignalProxy> proxy;
  if (foreground.sig_proxy) proxy.emplace([&record](int signal) { (void)signal_container(record, signal); });
  std::optional<RawTerminal> raw;
  if (terminal && foreground.interactive) raw.emplace(STDIN_FILENO);
  auto result = shim::attach(shim_state_dir(record.id), options);
  raw.reset();
  proxy.reset();
  if (!result) {
    // Do not leave a created container waiting for a start that never came.
    if (container_pid > 0) (void)signal_container(record, SIGKILL);
    return fail(result.error());
  }
  for (const auto& message : result->messages) warn(message);
  if (result->end == shim::AttachEnd::detached) {
    std::cerr << "\nDetached from container " << record.name << std::endl;
    return 0;
  }
  if (!result->exit)
    return fail("lost the connection to the shim of container " + record.name + " before it reported an exit status");
  return result->exit->exit_code;
}

}  // namespace ctr::cmd
