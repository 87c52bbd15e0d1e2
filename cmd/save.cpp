// ctr save [-o FILE] [--format oci-archive|docker-archive] [-q] IMAGE...:
// images to a tar archive (docker-archive by default, as podman). Without -o
// the tar goes to stdout, which must not be a terminal.
#include <memory>

#include "cmd/app.h"
#include "cmd/progress.h"
#include "image/archive.h"

namespace ctr::cmd {
namespace {

struct SaveFlags {
  std::string output;
  std::string format = "docker-archive";
  bool quiet = false;
  std::vector<std::string> images;
};

int run_save(Context& ctx, const SaveFlags& flags) {
  std::string output = flags.output.empty() ? "-" : flags.output;
  if (output == "-" && stdout_is_tty())
    return fail(std::string("refusing to save to terminal. Use -o flag or redirect"));
  auto format =
      flags.format == "oci-archive" ? image::ArchiveFormat::oci_archive : image::ArchiveFormat::docker_archive;
  auto store = ctx.store();
  if (!store) return fail(store.error());
  // Progress goes to stderr, so it never mixes with a tar on stdout.
  ProgressPrinter progress(!flags.quiet && stderr_is_tty());
  auto saved = image::save_images(**store, flags.images, output, format, progress.callback());
  progress.finish();
  if (!saved) return fail(saved.error());
  return 0;
}

}  // namespace

void add_save(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("save", "Save images to an archive");
  auto flags = std::make_shared<SaveFlags>();
  cli.value(*sub, "-o,--output", flags->output, "Write to this file (default: stdout, if not a terminal)",
            Completer::files);
  cli.value(*sub, "--format", flags->format, "Archive format: docker-archive (default) or oci-archive",
            Completer::fixed, {"docker-archive", "oci-archive"})
      ->check(CLI::IsMember({"docker-archive", "oci-archive"}));
  sub->add_flag("-q,--quiet", flags->quiet, "Suppress the progress output");
  cli.value(*sub, "image", flags->images, "Images to save (name, ID or ID prefix)", Completer::images)->required();
  cli.on_run(*sub, [&cli, flags] { return run_save(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
