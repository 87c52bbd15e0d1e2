// ctr kill [-s SIGNAL] CONTAINER...: signals the container's init (default
// SIGKILL), through the runtime inside the container's namespaces.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_launch.h"

namespace ctr::cmd {
namespace {

struct KillFlags {
  std::string signal = "KILL";
  std::vector<std::string> containers;
};

int run_kill(Context& ctx, const KillFlags& flags) {
  auto signal = parse_signal(flags.signal);
  if (!signal) return fail(signal.error());
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  for (const auto& text : flags.containers) {
    auto record = find_record(**store, text);
    if (!record) {
      status = fail(record.error());
      continue;
    }
    auto sent = signal_container(*record, *signal);
    if (!sent) {
      status = fail(sent.error());
    } else if (!*sent) {
      status = fail("can only kill running containers: " + record->name + " is in state " + live_status(*record).state +
                    ": container state improper");
    } else {
      std::cout << text << std::endl;
    }
  }
  return status;
}

}  // namespace

void add_kill(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("kill", "Send a signal to one or more running containers");
  auto flags = std::make_shared<KillFlags>();
  cli.value(*sub, "-s,--signal", flags->signal, "Signal to send (name or number; default KILL)", Completer::signals);
  cli.value(*sub, "container", flags->containers, "Containers to signal (name, ID or ID prefix)",
            Completer::running_containers)
      ->required();
  cli.on_run(*sub, [&cli, flags] { return run_kill(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
