// ctr-runtime start ID: let a created container's init exec its process,
// then run the poststart hooks.
#include <signal.h>

#include "runtime/cli/command.h"
#include "runtime/cli/common.h"
#include "runtime/cli/log.h"
#include "runtime/container.h"
#include "runtime/in_process.h"

namespace ctr::cli {

namespace {

// runc's choice for a failed poststart hook: stop the container and fail,
// so the caller never believes a half-set-up container is fine. (The spec
// only asks for a warning; runc and podman users expect the error.)
Status run_poststart(const std::string& dir, const ContainerState& state) {
  TRY_ASSIGN(hooks, saved_hooks_if_any(dir, state, "poststart"));
  auto ran = run_state_hooks(hooks.poststart, "poststart", state, "running");
  if (ran) return {};
  if (auto pidfd = open_init_pidfd(state, process_start_time)) (void)send_signal(pidfd->get(), SIGKILL);
  return std::move(ran).error().context("container \"" + state.id + "\" was killed");
}

Result<int> run_start(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "start", 1, 1));
  const std::string& id = args.positionals[0];
  TRY_ASSIGN(lock, lock_container_dir(global.root, id));
  TRY_ASSIGN(state, load_state(global, id));
  TRY(require_created(state));
  std::string dir = state_dir(global, id);
  TRY(start_container(dir));
  log_debug("started container \"" + id + "\"");
  TRY(run_poststart(dir, state));
  return 0;
}

}  // namespace

const Command start_command{
    "start", "start ID", "start a created container's process", {}, run_start,
};

}  // namespace ctr::cli
