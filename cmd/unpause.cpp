// ctr unpause [-a] CONTAINER...: thaws paused containers
// (cgroup.freeze = 0 through the runtime's `resume`), printing each name given
// (or each ID with --all), as podman does.
#include <memory>

#include "cmd/app.h"
#include "cmd/container_pause.h"

namespace ctr::cmd {
namespace {

struct UnpauseFlags {
  bool all = false;
  std::vector<std::string> containers;
};

}  // namespace

void add_unpause(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("unpause", "Unpause the processes in one or more containers");
  auto flags = std::make_shared<UnpauseFlags>();
  sub->add_flag("-a,--all", flags->all, "Unpause all paused containers");
  cli.value(*sub, "container", flags->containers, "Containers to unpause (name, ID or ID prefix)",
            Completer::running_containers);
  cli.on_run(*sub, [&cli, flags] { return freeze_containers(cli.ctx, flags->containers, flags->all, false); });
}

}  // namespace ctr::cmd
