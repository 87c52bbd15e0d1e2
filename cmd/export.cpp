// ctr export [-o FILE] CONTAINER: the container's file system as a tar
// (owners as the container sees them), to FILE or to stdout when that is
// not a terminal, as podman. `ctr import` makes an image of it again.
#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include "cmd/app.h"
#include "cmd/container_fs.h"
#include "runtime/base/files.h"

namespace ctr::cmd {
namespace {

struct ExportFlags {
  std::string output;
  std::string container;
};

Status export_container(Context& ctx, const ExportFlags& flags) {
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(record, find_record(*store, flags.container));
  int fd = STDOUT_FILENO;
  UniqueFd file;
  std::string staged;
  if (!flags.output.empty()) {
    // Written beside the target and renamed at the end: no half tar under its name.
    staged = flags.output + ".ctr-tmp-" + std::to_string(::getpid());
    TRY_ASSIGN(opened, open_fd(staged, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    file = std::move(opened);
    fd = file.get();
  }
  auto finish = [&](Status status) -> Status {
    if (!staged.empty() && !status) ::unlink(staged.c_str());
    return status;
  };
  auto child = start_in_container_fs(ctx, record, [fd]() -> Status { return write_tree_tar(fd, "/", ""); });
  if (!child) return finish(std::move(child).error());
  Status written = child->wait();
  if (!written) return finish(std::move(written).error().context("export container " + record.name));
  if (file && ::fsync(file.get()) != 0) return finish(sys_error("fsync `" + staged + "`"));
  if (!staged.empty() && ::rename(staged.c_str(), flags.output.c_str()) != 0)
    return finish(sys_error("rename `" + staged + "` to `" + flags.output + "`"));
  return {};
}

}  // namespace

void add_export(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("export", "Export a container's filesystem contents as a tar archive");
  auto flags = std::make_shared<ExportFlags>();
  cli.value(*sub, "-o,--output", flags->output, "Write to a file (default: stdout, which must not be a terminal)",
            Completer::files);
  cli.value(*sub, "container", flags->container, "Container to export (name, ID or ID prefix)", Completer::containers)
      ->required();
  cli.on_run(*sub, [&cli, flags] {
    if (flags->output.empty() && stdout_is_tty())
      return fail(std::string("refusing to export to terminal. Use -o flag or redirect"));
    Status done = export_container(cli.ctx, *flags);
    return done ? 0 : fail(done.error());
  });
}

}  // namespace ctr::cmd
