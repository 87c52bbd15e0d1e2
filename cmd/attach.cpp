// ctr attach [--detach-keys K] [--no-stdin] [--sig-proxy=false] CONTAINER:
// connect to a running container's stdio through its shim's attach socket;
// ctrl-p,ctrl-q (or the given keys) detaches and leaves it running; if it
// exits meanwhile, its exit status is ours.
#include <memory>

#include "cmd/app.h"
#include "cmd/container_attach.h"
#include "cmd/detach_keys.h"

namespace ctr::cmd {
namespace {

struct AttachFlags {
  std::string detach_keys;
  bool no_stdin = false;
  bool sig_proxy = true;
  std::string container;
};

int attach_container(Context& ctx, const AttachFlags& flags) {
  auto keys = detach_key_bytes(flags.detach_keys);
  if (!keys) return fail(keys.error());
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto record = find_record(**store, flags.container);
  if (!record) return fail(record.error());
  if (live_status(*record).state != "running")
    return fail("you can only attach to running containers: container " + record->name +
                " is not running (start it with ctr start -a)");
  // Its stdin is there to write to only when it was created with -i.
  ForegroundOptions foreground{record->stdin && !flags.no_stdin, *keys, flags.sig_proxy};
  return attach_foreground(*record, 0, foreground);
}

}  // namespace

void add_attach(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("attach", "Attach to a running container's input and output");
  auto flags = std::make_shared<AttachFlags>();
  add_detach_keys_option(cli, *sub, flags->detach_keys);
  sub->add_flag("--no-stdin", flags->no_stdin, "Do not send STDIN to the container");
  add_sig_proxy_flag(*sub, flags->sig_proxy);
  cli.value(*sub, "container", flags->container, "Running container (name, ID or ID prefix)",
            Completer::running_containers)
      ->required();
  cli.on_run(*sub, [&cli, flags] { return attach_container(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
