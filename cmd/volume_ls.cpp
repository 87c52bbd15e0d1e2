// ctr volume ls|list [-q] [--format F] [--filter K=V]...: podman's listing
// (DRIVER, VOLUME NAME), by name; nothing at all when there is no volume.
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "cmd/volume_cli.h"

namespace ctr::cmd {
namespace {

struct LsFlags {
  bool quiet = false;
  std::string format;
  std::vector<std::string> filters;
};

struct VolumeFilter {
  std::vector<std::string> names;
  std::vector<std::pair<std::string, std::optional<std::string>>> labels;
  std::optional<bool> dangling;
};

Result<VolumeFilter> parse_volume_filters(const std::vector<std::string>& texts) {
  VolumeFilter filter;
  for (const auto& text : texts) {
    auto eq = text.find('=');
    std::string key = text.substr(0, eq), value = eq == std::string::npos ? "" : text.substr(eq + 1);
    if (eq == std::string::npos || value.empty())
      return make_error("invalid volume filter `" + text + "`: use KEY=VALUE (name, label, dangling)", EINVAL);
    if (key == "name") {
      filter.names.push_back(value);
    } else if (key == "label") {
      auto leq = value.find('=');
      if (leq == std::string::npos)
        filter.labels.emplace_back(value, std::nullopt);
      else
        filter.labels.emplace_back(value.substr(0, leq), value.substr(leq + 1));
    } else if (key == "dangling") {
      if (value != "true" && value != "false" && value != "1" && value != "0")
        return make_error("invalid volume filter `" + text + "`: dangling takes true or false", EINVAL);
      filter.dangling = value == "true" || value == "1";
    } else {
      return make_error("\"" + key + "\" is an invalid volume filter (supported: name, label, dangling)", EINVAL);
    }
  }
  return filter;
}

bool keep(const VolumeFilter& filter, const Volume& volume, bool used) {
  if (filter.dangling && used == *filter.dangling) return false;
  if (!filter.names.empty()) {
    bool any = false;
    // podman matches the name as a substring (regexp without anchors).
    for (const auto& name : filter.names) any = any || volume.name.find(name) != std::string::npos;
    if (!any) return false;
  }
  for (const auto& [key, value] : filter.labels) {
    auto it = volume.labels.find(key);
    if (it == volume.labels.end() || (value && it->second != *value)) return false;
  }
  return true;
}

int run_volume_ls(Context& ctx, const LsFlags& flags) {
  auto filter = parse_volume_filters(flags.filters);
  if (!filter) return fail(filter.error());
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto volumes = list_volumes(**store);
  if (!volumes) return fail(volumes.error());
  std::map<std::string, std::vector<std::string>> users;
  if (filter->dangling) {
    auto found = volume_users(**store);
    if (!found) return fail(found.error());
    users = std::move(*found);
  }
  std::vector<Json> rows;
  for (const auto& volume : *volumes) {
    if (!keep(*filter, volume, users.count(volume.name) > 0)) continue;
    if (flags.quiet) {
      std::cout << volume.name << "\n";
      continue;
    }
    rows.push_back(volume_json(**store, volume));
  }
  if (flags.quiet) return 0;
  if (flags.format == "json") {
    std::cout << Json(rows).dump(2) << "\n";
    return 0;
  }
  if (rows.empty() && (flags.format.empty() || flags.format == "table")) return 0;
  static const std::vector<Column> columns{{"Driver", "DRIVER"}, {"Name", "VOLUME NAME"}};
  auto text = render_rows(flags.format, rows, columns);
  if (!text) return fail(text.error());
  std::cout << *text;
  return 0;
}

}  // namespace

void add_volume_ls(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("ls", "List volumes");
  sub->alias("list");
  auto flags = std::make_shared<LsFlags>();
  sub->add_flag("-q,--quiet", flags->quiet, "Print volume names only");
  cli.value(*sub, "--format", flags->format, "Output: json, table, or a Go template such as '{{.Name}}'",
            Completer::formats, {"json", "table", "{{.Name}}", "{{.Driver}}", "{{.Mountpoint}}"});
  cli.value(*sub, "-f,--filter", flags->filters, "Filter: name=NAME, label=KEY[=VALUE], dangling=true|false",
            Completer::fixed, {"name=", "label=", "dangling=true", "dangling=false"})
      ->allow_extra_args(false);
  cli.on_run(*sub, [&cli, flags] { return run_volume_ls(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
