// ctr rm [-f] [-a] [-v] CONTAINER...: removes containers. A running one
// needs -f, which kills it first (SIGKILL) and waits for its shim's cleanup;
// -v also removes the anonymous volumes it used.
// Exit codes as podman's rm: 1 no such container, 2 container running,
// 125 anything else.
#include <signal.h>

#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_launch.h"
#include "cmd/container_restart.h"
#include "cmd/volume_store.h"

namespace ctr::cmd {
namespace {

constexpr int kExitNoSuchContainer = 1;
constexpr int kExitContainerRunning = 2;

struct RmFlags {
  bool force = false, all = false, volumes = false;
  std::vector<std::string> containers;
};

int remove_one(Context& ctx, const ContainerRecord& record, const std::string& text, const RmFlags& flags) {
  LiveStatus live = live_status(record);
  if (live.state == "running") {
    if (!flags.force) {
      fail("cannot remove container " + record.id +
           " as it is running - running or paused containers cannot be removed without force (ctr rm -f, or ctr stop "
           "first): container state improper");
      return kExitContainerRunning;
    }
    // SIGKILL at once, marked as a user stop so no --restart policy revives it.
    if (auto stopped = stop_container(record, 0, "SIGKILL"); !stopped) return fail(stopped.error());
    live = live_status(record);
  } else if (live.shim && live.shim->state == shim::ContainerState::exited_unknown && flags.force) {
    (void)signal_container(record, SIGKILL);  // its shim was killed; the payload may live on
  }
  // The exit command (unmount, --rm, restart policy) may still be running.
  if (live.shim) {
    mark_stopped_by_user(record);
    (void)wait_shim_gone(*live.shim, std::chrono::seconds(30));
  }
  if (auto removed = remove_container(ctx, record); !removed) return fail(removed.error());
  if (flags.volumes)
    if (auto removed = remove_anonymous_volumes(ctx, record); !removed) return fail(removed.error());
  std::cout << text << std::endl;
  return 0;
}

int run_rm(Context& ctx, const RmFlags& flags) {
  if (flags.all == !flags.containers.empty())
    return fail(std::string(flags.all ? "--all and containers cannot be used together"
                                      : "rm requires at least one container (or --all)"));
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  auto merge = [&](int code) {
    if (code != 0 && (status == 0 || code == kExitError)) status = code;
  };
  if (flags.all) {
    auto records = list_records(**store);
    if (!records) return fail(records.error());
    for (const auto& record : *records) merge(remove_one(ctx, record, record.id, flags));
    return status;
  }
  for (const auto& text : flags.containers) {
    auto record = find_record(**store, text);
    if (!record) {
      fail(record.error());
      merge(record.error().code == ENOENT ? kExitNoSuchContainer : kExitError);
      continue;
    }
    merge(remove_one(ctx, *record, text, flags));
  }
  return status;
}

}  // namespace

void add_rm(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("rm", "Remove one or more containers");
  auto flags = std::make_shared<RmFlags>();
  sub->add_flag("-f,--force", flags->force, "Kill and remove running containers");
  sub->add_flag("-a,--all", flags->all, "Remove all containers");
  sub->add_flag("-v,--volumes", flags->volumes, "Also remove the container's anonymous volumes");
  cli.value(*sub, "container", flags->containers, "Containers to remove (name, ID or ID prefix)", Completer::containers);
  cli.on_run(*sub, [&cli, flags] { return run_rm(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
