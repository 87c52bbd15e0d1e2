#include "cmd/container_pause.h"

#include <iostream>

#include "cmd/container_launch.h"
#include "cmd/container_targets.h"
#include "runtime/cgroup_freeze.h"
#include "runtime/cgroup_setup.h"

namespace ctr::cmd {
namespace {

constexpr const char* kImproper = ": container state improper";

// The shim pid of a running container, or podman's state error.
Result<pid_t> running_shim(const ContainerRecord& record, const LiveStatus& live, const std::string& verb) {
  if (live.state != "running" || !live.shim || live.shim->shim_pid <= 0)
    return make_error("\"" + live.shown_state() + "\" is not running, can't " + verb + kImproper, EINVAL);
  if (record.cgroup_manager.empty() || record.cgroup_manager == "none" || record.cgroups_path.empty())
    return make_error("container " + record.name + " has no cgroup (cgroup manager none), and " + verb +
                          " needs its cgroup.freeze: recreate it where a cgroup v2 tree is delegated "
                          "(--cgroup-manager systemd with a user bus, or cgroupfs; see `ctr info`)",
                      ENOTSUP);
  return live.shim->shim_pid;
}

}  // namespace

bool container_paused(const std::string& id) {
  auto cgroup = cgroup::load_container_cgroup(oci_runtime_root() + "/" + id);
  return cgroup && cgroup::freeze_requested(cgroup->dir);
}

Status pause_container(const ContainerRecord& record) {
  LiveStatus live = live_status(record);
  if (live.paused) return make_error("\"" + record.id + "\" is already paused" + kImproper, EINVAL);
  TRY_ASSIGN(shim_pid, running_shim(record, live, "pause"));
  return runtime_in_container(shim_pid, {"pause", record.id});
}

Status unpause_container(const ContainerRecord& record) {
  LiveStatus live = live_status(record);
  if (!live.paused) return make_error("\"" + record.id + "\" is not paused, can't unpause" + kImproper, EINVAL);
  TRY_ASSIGN(shim_pid, running_shim(record, live, "unpause"));
  return runtime_in_container(shim_pid, {"resume", record.id});
}

void thaw_if_paused(const ContainerRecord& record) {
  auto cgroup = cgroup::load_container_cgroup(oci_runtime_root() + "/" + record.id);
  if (!cgroup || !cgroup::freeze_requested(cgroup->dir)) return;
  // The container may be exiting meanwhile (SIGKILL): a failed thaw of a
  // cgroup that is going away changes nothing.
  (void)cgroup::set_frozen(cgroup->dir, false);
}

int freeze_containers(Context& ctx, const std::vector<std::string>& names, bool all, bool freeze) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  // --all: the containers the command applies to.
  auto applies = [freeze](const ContainerRecord& r) {
    auto live = live_status(r);
    return freeze ? live.state == "running" && !live.paused : live.paused;
  };
  auto targets = select_containers(**store, freeze ? "pause" : "unpause", names, all, applies, status);
  if (!targets) return fail(targets.error());
  for (const auto& [text, record] : *targets) {
    if (auto done = freeze ? pause_container(record) : unpause_container(record); !done) {
      status = fail(done.error());
      continue;
    }
    std::cout << text << std::endl;
  }
  return status;
}

}  // namespace ctr::cmd
