// ctr volume inspect [--format F] NAME...: podman's volume JSON. Also the
// object `volume ls --format json` prints (volume_json, see volume_cli.h).
#include <iostream>
#include <memory>
#include <optional>

#include "cmd/app.h"
#include "cmd/output.h"
#include "cmd/volume_cli.h"
#include "cmd/volume_store.h"

namespace ctr::cmd {

Json volume_json(const image::Store& store, const Volume& volume) {
  return Json{{"Name", volume.name},
              {"Driver", volume.driver},
              {"Mountpoint", volume_data_dir(store, volume.name)},
              {"CreatedAt", go_rfc3339_nano(volume.created_ns)},
              {"Labels", volume.labels},
              {"Scope", "local"},
              {"Options", volume.options},
              {"MountCount", 0},
              {"NeedsCopyUp", false},
              {"NeedsChown", false},
              {"Anonymous", volume.anonymous}};
}

namespace {

struct InspectFlags {
  std::string format;
  std::vector<std::string> names;
  bool all = false;
};

int run_volume_inspect(Context& ctx, const InspectFlags& flags) {
  if (flags.all == !flags.names.empty()) return fail(std::string("provide one or more volume names or use --all"));
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto format = parse_inspect_format(flags.format);
  if (!format) return fail(format.error());
  const std::optional<Template>& tpl = *format;
  std::vector<Volume> volumes;
  int status = 0;
  if (flags.all) {
    auto all = list_volumes(**store);
    if (!all) return fail(all.error());
    volumes = std::move(*all);
  }
  for (const auto& name : flags.names) {
    auto found = read_volume(**store, name);
    if (!found) {
      status = fail(found.error().code == ENOENT ? "inspecting object: no such volume " + name
                                                 : found.error().message);
      continue;
    }
    volumes.push_back(std::move(*found));
  }
  Json array = Json::array();
  std::string lines;
  for (const auto& volume : volumes) {
    Json object = volume_json(**store, volume);
    if (!tpl) {
      array.push_back(std::move(object));
      continue;
    }
    auto line = tpl->render(object);
    if (!line) return fail(line.error());
    lines += *line + "\n";
  }
  std::cout << (tpl ? lines : array.dump(4) + "\n");
  return status;
}

}  // namespace

void add_volume_inspect(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("inspect", "Display detailed information on one or more volumes");
  auto flags = std::make_shared<InspectFlags>();
  sub->add_flag("-a,--all", flags->all, "Inspect all volumes");
  cli.value(*sub, "-f,--format", flags->format, "Output: json (default) or a Go template such as '{{.Mountpoint}}'",
            Completer::formats, {"json", "{{.Name}}", "{{.Mountpoint}}", "{{.Labels}}", "{{.CreatedAt}}"});
  cli.value(*sub, "volume", flags->names, "Volumes to inspect", Completer::volumes);
  cli.on_run(*sub, [&cli, flags] { return run_volume_inspect(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
