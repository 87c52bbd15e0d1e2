// ctr container cleanup ID (hidden): the shim's exit command. It runs inside
// the container's user + mount namespace once the container has exited:
// deletes the runtime's state, unmounts the root file system, and removes
// the container when it was run with --rm.
#include <fcntl.h>

#include <memory>

#include "cmd/app.h"
#include "cmd/container_launch.h"
#include "image/container_layers.h"
#include "runtime/base/child_process.h"
#include "runtime/base/files.h"

namespace ctr::cmd {
namespace {

Status cleanup(Context& ctx, const std::string& id) {
  TRY_ASSIGN(store, ctx.store());
  auto record = find_record(*store, id);
  if (!record) return record.error().code == ENOENT ? Status{} : Status(std::move(record).error());
  // Not ctx.maps(): in here we are root of the store's namespace already.
  SpawnOptions quiet;
  TRY_ASSIGN(null_fd, open_fd("/dev/null", O_RDWR));
  quiet.stdin_fd = quiet.stdout_fd = null_fd.get();
  auto deleted = run_process(
      {helper_binary("ctr-runtime", "CTR_RUNTIME_BIN"), "--root", oci_runtime_root(), "delete", "--force", record->id},
      quiet, std::chrono::seconds(60));
  if (!deleted) return std::move(deleted).error();
  TRY_ASSIGN(layer, image::find_container_layer(*store, record->id));
  Status unmounted = image::unmount_container_rootfs(*store, layer);
  if (!unmounted && unmounted.error().code != EINVAL && unmounted.error().code != ENOENT) return unmounted;
  if (record->rm) TRY(remove_container(ctx, *record));
  return {};
}

}  // namespace

void add_container_cleanup(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("cleanup", "Clean up after a container exited (run by ctr-shim)");
  sub->group("");  // hidden: not for people
  auto id = std::make_shared<std::string>();
  cli.value(*sub, "container", *id, "Container ID", Completer::containers)->required();
  cli.on_run(*sub, [&cli, id] {
    Status done = cleanup(cli.ctx, *id);
    return done ? 0 : fail(done.error().context("clean up container " + *id));
  });
}

}  // namespace ctr::cmd
