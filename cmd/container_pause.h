// Pausing a container: its cgroup frozen through the OCI runtime's
// pause/resume (cgroup.freeze), as podman does through crun.
#pragma once

#include <string>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "runtime/base/result.h"

namespace ctr::cmd {

// True when the container's cgroup (the runtime's cgroup.json) is frozen.
bool container_paused(const std::string& id);
// Checks the container can be paused/unpaused (running, has a cgroup) and
// runs `runtime pause|resume ID` in its shim's namespaces. Errors read as
// podman's ("... container state improper") or name the missing cgroup.
Status pause_container(const ContainerRecord& record);
Status unpause_container(const ContainerRecord& record);
// stop / kill / rm -f of a paused container: thaws it so a catchable
// signal already sent is handled (a frozen task only dies of SIGKILL).
void thaw_if_paused(const ContainerRecord& record);

// `ctr pause` / `ctr unpause`: the named containers (or, with --all, every
// running / paused one) frozen or thawed, each name or ID printed as podman
// does. Returns the exit status.
int freeze_containers(Context& ctx, const std::vector<std::string>& names, bool all, bool freeze);

}  // namespace ctr::cmd
