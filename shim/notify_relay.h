// The sd_notify relay of `--sdnotify=container` (podman/conmon, crun and
// runc do the same): systemd takes a notification only from a process in
// the unit's cgroup, and the container usually runs in a scope of its own.
// So the container gets a socket of the shim's (STATE/notify.sock,
// bind-mounted at /run/notify/notify, NOTIFY_SOCKET pointing there) and the
// shim, which stays in the unit's cgroup (runtime/cgroup_setup.h: no
// supervisor leaf then), forwards each datagram to the real NOTIFY_SOCKET.
// This also lets an abstract NOTIFY_SOCKET ("@name", which lives in the
// host's network namespace) reach a container with a network of its own.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "runtime/base/unix_address.h"

namespace ctr::shim {

// What the shim sends on for one datagram of the container: its lines minus
// MAINPID= (a pid of the container's pid namespace means another process,
// or none, to systemd); with `main_pid` > 0 and a READY=1 in it,
// MAINPID=<main_pid> first. "" when nothing is left to send.
std::string relay_message(std::string_view datagram, pid_t main_pid);

class NotifyRelay {
 public:
  NotifyRelay() = default;
  // Binds a datagram socket at `path` (mode 0666: any user of the container
  // may notify, as with systemd's own socket) that relays to `target` (a
  // path or "@abstract"). `main_pid`: see relay_message.
  static Result<NotifyRelay> open(const std::string& path, const std::string& target, pid_t main_pid);

  int fd() const { return fd_.get(); }
  explicit operator bool() const { return static_cast<bool>(fd_); }
  // Forwards every queued datagram; never blocks (a full systemd queue
  // drops the message rather than the container's output). Returns how
  // many were sent on.
  unsigned forward();
  void close() { fd_.reset(); }

 private:
  UniqueFd fd_;
  UnixAddress target_;  // keeps a long target path's directory open
  pid_t main_pid_ = 0;
};

}  // namespace ctr::shim
