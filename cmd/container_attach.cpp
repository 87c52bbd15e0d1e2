#include "cmd/container_attach.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "cmd/container_launch.h"
#include "shim/client.h"

namespace ctr::cmd {
namespace {

// Raw mode on a terminal for the attach's duration (the container's pty
// does the line editing and ^C), restored however we leave.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) {
    if (::isatty(fd) != 1 || ::tcgetattr(fd, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    raw.c_oflag |= OPOST;  // keep \n -> \r\n for our own messages
    if (::tcsetattr(fd, TCSANOW, &raw) == 0) fd_ = fd;
  }
  ~RawTerminal() {
    if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_ = -1;
  termios saved_{};
};

}  // namespace

int attach_foreground(const ContainerRecord& record, pid_t container_pid, bool interactive) {
  shim::AttachOptions options;
  options.stdin_fd = interactive ? STDIN_FILENO : -1;
  bool terminal = record.tty && ::isatty(STDIN_FILENO) == 1;
  if (terminal) options.terminal_fd = STDIN_FILENO;
  if (container_pid > 0) options.on_connected = [&] { return start_created(record); };
  std::optional<RawTerminal> raw;
  if (terminal && interactive) raw.emplace(STDIN_FILENO);
  auto result = shim::attach(shim_state_dir(record.id), options);
  raw.reset();
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
