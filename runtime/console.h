// Terminals: passing a pty master over a unix socket (SCM_RIGHTS), the way
// runc/crun --console-socket do, and relaying a pty to our own stdio for a
// foreground `run` with process.terminal and no console socket.
#pragma once

#include <string>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr {

Status send_fd(int socket_fd, int fd_to_send, const std::string& name = "");
Result<UniqueFd> receive_fd(int socket_fd);
// Connects to the console socket and sends the master there.
Status send_console(const std::string& console_socket_path, int pty_master);
// Copies stdin -> master and master -> stdout until the master hangs up;
// puts our terminal in raw mode meanwhile and forwards window size changes.
Status relay_pty(int pty_master);

}  // namespace ctr
