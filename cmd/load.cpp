// ctr load -i FILE|- [-q]: images from a docker-archive, oci-archive or OCI
// layout into the store. Prints `Loaded image: NAME` per name, as podman, or
// `Loaded image: sha256:ID` for an image without a name.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/progress.h"
#include "image/archive.h"

namespace ctr::cmd {
namespace {

struct LoadFlags {
  std::string input;
  bool quiet = false;
};

int run_load(Context& ctx, const LoadFlags& flags) {
  std::string input = flags.input.empty() ? "-" : flags.input;
  if (input == "-" && ::isatty(STDIN_FILENO) == 1)
    return fail(std::string("cannot read from terminal, use command-line redirection or the --input flag"));
  auto store = ctx.store();
  if (!store) return fail(store.error());
  (void)ctx.maps();  // layers keep their owners inside the store's user namespace; warn once if single-ID
  ProgressPrinter progress(!flags.quiet && stderr_is_tty());
  image::LoadOptions options;
  options.progress = progress.callback();
  auto loaded = image::load_archive(**store, input, options);
  progress.finish();
  if (!loaded) return fail(loaded.error());
  for (const auto& image : *loaded) {
    if (image.names.empty()) {
      std::cout << "Loaded image: " << image.id << "\n";
      continue;
    }
    for (const auto& name : image.names) std::cout << "Loaded image: " << name << "\n";
  }
  return 0;
}

}  // namespace

void add_load(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("load", "Load image(s) from a tar archive (docker-archive, oci-archive)");
  auto flags = std::make_shared<LoadFlags>();
  cli.value(*sub, "-i,--input", flags->input, "Read from this archive instead of stdin", Completer::files);
  sub->add_flag("-q,--quiet", flags->quiet, "Suppress the progress output");
  cli.on_run(*sub, [&cli, flags] { return run_load(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
