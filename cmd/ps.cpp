// ctr ps / ctr container ls [-a] [-q] [--no-trunc] [--format F]: podman's
// columns (CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES);
// the state comes from the shim's files, never from a stored field.
#include <ctime>
#include <iostream>
#include <map>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "cmd/output.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

struct PsFlags {
  bool all = false, quiet = false, no_trunc = false;
  std::string format;
};

std::string status_text(const LiveStatus& live, int64_t now) {
  if (live.state == "created") return "Created";
  if (live.state == "running") return "Up " + human_duration(now - live.started);
  std::string code = live.exit_code() >= 0 ? std::to_string(live.exit_code()) : "unknown";
  return "Exited (" + code + ") " + human_age(live.finished, now);
}

std::string command_text(const ContainerRecord& record, bool no_trunc) {
  std::string text = join(record.command, " ");
  // podman cuts the command at 20 characters in the table.
  if (!no_trunc && text.size() > 20) text = text.substr(0, 17) + "...";
  return text;
}

Json row_for(const ContainerRecord& record, const std::map<std::string, std::string>& image_names, bool no_trunc,
             int64_t now) {
  LiveStatus live = live_status(record);
  auto name = image_names.find(record.image_id);
  std::string image = name != image_names.end() ? name->second : record.image_name;
  Json row;
  row["ID"] = no_trunc ? record.id : record.id.substr(0, 12);
  row["Image"] = image;
  row["ImageID"] = record.image_id;
  row["Command"] = command_text(record, no_trunc);
  row["Created"] = human_age(record.created, now);
  row["CreatedAt"] = rfc3339(record.created);
  row["Status"] = status_text(live, now);
  row["State"] = live.state;
  row["Ports"] = "";
  row["Names"] = record.name;
  row["Pid"] = live.state == "running" && live.shim ? live.shim->pid : 0;
  row["ExitCode"] = live.exit_code() >= 0 ? live.exit_code() : 0;
  row["AutoRemove"] = record.rm;
  return row;
}

int run_ps(Context& ctx, const PsFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto records = list_records(**store);
  if (!records) return fail(records.error());
  std::map<std::string, std::string> image_names;
  if (auto images = (*store)->list_images(); images)
    for (const auto& image : *images)
      if (!image.names.empty()) image_names[image.id] = image.names.front();
  int64_t now = std::time(nullptr);
  std::vector<Json> rows;
  // podman lists the newest first.
  for (auto it = records->rbegin(); it != records->rend(); ++it) {
    Json row = row_for(*it, image_names, flags.no_trunc, now);
    if (!flags.all && row["State"] != "running") continue;
    rows.push_back(std::move(row));
  }
  if (flags.quiet) {
    for (const auto& row : rows) std::cout << row["ID"].get<std::string>() << "\n";
    return 0;
  }
  static const std::vector<Column> columns = {{"ID", "CONTAINER ID"}, {"Image", "IMAGE"},   {"Command", "COMMAND"},
                                              {"Created", "CREATED"}, {"Status", "STATUS"}, {"Ports", "PORTS"},
                                              {"Names", "NAMES"}};
  auto text = render_rows(flags.format, rows, columns);
  if (!text) return fail(text.error());
  std::cout << *text;
  return 0;
}

}  // namespace

void add_ps(Cli& cli, CLI::App& parent, const std::string& name) {
  CLI::App* sub = parent.add_subcommand(name, "List containers");
  if (name == "ls") sub->alias("list");
  auto flags = std::make_shared<PsFlags>();
  sub->add_flag("-a,--all", flags->all, "Show all containers (default: running ones)");
  sub->add_flag("-q,--quiet", flags->quiet, "Show container IDs only");
  sub->add_flag("--no-trunc", flags->no_trunc, "Do not truncate IDs and commands");
  cli.value(*sub, "--format", flags->format,
            "Output: json, table, or a Go template such as 'table {{.ID}}\\t{{.Names}}'", Completer::formats,
            {"json", "table", "{{.ID}}", "{{.Names}}", "{{.Image}}", "{{.Status}}", "{{.State}}", "{{.Command}}"});
  cli.on_run(*sub, [&cli, flags] { return run_ps(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
