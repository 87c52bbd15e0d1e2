// ctr-runtime delete [--force] ID: remove a stopped container (or, with
// --force, stop it first).
#include <signal.h>

#include "runtime/base/files.h"
#include "runtime/cgroup_setup.h"
#include "runtime/cli/command.h"
#include "runtime/cli/common.h"
#include "runtime/cli/log.h"
#include "runtime/cli/processes.h"
#include "runtime/container.h"

namespace ctr::cli {

namespace {

constexpr FlagSpec kFlags[] = {
    {"force", 'f', FlagKind::boolean, "kill the container first if it is running"},
};

constexpr std::chrono::seconds kExitTimeout{10};

// SIGKILL everything, then wait for the init to be gone. It is not our
// child (its parent reaps it); its pidfd tells us when it has exited.
Status kill_and_wait(const std::string& dir, const ContainerState& state) {
  auto pidfd = open_init_pidfd(state, process_start_time);
  if (!pidfd) return {};  // gone already
  // cgroup.kill reaches every process of the container, also those that
  // left its pid namespace's view (none can escape a cgroup unprivileged).
  if (auto cgroup = cgroup::load_container_cgroup(dir)) (void)cgroup::kill_container_cgroup(*cgroup);
  auto killed = signal_container(state, pidfd->get(), SIGKILL, /*all=*/true);
  if (!killed && killed.error().code != ESRCH) return killed;
  auto waited = wait_pidfd_exit(pidfd->get(), kExitTimeout);
  if (!waited) return make_error("container \"" + state.id + "\" did not exit after SIGKILL", waited.error().code);
  return {};
}

// The cgroup (after cgroup.kill, so nothing is left behind), poststop hooks
// (failures are warnings, per the spec), then the state dir.
Status destroy(const std::string& dir, ContainerState state) {
  state.status = ContainerStatus::stopped;
  if (auto cgroup = cgroup::load_container_cgroup(dir))
    TRY_CTX(cgroup::destroy_container_cgroup(*cgroup), "delete container \"" + state.id + "\"");
  auto hooks = saved_hooks_if_any(dir, state, "poststop");
  if (!hooks) log_warning(hooks.error().message);
  else if (auto ran = run_state_hooks(hooks->poststop, "poststop", state, "stopped"); !ran)
    log_warning(ran.error().message);
  TRY_CTX(remove_tree(dir), "delete container \"" + state.id + "\"");
  return {};
}

// A dir without state.json: a create in progress, or the leftovers of one
// that was killed. --force removes the latter.
Result<int> delete_partial(const std::string& dir, const std::string& id, bool force, Error missing) {
  if (!force) return missing;
  if (!is_abandoned_create(dir))
    return make_error("container \"" + id + "\" is being created", EBUSY);
  TRY_CTX(remove_tree(dir), "delete container \"" + id + "\"");
  return 0;
}

Result<int> run_delete(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "delete", 1, 1));
  const std::string& id = args.positionals[0];
  bool force = args.flag("force");
  auto lock = lock_container_dir(global.root, id);
  // runc: deleting a missing container with --force is not an error.
  if (!lock && lock.error().code == ENOENT && force) return 0;
  if (!lock) return std::move(lock).error();
  std::string dir = state_dir(global, id);
  auto state = load_state(global, id);
  if (!state && state.error().code == ENOENT) return delete_partial(dir, id, force, std::move(state).error());
  if (!state) return std::move(state).error();
  if ((state->status == ContainerStatus::running || state->status == ContainerStatus::paused) && !force)
    return make_error("cannot delete container " + id + " that is not stopped: " + status_name(state->status) +
                          "; use --force",
                      EBUSY);
  // A created container is deleted like runc does it: its waiting init is
  // killed, no --force needed.
  if (state->status != ContainerStatus::stopped) TRY(kill_and_wait(dir, *state));
  TRY(destroy(dir, std::move(*state)));
  return 0;
}

}  // namespace

const Command delete_command{
    "delete", "delete [flags] ID", "delete a container's state (and, with --force, the container)", kFlags,
    run_delete,
};

}  // namespace ctr::cli
