// ctr unpause [-a] CONTAINER...: thaws paused containers
// (cgroup.freeze = 0 through the runtime's `resume`), printing each name given
// (or each ID with --all), as podman does.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_pause.h"
#include "cmd/container_targets.h"

namespace ctr::cmd {
namespace {

struct UnpauseFlags {
  bool all = false;
  std::vector<std::string> containers;
};

int run_unpause(Context& ctx, const UnpauseFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  auto paused_only = [](const ContainerRecord& r) {
    auto live = live_status(r);
    return live.paused;
  };
  auto targets = select_containers(**store, "unpause", flags.containers, flags.all, paused_only, status);
  if (!targets) return fail(targets.error());
  for (const auto& [text, record] : *targets) {
    if (auto thawed = unpause_container(record); !thawed) {
      status = fail(thawed.error());
      continue;
    }
    std::cout << text << std::endl;
  }
  return status;
}

}  // namespace

void add_unpause(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("unpause", "Unpause the processes in one or more containers");
  auto flags = std::make_shared<UnpauseFlags>();
  sub->add_flag("-a,--all", flags->all, "Unpause all paused containers");
  cli.value(*sub, "container", flags->containers, "Containers to unpause (name, ID or ID prefix)",
            Completer::running_containers);
  cli.on_run(*sub, [&cli, flags] { return run_unpause(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
