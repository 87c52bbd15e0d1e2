// ctr rm [-f] CONTAINER...: removes containers. A running one needs -f,
// which kills it first (SIGKILL) and waits for its shim's cleanup.
// Exit codes as podman's rm: 1 no such container, 2 container running,
// 125 anything else.
#include <signal.h>

#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_launch.h"

namespace ctr::cmd {
namespace {

constexpr int kExitNoSuchContainer = 1;
constexpr int kExitContainerRunning = 2;

struct RmFlags {
  bool force = false;
  std::vector<std::string> containers;
};

// Kills a running container and waits until its shim (and the exit command
// that unmounts it) is gone.
Status force_stop(const ContainerRecord& record) {
  TRY(signal_container(record, SIGKILL));
  TRY_ASSIGN(status, shim::wait_container(shim_state_dir(record.id), std::chrono::seconds(30)));
  if (status.state == shim::ContainerState::running)
    return make_error("container " + record.name + " did not exit 30 s after SIGKILL", ETIMEDOUT);
  return {};
}

int remove_one(Context& ctx, const image::Store& store, const std::string& text, bool force) {
  auto record = find_record(store, text);
  if (!record) {
    fail(record.error());
    return record.error().code == ENOENT ? kExitNoSuchContainer : kExitError;
  }
  LiveStatus live = live_status(*record);
  if (live.state == "running") {
    if (!force) {
      fail("cannot remove container " + record->name +
           " as it is running - running or paused containers cannot be removed without force (ctr rm -f, or ctr stop "
           "first): container state improper");
      return kExitContainerRunning;
    }
    if (auto stopped = force_stop(*record); !stopped) return fail(stopped.error());
    live = live_status(*record);
  } else if (live.shim && live.shim->state == shim::ContainerState::exited_unknown && force) {
    (void)signal_container(*record, SIGKILL);  // its shim was killed; the payload may live on
  }
  // The exit command (unmount, --rm) may still be running in the shim.
  if (live.shim) (void)wait_shim_gone(*live.shim, std::chrono::seconds(30));
  if (auto removed = remove_container(ctx, *record); !removed) return fail(removed.error());
  std::cout << text << std::endl;
  return 0;
}

int run_rm(Context& ctx, const RmFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  for (const auto& text : flags.containers) {
    int code = remove_one(ctx, **store, text, flags.force);
    if (code != 0 && (status == 0 || code == kExitError)) status = code;
  }
  return status;
}

}  // namespace

void add_rm(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("rm", "Remove one or more containers");
  auto flags = std::make_shared<RmFlags>();
  sub->add_flag("-f,--force", flags->force, "Kill and remove running containers");
  cli.value(*sub, "container", flags->containers, "Containers to remove (name, ID or ID prefix)", Completer::containers)
      ->required();
  cli.on_run(*sub, [&cli, flags] { return run_rm(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
