// ctr-runtime pause ID: freeze every process of a running container
// (cgroup.freeze), as runc/crun do. Needs the container's cgroup.
#include "runtime/cgroup_freeze.h"
#include "runtime/cgroup_setup.h"
#include "runtime/cli/command.h"
#include "runtime/cli/common.h"
#include "runtime/cli/log.h"
#include "runtime/cli/pause_common.h"

namespace ctr::cli {

Result<std::string> freezable_cgroup(const GlobalOptions& global, const std::string& id, ContainerStatus want) {
  TRY_ASSIGN(state, load_state(global, id));
  if (state.status != want)
    return make_error("container " + id + " is " + status_name(state.status) + ", not " + status_name(want), EINVAL);
  auto cgroup = cgroup::load_container_cgroup(state_dir(global, id));
  if (!cgroup)
    return make_error("container " + id +
                          " has no cgroup, and pausing needs one: give it a linux.cgroupsPath on cgroup v2",
                      ENOTSUP);
  return cgroup->dir;
}

namespace {

Result<int> run_pause(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "pause", 1, 1));
  const std::string& id = args.positionals[0];
  TRY_ASSIGN(lock, lock_container_dir(global.root, id));
  TRY_ASSIGN(dir, freezable_cgroup(global, id, ContainerStatus::running));
  TRY_CTX(cgroup::set_frozen(dir, true), "pause container \"" + id + "\"");
  log_debug("paused container \"" + id + "\"");
  return 0;
}

}  // namespace

const Command pause_command{
    "pause", "pause ID", "suspend every process of a container (cgroup.freeze)", {}, run_pause,
};

}  // namespace ctr::cli
