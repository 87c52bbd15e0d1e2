// ctr kill [-s SIGNAL] [-a] CONTAINER...: signals the container's init
// (default SIGKILL), through the runtime inside the container's namespaces.
// A kill counts as a user stop: a --restart policy does not bring the
// container back.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_launch.h"
#include "cmd/container_restart.h"
#include "cmd/container_targets.h"

namespace ctr::cmd {
namespace {

struct KillFlags {
  std::string signal = "KILL";
  bool all = false;
  std::vector<std::string> containers;
};

int kill_one(const ContainerRecord& record, const std::string& text, int signal) {
  // As podman's kill, any signal counts as a user stop for the policy.
  if (live_status(record).state == "running") mark_stopped_by_user(record);
  auto sent = signal_container(record, signal);
  if (!sent) return fail(sent.error());
  if (!*sent)
    return fail("can only kill running containers. " + record.id + " is in state " + live_status(record).state +
                ": container state improper");
  std::cout << text << std::endl;
  return 0;
}

int run_kill(Context& ctx, const KillFlags& flags) {
  if (flags.all == !flags.containers.empty())
    return fail(std::string(flags.all ? "--all and containers cannot be used together"
                                      : "kill requires at least one container (or --all)"));
  auto signal = parse_signal(flags.signal);
  if (!signal) return fail(signal.error());
  auto store = ctx.store();
  if (!store) return fail(store.error());
  int status = 0;
  auto targets = select_containers(**store, "kill", flags.containers, flags.all,
                                   [](const ContainerRecord& r) { return live_status(r).state == "running"; }, status);
  if (!targets) return fail(targets.error());
  for (const auto& [text, record] : *targets)
    if (int code = kill_one(record, text, *signal); code) status = code;
  return status;
}

}  // namespace

void add_kill(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("kill", "Send a signal to one or more running containers");
  auto flags = std::make_shared<KillFlags>();
  cli.value(*sub, "-s,--signal", flags->signal, "Signal to send (name or number; default KILL)", Completer::signals);
  sub->add_flag("-a,--all", flags->all, "Signal all running containers");
  cli.value(*sub, "container", flags->containers, "Containers to signal (name, ID or ID prefix)",
            Completer::running_containers);
  cli.on_run(*sub, [&cli, flags] { return run_kill(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
