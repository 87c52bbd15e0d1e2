// The container verbs, at the top level (`ctr run`) and under `ctr
// container` (`ctr container ls`), as podman has both.
#include "cmd/app.h"

namespace ctr::cmd {

void add_container_commands(Cli& cli, CLI::App& app) {
  add_attach(cli, app);
  add_create(cli, app);
  add_exec(cli, app);
  add_cp(cli, app);
  add_export(cli, app);
  add_volume_commands(cli, app);
  add_generate_commands(cli, app);
  add_inspect(cli, app);
  add_rename(cli, app);
  add_restart(cli, app);
  add_kill(cli, app);
  add_pause(cli, app);
  add_unpause(cli, app);
  add_update(cli, app);
  add_stats(cli, app);
  add_logs(cli, app);
  add_ps(cli, app, "ps");
  add_rm(cli, app);
  add_run(cli, app);
  add_start(cli, app);
  add_stop(cli, app);
  add_top(cli, app);
  add_wait(cli, app);

  CLI::App* container = app.add_subcommand("container", "Manage containers");
  container->require_subcommand(1);
  add_container_cleanup(cli, *container);
  add_attach(cli, *container);
  add_create(cli, *container);
  add_exec(cli, *container);
  add_exec_cleanup(cli, *container);
  add_cp(cli, *container);
  add_export(cli, *container);
  add_container_inspect(cli, *container);
  add_container_prune(cli, *container);
  add_rename(cli, *container);
  add_restart(cli, *container);
  add_kill(cli, *container);
  add_pause(cli, *container);
  add_unpause(cli, *container);
  add_update(cli, *container);
  add_stats(cli, *container);
  add_logs(cli, *container);
  add_ps(cli, *container, "ls");
  add_ps(cli, *container, "ps");
  add_rm(cli, *container);
  add_run(cli, *container);
  add_start(cli, *container);
  add_stop(cli, *container);
  add_top(cli, *container);
  add_wait(cli, *container);
}

}  // namespace ctr::cmd
