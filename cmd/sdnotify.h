// --sdnotify=container|conmon|ignore (podman's names; "conmon" is the shim):
// how `ctr run` inside a systemd `Type=notify` unit tells systemd that the
// container is up.
//
// ctr takes NOTIFY_SOCKET out of its own environment at once, whatever the
// mode, so neither the shim, the OCI runtime nor `--env-host` pass it on
// by accident (podman: "the socket is never passed to the runtime").
//   container  the shim's relay socket (STATE/notify.sock) is bind-mounted
//              into the container at /run/notify/notify and NOTIFY_SOCKET
//              points there; the payload sends READY=1 itself and the shim
//              forwards it to the real socket (shim/notify_relay.h; the unit
//              needs NotifyAccess=all: the sender is not the main PID).
//              systemd accepts a notification only from a process of the
//              unit's cgroup: the shim then stays where ctr runs and only the
//              payload goes to its scope (podman's --cgroups=no-conmon; the
//              spec gets no supervisor leaf). With -d, MAINPID=<shim> (ctr
//              sends it before it exits, the relay with READY=1).
//   conmon     ctr sends READY=1 once the container runs: MAINPID=<shim> with
//              -d (ctr exits; systemd then watches the shim, which exits with
//              the container's status), its own pid in the foreground.
//   ignore     nothing is sent and the socket is dropped.
//
// ctr sends the datagrams itself (sd_notify's protocol is one sendto on an
// AF_UNIX datagram socket; the kernel adds the credentials systemd checks)
// rather than through libsystemd's sd_notify, which reads the very
// environment variable ctr has to remove before it starts anything.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "cmd/container_spec.h"
#include "runtime/base/result.h"

namespace ctr::cmd {

inline constexpr const char* kSdNotifyModes[] = {"container", "conmon", "ignore"};
inline constexpr const char* kContainerNotifySocket = "/run/notify/notify";

// "container" | "conmon" | "ignore"; anything else is an error naming them.
Status check_sdnotify_mode(const std::string& mode);

// NOTIFY_SOCKET as ctr was started with it ("" when unset). The first call
// removes it from the environment (then child processes never see it).
const std::string& take_notify_socket();

// Whether the container's notifications go through the shim's relay:
// mode container with a NOTIFY_SOCKET to send them to.
bool notify_relayed(const std::string& mode, const std::string& socket);

// The mount and environment entry that hand the relay socket `relay` (the
// shim's STATE/notify.sock) to the container (mode container). `socket` is
// the real NOTIFY_SOCKET, a path or "@abstract" (the shim, in the host's
// network namespace, sends to either); anything else is an error saying to
// use --sdnotify=conmon.
struct ContainerNotify {
  SpecMount mount;
  std::string env;  // NOTIFY_SOCKET=/run/notify/notify
};
Result<ContainerNotify> container_notify(const std::string& socket, const std::string& relay);

// Sends `message` ("READY=1\nMAINPID=42") to the socket at `socket` (a path,
// or "@name" for an abstract one).
Status send_notify(const std::string& socket, const std::string& message);

// What ctr sends once the container runs (see the table above): "" for
// nothing. `shim_pid` is the new main PID with -d; in the foreground ctr
// stays the main PID.
std::string started_message(const std::string& mode, bool detached, pid_t shim_pid);

// Whether `pid` is in our own cgroup (v2) or below it; true when unknown.
bool inside_cgroup_of_self(pid_t pid);

// Sends started_message() to the socket ctr was started with, if any. A
// failure is a warning: the container runs either way.
void notify_container_started(const std::string& mode, bool detached, pid_t shim_pid);

}  // namespace ctr::cmd
