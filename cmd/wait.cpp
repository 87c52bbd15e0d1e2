// ctr wait CONTAINER...: blocks until each container has exited and prints
// its exit code (-1 when its shim was killed and the status is unknown).
#include <iostream>
#include <memory>
#include <thread>

#include "cmd/app.h"
#include "cmd/container_launch.h"

namespace ctr::cmd {
namespace {

int run_wait(Context& ctx, const std::vector<std::string>& containers) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  for (const auto& text : containers) {
    auto record = find_record(**store, text);
    if (!record) {
      status = fail(record.error());
      continue;
    }
    // A created container has no shim to wait on yet: wait for one to appear
    // (someone runs `ctr start`), as podman wait does.
    while (live_status(*record).state == "created") std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto ended = shim::wait_container(shim_state_dir(record->id), std::chrono::hours(24 * 365));
    if (!ended) {
      status = fail(ended.error());
      continue;
    }
    std::cout << (ended->exit ? ended->exit->exit_code : -1) << std::endl;
  }
  return status;
}

}  // namespace

void add_wait(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("wait", "Wait for containers to exit and print their exit codes");
  auto containers = std::make_shared<std::vector<std::string>>();
  cli.value(*sub, "container", *containers, "Containers to wait for (name, ID or ID prefix)", Completer::containers)
      ->required();
  cli.on_run(*sub, [&cli, containers] { return run_wait(cli.ctx, *containers); });
}

}  // namespace ctr::cmd
