// ctr start [-a] CONTAINER...: starts created or exited containers (a
// running one is left alone, as podman does). With -a (one container) it
// attaches first and returns the container's exit status.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_attach.h"
#include "cmd/container_launch.h"
#include "cmd/detach_keys.h"

namespace ctr::cmd {
namespace {

struct StartFlags {
  bool attach = false;
  bool interactive = false;
  std::string detach_keys;
  bool sig_proxy = true;
  std::vector<std::string> containers;
};

int start_containers(Context& ctx, const StartFlags& flags) {
  if (flags.attach && flags.containers.size() != 1)
    return fail(std::string("you cannot start and attach multiple containers at once"));
  auto keys = detach_key_bytes(flags.detach_keys);
  if (!keys) return fail(keys.error());
  ForegroundOptions foreground{flags.interactive, *keys, flags.sig_proxy};
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  for (const auto& text : flags.containers) {
    auto record = find_record(**store, text);
    if (!record) {
      status = fail(record.error());
      continue;
    }
    if (live_status(*record).state == "running") {
      if (!flags.attach) std::cout << text << std::endl;
      if (flags.attach) return attach_foreground(*record, 0, foreground);
      continue;
    }
    auto created = launch_container(ctx, *record, !flags.attach);
    if (!created) {
      status = fail(created.error());
      continue;
    }
    if (!created->ok()) {
      std::cerr << "Error: " << created->error << std::endl;
      status = created->exit_code ? created->exit_code : kExitError;
      continue;
    }
    if (flags.attach) return attach_foreground(*record, created->pid, foreground);
    std::cout << text << std::endl;
  }
  return status;
}

}  // namespace

void add_start(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("start", "Start one or more containers");
  auto flags = std::make_shared<StartFlags>();
  sub->add_flag("-a,--attach", flags->attach, "Attach to the container's output and return its exit status");
  sub->add_flag("-i,--interactive", flags->interactive, "Send STDIN to the container (with -a)");
  add_detach_keys_option(cli, *sub, flags->detach_keys);
  add_sig_proxy_flag(*sub, flags->sig_proxy);
  cli.value(*sub, "container", flags->containers, "Containers to start (name, ID or ID prefix)", Completer::containers)
      ->required();
  cli.on_run(*sub, [&cli, flags] { return start_containers(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
