// ctr inspect [--type container|image|all] [-f FORMAT] [-l] NAME... and
// ctr container inspect: a JSON array of podman-shaped objects (or one
// template line each). With the default type a name is looked up as a
// container first, then as an image, as podman does. Every object found is
// printed; each missing name is an error afterwards (exit 125), the last
// one as "Error: ...", the ones before as "error inspecting object: ...".
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_inspect.h"
#include "cmd/output.h"

namespace ctr::cmd {
namespace {

struct InspectFlags {
  std::string type = "all";
  std::string format;
  bool latest = false;
  std::vector<std::string> names;
};

// One object, or the message for a name that is not there.
Result<Json> find_object(const image::Store& store, const std::string& type, const std::string& name) {
  if (type != "image") {
    auto record = find_record(store, name);
    if (record) return container_inspect_json(store, *record);
    if (record.error().code != ENOENT) return std::move(record).error();
    if (type == "container") return make_error("no such container " + name, ENOENT);
  }
  auto image = store.find_image(name);
  if (image) return image_inspect_json(store, *image);
  if (type == "image") return make_error(name + ": image not known", ENOENT);
  return make_error("no such object: \"" + name + "\"", ENOENT);
}

int run_inspect(Context& ctx, const InspectFlags& flags) {
  if (flags.type != "all" && flags.type != "container" && flags.type != "image")
    return fail("invalid type \"" + flags.type + "\": must be \"container\", \"image\" or \"all\"");
  if (flags.latest && !flags.names.empty()) return fail(std::string("--latest and containers cannot be used together"));
  if (!flags.latest && flags.names.empty()) return fail(std::string("inspect requires at least one name or ID (or --latest)"));
  auto format = parse_inspect_format(flags.format);
  if (!format) return fail(format.error());
  const std::optional<Template>& tpl = *format;
  auto store = ctx.store();
  if (!store) return fail(store.error());
  std::vector<std::string> names = flags.names;
  if (flags.latest) {
    auto records = list_records(**store);
    if (!records) return fail(records.error());
    if (records->empty()) return fail(std::string("no containers to inspect: --latest found none"));
    names.push_back(records->back().id);
  }
  std::vector<std::string> errors;
  Json array = Json::array();
  std::string lines;
  for (const auto& name : names) {
    auto object = find_object(**store, flags.latest ? "container" : flags.type, name);
    if (!object) {
      errors.push_back(object.error().message);
      continue;
    }
    if (!tpl) {
      array.push_back(std::move(object).value());
      continue;
    }
    auto line = tpl->render(*object);
    if (!line) return fail(line.error().message);
    lines += *line + "\n";
  }
  std::cout << (tpl ? lines : array.dump(4) + "\n") << std::flush;
  for (size_t i = 0; i + 1 < errors.size(); ++i) std::cerr << "error inspecting object: " << errors[i] << "\n";
  if (!errors.empty()) return fail("inspecting object: " + errors.back());
  return 0;
}

void add(Cli& cli, CLI::App& parent, bool with_type) {
  CLI::App* sub = parent.add_subcommand(
      "inspect", with_type ? "Display the configuration of containers or images" : "Display the configuration of containers");
  auto flags = std::make_shared<InspectFlags>();
  if (with_type)
    cli.value(*sub, "-t,--type", flags->type, "What to inspect: container, image or all (default)",
              Completer::fixed, {"container", "image", "all"});
  else
    flags->type = "container";
  cli.value(*sub, "-f,--format", flags->format, "Output: json (default) or a Go template such as '{{.State.Pid}}'",
            Completer::formats,
            {"json", "{{.Id}}", "{{.Name}}", "{{.State.Status}}", "{{.State.Pid}}", "{{json .Config}}",
             "{{.RestartCount}}"});
  sub->add_flag("-l,--latest", flags->latest, "Inspect the latest container created");
  cli.value(*sub, "name", flags->names,
            with_type ? "Containers or images (name, ID or ID prefix)" : "Containers (name, ID or ID prefix)",
            Completer::containers);
  cli.on_run(*sub, [&cli, flags] { return run_inspect(cli.ctx, *flags); });
}

}  // namespace

void add_inspect(Cli& cli, CLI::App& parent) {
  add(cli, parent, true);
}
void add_container_inspect(Cli& cli, CLI::App& parent) {
  add(cli, parent, false);
}

}  // namespace ctr::cmd
