#include "runtime/child/sync.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "runtime/child/text.h"

namespace ctr::child {

static void copy_text(char* dest, size_t capacity, const char* src) {
  Text(dest, capacity).add(src);
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
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    __builtin_memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
  }

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

static int send_record(int fd, const Message& message, int pass_fd) {
  return send_with_fd(fd, pass_fd, reinterpret_cast<const char*>(&message), sizeof message);
}

int send_message(int fd, MessageType type, int pid, int pass_fd) {
  Message message{};
  message.type = type;
  message.pid = pid;
  return send_record(fd, message, pass_fd);
}

void fail(int sync_fd, const char* step, int err, const char* detail, bool append_error) {
  Message message{};
  message.type = MessageType::error;
  message.error = err;
  copy_text(message.step, sizeof message.step, step);
  Text text(message.text, sizeof message.text);
  if (detail && *detail) {
    text.add(detail);
    if (err && append_error) text.add(": ");
  }
  if (err && append_error) text.add(error_text(err));
  // After `ready` in create mode nobody listens any more: tell stderr instead.
  if (send_record(sync_fd, message, -1) < 0) {
    const char prefix[] = "ctr-runtime: ";
    (void)!write(2, prefix, sizeof prefix - 1);
    (void)!write(2, message.text, string_length(message.text));
    (void)!write(2, "\n", 1);
  }
  _exit(err == ENOENT ? 127 : err == EACCES ? 126 : 1);
}

long receive_message(int fd, Message* message, int* received_fd) {
  iovec iov{message, sizeof *message};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return -errno;
  }
  if (received_fd) *received_fd = -1;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS && received_fd)
      memcpy(received_fd, CMSG_DATA(cmsg), sizeof(int));
  }
  return n;
}

}  // namespace ctr::child
