// Terminals: passing a pty master over a unix socket (SCM_RIGHTS), the way
// runc/crun --console-socket do, and relaying a pty to our own stdio for a
// foreground `run` with process.terminal and no console socket.
#pragma once

#include <string>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr {

// `name` travels as the payload (runc sends the pty's name); an empty name is
// sent as one NUL byte because a stream socket drops ancillary data that
// rides on zero bytes.
Status send_fd(int socket_fd, int fd_to_send, const std::string& name = "");
Result<UniqueFd> receive_fd(int socket_fd);
struct ReceivedFd {
  UniqueFd fd;
  std::string name;  // the payload up to its first NUL
};
Result<ReceivedFd> receive_fd_with_name(int socket_fd);
// Connects to the console socket and sends the master there.
Status send_console(const std::string& console_socket_path, int pty_master);
// Copies stdin -> master and master -> stdout until the master hangs up;
// puts our terminal in raw mode meanwhile and forwards window size changes.
Status relay_pty(int pty_master);
// The same with explicit fds instead of our stdin/stdout (exec, tests). The
// raw mode and the window size come from whichever of them is a terminal.
Status relay_pty(int pty_master, int in_fd, int out_fd);

}  // namespace ctr
