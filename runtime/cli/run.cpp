// ctr-runtime run [flags] ID: create and start in one go. Foreground by
// default: signals are forwarded, a terminal relayed, and our exit status is
// the container's.
#include "runtime/cli/command.h"
#include "runtime/cli/foreground.h"
#include "runtime/cli/launch.h"
#include "runtime/cli/log.h"

namespace ctr::cli {

namespace {

constexpr FlagSpec kRunOnlyFlags[] = {
    {"detach", 'd', FlagKind::boolean, "do not wait for the container: exit once it runs"},
    {"keep", 0, FlagKind::boolean, "keep the container's state after it exits"},
    {"no-subreaper", 0, FlagKind::boolean, "accepted for compatibility with runc"},
};
constexpr auto kFlags = join_flags(kCreateFlags, kRunOnlyFlags);

// After the init exited: poststop hooks, then the state dir goes (unless
// --keep). A `delete` that ran meanwhile has done both already.
void finish(const GlobalOptions& global, Launched& launched, bool keep) {
  auto lock = lock_container_dir(global.root, launched.state.id);
  if (!lock) {
    launched.cleanup.disarm();  // gone already: not ours to remove any more
    return;
  }
  launched.lock = std::move(*lock);
  launched.state.status = ContainerStatus::stopped;
  // The spec makes poststop failures warnings: the container is gone anyway.
  auto ran = run_state_hooks(launched.spec.hooks.poststop, "poststop", launched.state, "stopped");
  if (!ran) log_warning(ran.error().message);
  if (keep) launched.cleanup.disarm();
}

Result<int> run_run(const GlobalOptions& global, const ParsedArgs& args) {
  bool detach = args.flag("detach");
  TRY_ASSIGN(launched, launch_container(global, args, CreateMode::run, detach, "run"));
  // On failure the Launched goes out of scope: init killed, dir removed
  // (runc's behaviour for a failing poststart hook).
  TRY_CTX(run_state_hooks(launched.spec.hooks.poststart, "poststart", launched.state, "running"),
          "container \"" + launched.state.id + "\" was killed");
  if (detach) {
    launched.created.init.release();
    launched.cleanup.disarm();
    return 0;
  }
  int pty = launched.created.pty_master.valid() ? launched.created.pty_master.get() : -1;
  TRY_ASSIGN(exit, wait_in_foreground(launched.created.init, pty));
  log_debug("container \"" + launched.state.id + "\" " + exit.describe());
  finish(global, launched, args.flag("keep"));
  return exit.shell_code();
}

}  // namespace

const Command run_command{
    "run", "run [flags] ID", "create and start a container (in the foreground unless --detach)", kFlags, run_run,
};

}  // namespace ctr::cli
