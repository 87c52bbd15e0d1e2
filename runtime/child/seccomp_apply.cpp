// Runs in the container's init between clone() and exec(): raw syscalls only
// (no allocation, no exceptions, no libc calls that may lock or allocate).
#include "runtime/child/seccomp_apply.h"

#include "runtime/child/sync.h"
#include "runtime/child/text.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

namespace ctr::child {
namespace {

void close_keep_errno(int fd) {
  int saved = errno;
  ::close(fd);
  errno = saved;
}

}  // namespace

int apply_seccomp(const sock_filter* filter, unsigned short length, unsigned int flags, int* listener_fd) {
  sock_fprog prog{length, const_cast<sock_filter*>(filter)};
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  // Kernels before 3.17 have no seccomp(2); prctl loads a filter without flags.
  if (rc < 0 && errno == ENOSYS && flags == 0) rc = ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
  if (rc < 0) return -errno;
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
    if (listener_fd == nullptr) {
      ::close(static_cast<int>(rc));
      return -EINVAL;
    }
    *listener_fd = static_cast<int>(rc);
  }
  return 0;
}

int send_seccomp_listener(const char* socket_path, int listener_fd, const char* state_json) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  unsigned long path_length = string_length(socket_path);
  if (path_length == 0) return -EINVAL;
  if (path_length >= sizeof addr.sun_path) return -ENAMETOOLONG;
  for (unsigned long i = 0; i < path_length; ++i) addr.sun_path[i] = socket_path[i];

  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -errno;
  int rc;
  do {
    rc = ::connect(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno == EISCONN) rc = 0;  // an interrupted connect finished meanwhile
  if (rc < 0) {
    rc = -errno;
    close_keep_errno(sock);
    return rc;
  }
  rc = send_with_fd(sock, listener_fd, state_json, string_length(state_json));
  close_keep_errno(sock);
  return rc;
}

}  // namespace ctr::child
