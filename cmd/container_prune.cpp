// ctr container prune [-f]: removes all containers that are not running
// (after a confirmation, unless -f) and prints their IDs, as podman.
#include "cmd/container_prune.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "cmd/container_launch.h"
#include "cmd/container_record.h"
#include "cmd/container_restart.h"

namespace ctr::cmd {

Result<std::vector<std::string>> prune_containers(Context& ctx) {
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(records, list_records(*store));
  std::vector<std::string> removed;
  for (const auto& record : records) {
    LiveStatus live = live_status(record);
    if (live.state == "running") continue;
    if (live.shim) {
      // Its exit command (unmount, --rm, restart policy) may still run; a
      // pending policy restart must not bring it back after the removal.
      mark_stopped_by_user(record);
      (void)wait_shim_gone(*live.shim, std::chrono::seconds(30));
      if (live_status(record).state == "running") continue;  // restarted by its policy meanwhile
    }
    Status gone = remove_container(ctx, record);
    if (!gone) return std::move(gone).error().context("remove container " + record.name);
    removed.push_back(record.id);
  }
  return removed;
}

Result<bool> confirm_prune(const std::string& warning) {
  if (::isatty(STDIN_FILENO) != 1)
    return make_error("cannot ask for confirmation: stdin is not a terminal; use -f to prune without asking", EINVAL);
  std::cout << warning << "Are you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

void add_container_prune(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("prune", "Remove all containers that are not running");
  auto force = std::make_shared<bool>(false);
  sub->add_flag("-f,--force", *force, "Do not ask for confirmation");
  cli.on_run(*sub, [&cli, force] {
    if (!*force) {
      auto confirmed = confirm_prune("WARNING! This will remove all non running containers.\n");
      if (!confirmed) return fail(confirmed.error());
      if (!*confirmed) return 0;
    }
    auto removed = prune_containers(cli.ctx);
    if (!removed) return fail(removed.error());
    for (const auto& id : *removed) std::cout << id << "\n";
    return 0;
  });
}

}  // namespace ctr::cmd
