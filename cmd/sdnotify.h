// --sdnotify=container|conmon|ignore (podman's names; "conmon" is the shim):
// how `ctr run` inside a systemd `Type=notify` unit tells systemd that the
// container is up.
//
// ctr takes NOTIFY_SOCKET out of its own environment at once, whatever the
// mode, so neither the shim, the OCI runtime nor `--env-host` pass it on
// by accident (podman: "the socket is never passed to the runtime").
//   container  the socket is bind-mounted into the container at
//              /run/notify/notify and NOTIFY_SOCKET points there; the
//              payload sends READY=1 itself (the unit needs NotifyAccess=all:
//              the sender is not the main PID). With -d, ctr moves MAINPID to
//              the shim before it exits. systemd accepts a notification only
//              from a process of the unit's cgroup, so the payload must stay
//              there (--cgroups=split, Delegate=yes); a relay through the shim
//              (as crun/conmon do) would lift that and is not written yet.
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

// The mount and environment entry that hand `socket` to the container
// (mode container). An abstract socket ("@name") cannot be bind-mounted and
// the container has its own network namespace: an error saying to use
// --sdnotify=conmon.
struct ContainerNotify {
  SpecMount mount;
  std::string env;  // NOTIFY_SOCKET=/run/notify/notify
};
Result<ContainerNotify> container_notify(const std::string& socket);

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
