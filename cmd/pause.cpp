// ctr pause [-a] CONTAINER...: freezes every process of running containers
// (cgroup.freeze through the runtime's `pause`), printing each name given
// (or each ID with --all), as podman does.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_pause.h"
#include "cmd/container_targets.h"

namespace ctr::cmd {
namespace {

struct PauseFlags {
  bool all = false;
  std::vector<std::string> containers;
};

int run_pause(Context& ctx, const PauseFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  auto running = [](const ContainerRecord& r) {
    auto live = live_status(r);
    return live.state == "running" && !live.paused;
  };
  auto targets = select_containers(**store, "pause", flags.containers, flags.all, running, status);
  if (!targets) return fail(targets.error());
  for (const auto& [text, record] : *targets) {
    if (auto paused = pause_container(record); !paused) {
      status = fail(paused.error());
      continue;
    }
    std::cout << text << std::endl;
  }
  return status;
}

}  // namespace

void add_pause(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("pause", "Pause all the processes in one or more containers");
  auto flags = std::make_shared<PauseFlags>();
  sub->add_flag("-a,--all", flags->all, "Pause all running containers");
  cli.value(*sub, "container", flags->containers, "Containers to pause (name, ID or ID prefix)",
            Completer::running_containers);
  cli.on_run(*sub, [&cli, flags] { return run_pause(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
