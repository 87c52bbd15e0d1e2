// The container verbs, at the top level (`ctr run`) and under `ctr
// container` (`ctr container ls`), as podman has both.
#include "cmd/app.h"

namespace ctr::cmd {

void add_container_commands(Cli& cli, CLI::App& app) {
  add_create(cli, app);
  add_kill(cli, app);
  add_logs(cli, app);
  add_ps(cli, app, "ps");
  add_rm(cli, app);
  add_run(cli, app);
  add_start(cli, app);
  add_stop(cli, app);
  add_wait(cli, app);

  CLI::App* container = app.add_subcommand("container", "Manage containers");
  container->require_subcommand(1);
  add_container_cleanup(cli, *container);
  add_create(cli, *container);
  add_kill(cli, *container);
  add_logs(cli, *container);
  add_ps(cli, *container, "ls");
  add_ps(cli, *container, "ps");
  add_rm(cli, *container);
  add_run(cli, *container);
  add_start(cli, *container);
  add_stop(cli, *container);
  add_wait(cli, *container);
}

}  // namespace ctr::cmd
