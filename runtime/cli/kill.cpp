// ctr-runtime kill [--all] ID [SIGNAL]: signal a container's init (or, with
// --all, each of its processes).
#include <signal.h>

#include "runtime/cgroup_setup.h"
#include "runtime/cli/command.h"
#include "runtime/cli/common.h"
#include "runtime/cli/log.h"
#include "runtime/cli/processes.h"
#include "runtime/cli/signals.h"
#include "runtime/container.h"

namespace ctr::cli {

namespace {

constexpr FlagSpec kFlags[] = {
    {"all", 'a', FlagKind::boolean, "signal every process of the container, not only its init"},
};

Result<int> run_kill(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "kill", 1, 2));
  const std::string& id = args.positionals[0];
  TRY_ASSIGN(signal, parse_signal_or_error(args.positionals.size() > 1 ? args.positionals[1] : "SIGTERM"));
  // Shared: kills do not exclude each other, but a delete (exclusive) must
  // not remove the container between our check and our signal.
  TRY_ASSIGN(lock, lock_container_dir(global.root, id, FileLock::Mode::shared));
  TRY_ASSIGN(state, load_state(global, id));
  if (state.status == ContainerStatus::stopped) return make_error("container not running", ESRCH);
  auto pidfd = open_init_pidfd(state, process_start_time);
  if (!pidfd) return make_error("container not running", ESRCH);
  log_debug("kill container \"" + id + "\" with signal " + std::to_string(signal) + (args.flag("all") ? " (all)" : ""));
  // kill --all SIGKILL: cgroup.kill, so no process (a daemonised one that
  // left the init's tree too) survives; signal_container still reaps the view.
  bool cgroup_killed = false;
  if (args.flag("all") && signal == SIGKILL) {
    if (auto cgroup = cgroup::load_container_cgroup(state_dir(global, id))) {
      TRY(cgroup::kill_container_cgroup(*cgroup));
      cgroup_killed = true;
    }
  }
  auto sent = signal_container(state, pidfd->get(), signal, args.flag("all"));
  if (!sent && !(cgroup_killed && sent.error().code == ESRCH)) return std::move(sent).error();
  return 0;
}

}  // namespace

const Command kill_command{
    "kill", "kill [flags] ID [SIGNAL]", "send a signal (default SIGTERM) to a container", kFlags, run_kill,
};

}  // namespace ctr::cli
