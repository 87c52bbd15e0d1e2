// ctr volume create [--driver local] [-l K=V]... [NAME]: prints the name
// (a fresh 64-hex one when none is given), as podman.
#include <iostream>
#include <memory>

#include "cmd/volume_cli.h"

namespace ctr::cmd {
namespace {

struct CreateVolumeFlags {
  std::string driver = "local";
  std::vector<std::string> labels, options;
  std::string name;
};

Result<Volume> create(Context& ctx, const CreateVolumeFlags& flags) {
  if (flags.driver != "local")
    return make_error("volume driver \"" + flags.driver + "\" is not supported: ctr has only the \"local\" driver",
                      EINVAL);
  if (!flags.options.empty())
    return make_error("invalid mount option " + flags.options[0].substr(0, flags.options[0].find('=')) +
                          " for driver 'local': ctr supports no volume options",
                      EINVAL);
  Volume volume;
  volume.name = flags.name;
  for (const auto& label : flags.labels) {
    auto eq = label.find('=');
    if (label.empty() || eq == 0) return make_error("invalid label `" + label + "`: use KEY=VALUE or KEY", EINVAL);
    volume.labels[label.substr(0, eq)] = eq == std::string::npos ? "" : label.substr(eq + 1);
  }
  if (!volume.name.empty()) TRY(validate_volume_name(volume.name));
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(lock, store->lock());
  return create_volume(*store, volume);
}

}  // namespace

void add_volume_create(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("create", "Create a new volume");
  auto flags = std::make_shared<CreateVolumeFlags>();
  cli.value(*sub, "-d,--driver", flags->driver, "Volume driver (only \"local\")", Completer::fixed, {"local"});
  cli.value(*sub, "-l,--label", flags->labels, "Set metadata for a volume (KEY=VALUE)", Completer::none)
      ->allow_extra_args(false);
  cli.value(*sub, "-o,--opt", flags->options, "Driver options (none are supported by ctr)", Completer::none)
      ->allow_extra_args(false);
  cli.value(*sub, "name", flags->name, "Name of the new volume", Completer::none);
  cli.on_run(*sub, [&cli, flags] {
    auto made = create(cli.ctx, *flags);
    if (!made) return fail(made.error());
    std::cout << made->name << "\n";
    return 0;
  });
}

}  // namespace ctr::cmd
