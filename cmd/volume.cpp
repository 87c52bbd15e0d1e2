// ctr volume create|ls|inspect|rm|prune: named volumes (cmd/volume_store.h).
#include "cmd/volume_cli.h"

namespace ctr::cmd {

void add_volume_commands(Cli& cli, CLI::App& app) {
  CLI::App* volume = app.add_subcommand("volume", "Manage volumes");
  volume->require_subcommand(1);
  add_volume_create(cli, *volume);
  add_volume_inspect(cli, *volume);
  add_volume_ls(cli, *volume);
  add_volume_prune(cli, *volume);
  add_volume_rm(cli, *volume);
}

}  // namespace ctr::cmd
