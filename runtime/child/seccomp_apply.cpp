// Runs in the container's init between clone() and exec(): raw syscalls only
// (no allocation, no exceptions, no libc calls that may lock or allocate).
#include "runtime/child/seccomp_apply.h"

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

unsigned long c_length(const char* text) {
  unsigned long n = 0;
  while (text[n] != '\0') ++n;
  return n;
}

void close_keep_errno(int fd) {
  int saved = errno;
  ::close(fd);
  errno = saved;
}

// Sends the payload, the fd riding on the first byte; a stream socket may
// accept fewer bytes than asked, so the rest follows in further sends.
int send_with_fd(int sock, int fd, const char* data, unsigned long size) {
  // A zero-byte sendmsg on a stream socket delivers no ancillary data.
  static const char empty_payload = '\0';
  if (size == 0) {
    data = &empty_payload;
    size = 1;
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{const_cast<char*>(data), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  __builtin_memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);

  unsigned long sent = 0;
  while (sent < size) {
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    sent += static_cast<unsigned long>(n);
    iov.iov_base = const_cast<char*>(data + sent);
    iov.iov_len = size - sent;
    msg.msg_control = nullptr;  // the fd went with the first chunk
    msg.msg_controllen = 0;
  }
  return 0;
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
  unsigned long path_length = c_length(socket_path);
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
  rc = send_with_fd(sock, listener_fd, state_json, c_length(state_json));
  close_keep_errno(sock);
  return rc;
}

}  // namespace ctr::child
