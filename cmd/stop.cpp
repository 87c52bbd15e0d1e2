// ctr stop [-t N] [-a] CONTAINER...: the stop signal (--stop-signal, else
// the image's StopSignal, else SIGTERM), then SIGKILL after N seconds
// (--stop-timeout, default 10), as podman. A container that is not running
// is left alone and still named in the output (exit 0), as podman does.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_restart.h"
#include "cmd/container_targets.h"

namespace ctr::cmd {
namespace {

struct StopFlags {
  int time = -1;  // -1: the container's own stop timeout
  bool all = false;
  std::vector<std::string> containers;
};

int run_stop(Context& ctx, const StopFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  auto targets = select_containers(**store, "stop", flags.containers, flags.all,
                                   [](const ContainerRecord& r) { return live_status(r).state == "running"; }, status);
  if (!targets) return fail(targets.error());
  for (const auto& [text, record] : *targets) {
    unsigned timeout = flags.time >= 0 ? static_cast<unsigned>(flags.time) : record.stop_timeout;
    if (auto stopped = stop_container(record, timeout); !stopped) {
      status = fail(stopped.error().context("stop container " + record.name));
      continue;
    }
    std::cout << text << std::endl;
  }
  return status;
}

}  // namespace

void add_stop(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("stop", "Stop one or more running containers");
  auto flags = std::make_shared<StopFlags>();
  cli.value(*sub, "-t,--time", flags->time, "Seconds to wait before killing the container (default 10)",
            Completer::none)
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("-a,--all", flags->all, "Stop all running containers");
  cli.value(*sub, "container", flags->containers, "Containers to stop (name, ID or ID prefix)",
            Completer::running_containers);
  cli.on_run(*sub, [&cli, flags] { return run_stop(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
