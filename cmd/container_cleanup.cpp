// ctr container cleanup ID (hidden): the shim's exit command. It runs inside
// the container's user + mount namespace once the container has exited
// (or is run by hand after a shim was killed): ends a network helper a
// killed shim left, deletes the runtime's state, then either restarts the
// container when its --restart policy says so (root file system left
// mounted, a new shim in these same namespaces: see relaunch_after_exit),
// or unmounts the root file system and removes the container when it was
// run with --rm.
#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include "cmd/app.h"
#include "cmd/container_launch.h"
#include "cmd/container_network.h"
#include "cmd/container_restart.h"
#include "cmd/volume_store.h"
#include "image/container_layers.h"
#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/in_process.h"

namespace ctr::cmd {
namespace {

// True when the policy restarted the container (a policy restart counts in
// the record's restart_count, as podman's RestartCount).
Result<bool> restart_by_policy(Context& ctx, image::Store& store, const ContainerRecord& record) {
  if (record.restart_policy == "no" || record.restart_policy.empty()) return false;
  auto status = shim::read_container_status(shim_state_dir(record.id));
  int exit_code = status && status->exit ? status->exit->exit_code : -1;
  if (!policy_restarts(record, exit_code, stopped_by_user(record))) return false;
  ContainerRecord updated;
  {
    TRY_ASSIGN(lock, store.lock());
    TRY_ASSIGN(current, find_record(store, record.id));
    updated = std::move(current);
    ++updated.restart_count;
    TRY(write_record(store, updated));
  }
  TRY(relaunch_after_exit(ctx, updated, ::getppid()));  // our parent is the shim
  return true;
}

// A shim that was SIGKILLed could not stop its pasta, which would live on
// (holding the published ports); first of all, as later steps may fail.
// Never while the shim runs: a live shim removes the pid file itself
// before it records the exit, and a cleanup run by hand for a running
// container must not cut its network. The pid and start time recorded
// are checked, so a reused pid is never signalled.
void end_leftover_network_helper(const std::string& id) {
  auto status = shim::read_container_status(shim_state_dir(id));
  if (!status || status->state == shim::ContainerState::running) return;
  kill_leftover_network_helper(shim_state_dir(id));
}

// `ctr-runtime delete --force ID`; in this process when the container has
// simply stopped (the usual case here: the shim saw it exit), which saves
// an exec on every container's exit path.
Status delete_runtime_state(const std::string& id) {
  if (runtime_is_ours()) {
    // An error here goes to the runtime itself, whose exit status was never
    // this command's business (below).
    auto deleted = delete_stopped_in_process(oci_runtime_root(), id);
    if (deleted && *deleted) return {};
  }
  // Not ctx.maps(): in here we are root of the store's namespace already.
  SpawnOptions quiet;
  TRY_ASSIGN(null_fd, open_fd("/dev/null", O_RDWR));
  quiet.stdin_fd = quiet.stdout_fd = null_fd.get();
  auto deleted = run_process({helper_binary("ctr-runtime", "CTR_RUNTIME_BIN"), "--root", oci_runtime_root(), "delete",
                              "--force", id},
                             quiet, std::chrono::seconds(60));
  if (!deleted) return std::move(deleted).error();
  return {};
}

Status cleanup(Context& ctx, const std::string& id) {
  TRY_ASSIGN(store, ctx.store());
  auto record = find_record(*store, id);
  if (!record) return record.error().code == ENOENT ? Status{} : Status(std::move(record).error());
  end_leftover_network_helper(record->id);
  TRY(delete_runtime_state(record->id));
  auto restarted = restart_by_policy(ctx, *store, *record);
  if (!restarted) return std::move(restarted).error();
  if (*restarted) return {};
  TRY_ASSIGN(layer, image::find_container_layer(*store, record->id));
  Status unmounted = image::unmount_container_rootfs(*store, layer);
  if (!unmounted && unmounted.error().code != EINVAL && unmounted.error().code != ENOENT) return unmounted;
  if (record->rm) {
    TRY(remove_container(ctx, *record));
    TRY(remove_anonymous_volumes(ctx, *record));  // as podman's --rm
  }
  return {};
}

}  // namespace

void add_container_cleanup(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("cleanup", "Clean up after a container exited (run by ctr-shim)");
  sub->group("");  // hidden: not for people
  auto id = std::make_shared<std::string>();
  cli.value(*sub, "container", *id, "Container ID", Completer::containers)->required();
  cli.on_run(*sub, [&cli, id] {
    Status done = cleanup(cli.ctx, *id);
    return done ? 0 : fail(done.error().context("clean up container " + *id));
  });
}

}  // namespace ctr::cmd
