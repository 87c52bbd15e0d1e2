// ctr pause [-a] CONTAINER...: freezes every process of running containers
// (cgroup.freeze through the runtime's `pause`), printing each name given
// (or each ID with --all), as podman does.
#include <memory>

#include "cmd/app.h"
#include "cmd/container_pause.h"

namespace ctr::cmd {
namespace {

struct PauseFlags {
  bool all = false;
  std::vector<std::string> containers;
};

}  // namespace

void add_pause(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("pause", "Pause all the processes in one or more containers");
  auto flags = std::make_shared<PauseFlags>();
  sub->add_flag("-a,--all", flags->all, "Pause all running containers");
  cli.value(*sub, "container", flags->containers, "Containers to pause (name, ID or ID prefix)",
            Completer::running_containers);
  cli.on_run(*sub, [&cli, flags] { return freeze_containers(cli.ctx, flags->containers, flags->all, true); });
}

}  // namespace ctr::cmd
