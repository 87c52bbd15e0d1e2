// ctr restart [-t N] [-a] [--running] CONTAINER...: stops each container
// that runs (stop signal, SIGKILL after N seconds), then starts it again
// detached, keeping its ID and log file. Like podman, a manual restart does
// not count in RestartCount (only --restart policy restarts do).
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_restart.h"
#include "cmd/container_targets.h"

namespace ctr::cmd {
namespace {

struct RestartFlags {
  int time = -1;  // -1: each container's own stop timeout
  bool all = false, running = false;
  std::vector<std::string> containers;
};

int run_restart(Context& ctx, const RestartFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  auto targets = select_containers(**store, "restart", flags.containers, flags.all,
                                   [&](const ContainerRecord& r) { return !flags.running || live_status(r).state == "running"; },
                                   status);
  if (!targets) return fail(targets.error());
  for (const auto& [text, record] : *targets) {
    unsigned timeout = flags.time >= 0 ? static_cast<unsigned>(flags.time) : record.stop_timeout;
    if (auto restarted = restart_container(ctx, record, timeout); !restarted) {
      status = fail(restarted.error().context("restart container " + record.name));
      continue;
    }
    std::cout << text << std::endl;
  }
  return status;
}

}  // namespace

void add_restart(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("restart", "Restart one or more containers");
  auto flags = std::make_shared<RestartFlags>();
  cli.value(*sub, "-t,--time", flags->time, "Seconds to wait for the stop before killing the container",
            Completer::none)
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("-a,--all", flags->all, "Restart all containers");
  sub->add_flag("--running", flags->running, "With --all: restart only the running containers");
  cli.value(*sub, "container", flags->containers, "Containers to restart (name, ID or ID prefix)",
            Completer::containers);
  cli.on_run(*sub, [&cli, flags] { return run_restart(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
