// ctr volume prune [-f]: removes every volume no container uses, after a
// confirmation unless -f; prints the names removed, as podman.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cmd/volume_cli.h"

namespace ctr::cmd {
namespace {

bool confirm() {
  std::cout << "WARNING! This will remove all volumes not used by at least one container.\n";
  std::cout << "Are you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace

void add_volume_prune(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("prune", "Remove all unused volumes");
  auto force = std::make_shared<bool>(false);
  sub->add_flag("-f,--force", *force, "Do not ask for confirmation");
  cli.on_run(*sub, [&cli, force] {
    if (!*force && !confirm()) return 0;
    auto removed = prune_volumes(cli.ctx);
    if (!removed) return fail(removed.error());
    for (const auto& name : *removed) std::cout << name << "\n";
    return 0;
  });
}

}  // namespace ctr::cmd
