// ctr import [-c INSTR]... [-q] FILE|- [NAME[:TAG]]: a rootfs tarball as a
// one-layer image. Prints the new image's ID, as podman does.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/progress.h"
#include "image/archive.h"
#include "image/digest.h"
#include "image/reference.h"

namespace ctr::cmd {
namespace {

struct ImportFlags {
  std::vector<std::string> changes;
  bool quiet = false;
  std::string source;
  std::string name;
};

// podman accepts `CMD=/bin/sh` as well as `CMD /bin/sh`; the library takes the latter.
std::string normalize_change(const std::string& change) {
  size_t end = change.find_first_of("= ");
  if (end != std::string::npos && change[end] == '=') {
    std::string keyword = change.substr(0, end);
    for (const char* known :
         {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "WORKDIR", "VOLUME", "STOPSIGNAL", "ONBUILD"}) {
      if (keyword == known) return keyword + " " + change.substr(end + 1);
    }
  }
  return change;
}

int run_import(Context& ctx, const ImportFlags& flags) {
  if (flags.source == "-" && ::isatty(STDIN_FILENO) == 1)
    return fail(std::string("cannot read a tarball from a terminal: give a file or redirect stdin"));
  image::ImportOptions options;
  for (const auto& change : flags.changes) options.changes.push_back(normalize_change(change));
  if (!flags.name.empty()) {
    auto reference = image::parse_reference(flags.name);
    if (!reference) return fail(reference.error());
    options.name = reference->full();
  }
  auto store = ctx.store();
  if (!store) return fail(store.error());
  (void)ctx.maps();
  ProgressPrinter progress(!flags.quiet && stderr_is_tty());
  options.progress = progress.callback();
  auto imported = image::import_rootfs(**store, flags.source, options);
  progress.finish();
  if (!imported) return fail(imported.error());
  std::cout << image::digest_hex(imported->id) << "\n";
  return 0;
}

}  // namespace

void add_import(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("import", "Import a tarball as a filesystem image");
  auto flags = std::make_shared<ImportFlags>();
  cli.value(*sub, "-c,--change", flags->changes,
            "Apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME)",
            Completer::fixed, {"CMD=", "ENTRYPOINT=", "ENV=", "EXPOSE=", "LABEL=", "USER=", "WORKDIR=", "VOLUME="})
      ->allow_extra_args(false);
  sub->add_flag("-q,--quiet", flags->quiet, "Suppress the progress output");
  cli.value(*sub, "source", flags->source, "Tarball to import (- for stdin)", Completer::files)->required();
  cli.value(*sub, "reference", flags->name, "Name for the new image, NAME[:TAG]", Completer::none);
  cli.on_run(*sub, [&cli, flags] { return run_import(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
