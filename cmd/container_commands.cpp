// The container verbs, at the top level (`ctr run`) and under `ctr
// container` (`ctr container ls`), as podman has both. Each is guarded by
// wants_command (command_filter.h) with the name it registers, so that
// `ctr run` builds only `run`.
#include "cmd/app.h"
#include "cmd/command_filter.h"

namespace ctr::cmd {

void add_container_commands(Cli& cli, CLI::App& app) {
  if (wants_command(cli, app, "attach")) add_attach(cli, app);
  if (wants_command(cli, app, "create")) add_create(cli, app);
  if (wants_command(cli, app, "exec")) add_exec(cli, app);
  if (wants_command(cli, app, "cp")) add_cp(cli, app);
  if (wants_command(cli, app, "export")) add_export(cli, app);
  if (wants_command(cli, app, "volume")) add_volume_commands(cli, app);
  if (wants_command(cli, app, "generate")) add_generate_commands(cli, app);
  if (wants_command(cli, app, "inspect")) add_inspect(cli, app);
  if (wants_command(cli, app, "port")) add_port(cli, app);
  if (wants_command(cli, app, "rename")) add_rename(cli, app);
  if (wants_command(cli, app, "restart")) add_restart(cli, app);
  if (wants_command(cli, app, "kill")) add_kill(cli, app);
  if (wants_command(cli, app, "pause")) add_pause(cli, app);
  if (wants_command(cli, app, "unpause")) add_unpause(cli, app);
  if (wants_command(cli, app, "update")) add_update(cli, app);
  if (wants_command(cli, app, "stats")) add_stats(cli, app);
  if (wants_command(cli, app, "logs")) add_logs(cli, app);
  if (wants_command(cli, app, "ps")) add_ps(cli, app, "ps");
  if (wants_command(cli, app, "rm")) add_rm(cli, app);
  if (wants_command(cli, app, "run")) add_run(cli, app);
  if (wants_command(cli, app, "start")) add_start(cli, app);
  if (wants_command(cli, app, "stop")) add_stop(cli, app);
  if (wants_command(cli, app, "top")) add_top(cli, app);
  if (wants_command(cli, app, "wait")) add_wait(cli, app);

  // `ctr container X`: see wants_command (command_filter.h).
  if (!wants_command(cli, app, "container")) return;
  CLI::App* container = app.add_subcommand("container", "Manage containers");
  container->require_subcommand(1);
  if (wants_command(cli, *container, "cleanup")) add_container_cleanup(cli, *container);
  if (wants_command(cli, *container, "attach")) add_attach(cli, *container);
  if (wants_command(cli, *container, "create")) add_create(cli, *container);
  if (wants_command(cli, *container, "exec")) add_exec(cli, *container);
  if (wants_command(cli, *container, "exec-cleanup")) add_exec_cleanup(cli, *container);
  if (wants_command(cli, *container, "cp")) add_cp(cli, *container);
  if (wants_command(cli, *container, "export")) add_export(cli, *container);
  if (wants_command(cli, *container, "inspect")) add_container_inspect(cli, *container);
  if (wants_command(cli, *container, "prune")) add_container_prune(cli, *container);
  if (wants_command(cli, *container, "port")) add_port(cli, *container);
  if (wants_command(cli, *container, "rename")) add_rename(cli, *container);
  if (wants_command(cli, *container, "restart")) add_restart(cli, *container);
  if (wants_command(cli, *container, "kill")) add_kill(cli, *container);
  if (wants_command(cli, *container, "pause")) add_pause(cli, *container);
  if (wants_command(cli, *container, "unpause")) add_unpause(cli, *container);
  if (wants_command(cli, *container, "update")) add_update(cli, *container);
  if (wants_command(cli, *container, "stats")) add_stats(cli, *container);
  if (wants_command(cli, *container, "logs")) add_logs(cli, *container);
  if (wants_command(cli, *container, "ls")) add_ps(cli, *container, "ls");
  if (wants_command(cli, *container, "ps")) add_ps(cli, *container, "ps");
  if (wants_command(cli, *container, "rm")) add_rm(cli, *container);
  if (wants_command(cli, *container, "run")) add_run(cli, *container);
  if (wants_command(cli, *container, "start")) add_start(cli, *container);
  if (wants_command(cli, *container, "stop")) add_stop(cli, *container);
  if (wants_command(cli, *container, "top")) add_top(cli, *container);
  if (wants_command(cli, *container, "wait")) add_wait(cli, *container);
}

}  // namespace ctr::cmd
