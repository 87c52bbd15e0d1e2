// ctr run [-d] [-i] [-t] [--rm] [flags] IMAGE [COMMAND [ARG...]]: create and
// start a container. Detached, it prints the ID once the runtime reported
// the container started (the shim holds it from then on); in the foreground
// it attaches before starting and returns the container's exit status.
// A container the runtime cannot create gives podman's 125/126/127 with the
// runtime's message.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_attach.h"
#include "cmd/container_create.h"
#include "cmd/container_launch.h"
#include "cmd/detach_keys.h"
#include "cmd/volume_store.h"
#include "runtime/base/files.h"

namespace ctr::cmd {
namespace {

// A --rm container that is not running goes with its anonymous volumes, as
// podman's --rm (and the shim's exit command, container_cleanup.cpp).
void remove_with_volumes(Context& ctx, const ContainerRecord& record) {
  if (remove_container(ctx, record)) (void)remove_anonymous_volumes(ctx, record);
}

// After a failed launch: the runtime's message and its exit code; with --rm
// the container goes too.
int launch_failed(Context& ctx, const ContainerRecord& record, const shim::CreateResult& created) {
  if (record.rm) remove_with_volumes(ctx, record);
  std::cerr << "Error: " << created.error << std::endl;
  return created.exit_code ? created.exit_code : kExitError;
}

struct RunFlags {
  bool detach = false;
  std::string detach_keys;
  bool sig_proxy = true;
};

int run_container(Context& ctx, const CreateFlags& flags, const RunFlags& run) {
  bool detach = run.detach;
  auto keys = detach_key_bytes(run.detach_keys);
  if (!keys) return fail(keys.error());
  auto made = create_container(ctx, flags);
  if (!made) return fail(made.error());
  const ContainerRecord& record = *made;
  auto created = launch_container(ctx, record, detach);
  if (!created) {
    if (record.rm) remove_with_volumes(ctx, record);
    return fail(created.error());
  }
  if (!created->ok()) return launch_failed(ctx, record, *created);
  if (detach) {
    std::cout << record.id << std::endl;
    return 0;
  }
  ForegroundOptions foreground{flags.interactive, *keys, run.sig_proxy};
  int code = attach_foreground(record, created->pid, foreground);
  if (record.rm) {
    // Removed here, at once, so the caller never sees a container it asked
    // not to keep, without waiting for the shim's exit command (another exec
    // of ctr) to do it: whichever of the two takes the store lock first
    // removes it and the other finds nothing left, so this does all the
    // exit command's --rm does (anonymous volumes too, as podman's --rm).
    // The exit command remains the guarantee when this process is killed
    // first. Not after a detach: the container still runs.
    auto status = shim::read_container_status(shim_state_dir(record.id));
    if (status && status->state == shim::ContainerState::exited) {
      auto still = ctx.store();
      if (still && path_exists(container_dir(**still, record.id))) remove_with_volumes(ctx, record);
    }
  }
  return code;
}

}  // namespace

void add_run(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("run", "Run a command in a new container");
  auto flags = std::make_shared<CreateFlags>();
  auto run = std::make_shared<RunFlags>();
  sub->add_flag("-d,--detach", run->detach, "Run the container in the background and print its ID");
  add_detach_keys_option(cli, *sub, run->detach_keys);
  add_sig_proxy_flag(*sub, run->sig_proxy);
  add_create_flags(cli, *sub, *flags);
  cli.on_run(*sub, [&cli, flags, run, sub] {
    if (auto finished = finish_create_flags(*sub, *flags); !finished) return fail(finished.error());
    return run_container(cli.ctx, *flags, *run);
  });
}

}  // namespace ctr::cmd
