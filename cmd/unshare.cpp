// ctr unshare [CMD...]: run a command (default $SHELL) inside the store's
// user namespace, where layer files show their in-image owners, as podman
// unshare. The command's exit status passes through.
#include <cerrno>
#include <memory>

#include "cmd/app.h"

namespace ctr::cmd {
namespace {

struct UnshareFlags {
  std::string program;
  std::vector<std::string> arguments;
};

int run_unshare(Context& ctx, const UnshareFlags& flags) {
  auto maps = ctx.maps();
  if (!maps) return fail(maps.error());
  std::vector<std::string> argv;
  if (!flags.program.empty()) argv.push_back(flags.program);
  argv.insert(argv.end(), flags.arguments.begin(), flags.arguments.end());
  auto status = userns::exec_in_userns(**maps, argv);
  if (!status) {
    fail(status.error());
    // podman's codes: 127 the command was not found, 126 it could not be run.
    if (status.error().code == ENOENT) return kExitNotFound;
    if (status.error().code == EACCES || status.error().code == ENOEXEC) return kExitCannotInvoke;
    return kExitError;
  }
  return *status;
}

}  // namespace

void add_unshare(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("unshare", "Run a command in the user namespace of the image store");
  auto flags = std::make_shared<UnshareFlags>();
  // Everything after the command name belongs to it (`ctr unshare ls -l`).
  sub->prefix_command();
  sub->fallthrough(false);
  // The program is a positional (so it has a completer); its arguments are
  // what prefix_command leaves unparsed, in order.
  cli.value(*sub, "command", flags->program, "Command to run (default: $SHELL), then its arguments",
            Completer::commands);
  cli.on_run(*sub, [&cli, flags, sub] {
    UnshareFlags all = *flags;
    all.arguments = sub->remaining();
    return run_unshare(cli.ctx, all);
  });
}

}  // namespace ctr::cmd
