// Messages between the runtime (parent) and the container's init (child)
// over a SOCK_SEQPACKET socketpair: fixed-size records, one per packet.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace ctr::child {

enum class MessageType : uint32_t {
  go,            // parent -> child: ID maps written, continue
  state,         // parent -> child: payload is the hook state JSON
  run_hooks,     // child -> parent: run prestart + createRuntime hooks now
  hooks_done,    // parent -> child
  pid,           // child -> parent: the init's pid after a pid-namespace join
  pty,           // child -> parent: pty master attached (SCM_RIGHTS)
  ready,         // child -> parent: set up; about to wait for start / exec
  error,         // child -> parent: `step`, `error` (errno) and `text`
};

struct Message {
  MessageType type;
  int32_t error;  // errno for `error`
  int32_t pid;
  char step[48];
  char text[512];
};

// Sends `size` bytes with `fd` (if >= 0) as SCM_RIGHTS on the first byte;
// syscalls only, shared by the sync channel and the seccomp agent hand-off.
// Returns 0 or -errno.
int send_with_fd(int sock, int fd, const char* data, unsigned long size);
// Sends a message (with an optional fd); returns 0 or -errno.
int send_message(int fd, MessageType type, int pid = 0, int pass_fd = -1);
// Sends {step, errno, text} and _exit(1)s: the way every failed step ends.
// With `append_error` false, `detail` is the whole text (errno still travels).
[[noreturn]] void fail(int sync_fd, const char* step, int err, const char* detail = nullptr, bool append_error = true);
// Receives one message and, for `pty`, its fd; returns bytes read, 0 on EOF, -errno.
long receive_message(int fd, Message* message, int* received_fd);

}  // namespace ctr::child
