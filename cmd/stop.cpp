// ctr stop [-t N] CONTAINER...: the stop signal (the image's StopSignal,
// else SIGTERM), then SIGKILL after N seconds (default 10), as podman.
#include <signal.h>

#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_launch.h"

namespace ctr::cmd {
namespace {

struct StopFlags {
  int time = -1;  // -1: the container's own stop timeout
  std::vector<std::string> containers;
};

Status stop_one(const ContainerRecord& record, int timeout) {
  std::string state = shim_state_dir(record.id);
  TRY_ASSIGN(signal, parse_signal(record.stop_signal));
  TRY_ASSIGN(sent, signal_container(record, signal));
  if (!sent) return {};  // not running: nothing to do, as podman
  TRY_ASSIGN(status, shim::wait_container(state, std::chrono::seconds(timeout)));
  if (status.state != shim::ContainerState::running) return {};
  TRY(signal_container(record, SIGKILL));
  TRY_ASSIGN(after, shim::wait_container(state, std::chrono::seconds(30)));
  if (after.state == shim::ContainerState::running)
    return make_error("container " + record.name + " is still running 30 s after SIGKILL", ETIMEDOUT);
  return {};
}

int run_stop(Context& ctx, const StopFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  for (const auto& text : flags.containers) {
    auto record = find_record(**store, text);
    if (!record) {
      status = fail(record.error());
      continue;
    }
    Status stopped = stop_one(*record, flags.time >= 0 ? flags.time : static_cast<int>(record->stop_timeout));
    if (!stopped) {
      status = fail(stopped.error().context("stop container " + record->name));
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
  cli.value(*sub, "container", flags->containers, "Containers to stop (name, ID or ID prefix)",
            Completer::running_containers)
      ->required();
  cli.on_run(*sub, [&cli, flags] { return run_stop(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
