// ctr generate systemd [--new] [--name] [--files] [--restart-policy P]
// [--time N] CONTAINER: a systemd user unit for a container, in podman's
// shape (systemd_unit.h). Without --new the unit starts and stops the
// existing container; with --new it recreates it from the command that
// made it (ContainerRecord::create_command) on every start.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "cmd/systemd_unit.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

struct GenerateFlags {
  bool recreate = false, use_name = false, files = false;
  std::string restart_policy = "on-failure";
  unsigned time = 0;
  bool time_set = false;
  std::string container;
};

std::string self_exe() {
  char buffer[4096];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string("/usr/bin/ctr");
}

// Whether a flag of `ctr` (global) or of `ctr run` takes a separate value.
bool takes_value(CLI::App& app, const std::string& flag, bool global) {
  CLI::App* scope = &app;
  if (!global) {
    try {
      scope = app.get_subcommand("run");
    } catch (const CLI::OptionNotFound&) {
      return false;
    }
  }
  const CLI::Option* option = scope->get_option_no_throw(flag);
  return option && option->get_type_size_max() > 0;
}

int generate(Cli& cli, const GenerateFlags& flags) {
  auto store = cli.ctx.store();
  if (!store) return fail(store.error());
  auto record = find_record(**store, flags.container);
  if (!record) return fail(record.error());
  if (auto checked = check_restart_policy(flags.restart_policy); !checked) return fail(checked.error());
  GenerateSettings settings;
  settings.ctr_binary = self_exe();
  settings.global_args = {"--root", (*store)->root()};
  settings.recreate = flags.recreate;
  settings.container = record->name;
  settings.unit_name = "container-" + (flags.use_name ? record->name : record->id) + ".service";
  settings.stop_timeout = flags.time_set ? flags.time : record->stop_timeout;
  settings.restart_policy = flags.restart_policy;
  settings.version = CTR_VERSION;
  std::vector<std::string> exec_start;
  if (flags.recreate) {
    if (record->create_command.empty())
      return fail("container " + record->name +
                  " has no recorded create command (it was made by an older ctr): recreate it, or generate a unit "
                  "without --new");
    // The whole tree: this ctr may have registered only `generate systemd`
    // (command_filter.h), and `run`'s flags are needed to read the command.
    auto full = build_cli();
    auto command = recreate_command(record->create_command, settings.ctr_binary, record->name,
                                    [&](const std::string& flag, bool global) { return takes_value(full->app, flag, global); });
    if (!command) return fail(command.error());
    exec_start = std::move(*command);
    bool has_root = false;
    for (size_t i = 1; i < exec_start.size() && exec_start[i] != "run"; ++i)
      has_root = has_root || exec_start[i] == "--root" || starts_with(exec_start[i], "--root=") ||
                 exec_start[i] == "--storage" || starts_with(exec_start[i], "--storage=");
    // The unit runs with the manager's environment: name the store.
    if (!has_root) exec_start.insert(exec_start.begin() + 1, settings.global_args.begin(), settings.global_args.end());
  }
  auto text = render_generated_unit(settings, exec_start);
  if (!text) return fail(text.error());
  if (!flags.files) {
    std::cout << *text;
    return 0;
  }
  char cwd[4096];
  std::string path = std::string(::getcwd(cwd, sizeof cwd) ? cwd : ".") + "/" + settings.unit_name;
  if (auto written = write_file_atomic(path, *text, 0644); !written) return fail(written.error());
  std::cout << path << std::endl;
  return 0;
}

}  // namespace

void add_generate_commands(Cli& cli, CLI::App& app) {
  CLI::App* group = app.add_subcommand("generate", "Generate structured data (systemd units)");
  group->require_subcommand(1);
  CLI::App* sub = group->add_subcommand("systemd", "Generate a systemd user unit for a container");
  auto flags = std::make_shared<GenerateFlags>();
  sub->add_flag("--new", flags->recreate, "Create a new container on start and remove it on stop");
  sub->add_flag("-n,--name", flags->use_name, "Name the unit after the container's name instead of its ID");
  sub->add_flag("-f,--files", flags->files, "Write the unit to a file in the current directory and print its path");
  cli.value(*sub, "--restart-policy", flags->restart_policy, "systemd Restart= policy (default on-failure)",
            Completer::fixed, {"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"});
  cli.value(*sub, "-t,--time", flags->time, "Stop timeout in seconds (default: the container's)", Completer::none);
  cli.value(*sub, "container", flags->container, "Container (name, ID or ID prefix)", Completer::containers)
      ->required();
  cli.on_run(*sub, [&cli, flags, sub] {
    flags->time_set = sub->count("--time") > 0;
    return generate(cli, *flags);
  });
}

}  // namespace ctr::cmd
