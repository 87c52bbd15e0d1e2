// ctr ps / ctr container ls [-a] [-q] [-l] [-n N] [--no-trunc] [--filter F]
// [--sort KEY] [--format F]: podman's columns (CONTAINER ID, IMAGE,
// COMMAND, CREATED, STATUS, PORTS, NAMES) and its JSON keys. The state
// comes from the shim's files, never from a stored field, and listing only
// reads files (no process per container), so `ps -a` stays fast with
// hundreds of containers.
#include <algorithm>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "cmd/output.h"
#include "cmd/ps_filter.h"
#include "cmd/publish.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

struct PsFlags {
  bool all = false, quiet = false, no_trunc = false, latest = false;
  int last = -1;
  std::vector<std::string> filters;
  std::string sort = "created";
  std::string format;
};

std::string status_text(const LiveStatus& live, int64_t now) {
  if (live.state == "created") return "Created";
  if (live.paused) return "Paused";
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

// One container as ps sees it: the record, its live state and the name of its image.
struct Entry {
  ContainerRecord record;
  LiveStatus live;
  std::string image;
};

Json labels_json(const ContainerRecord& record) {
  if (record.labels.empty()) return nullptr;
  Json labels = Json::object();
  for (const auto& [key, value] : record.labels) labels[key] = value;
  return labels;
}

// podman's JSON Ports: its PortMapping objects (host_ip "" = every address), null for none.
Json ports_json(const ContainerRecord& record) {
  auto mappings = record_port_mappings(record.ports);
  if (mappings.empty()) return nullptr;
  Json ports = Json::array();
  for (const auto& m : mappings)
    ports.push_back({{"host_ip", m.host_ip == "0.0.0.0" ? "" : m.host_ip},
                     {"container_port", m.container_port},
                     {"host_port", m.host_port},
                     {"range", m.range},
                     {"protocol", m.protocol}});
  return ports;
}

// The fields of a --format template (podman's psReporter names).
Json template_row(const Entry& e, bool no_trunc, int64_t now) {
  const ContainerRecord& record = e.record;
  Json row;
  row["ID"] = no_trunc ? record.id : record.id.substr(0, 12);
  row["Image"] = e.image;
  row["ImageID"] = record.image_id;
  row["Command"] = command_text(record, no_trunc);
  row["Created"] = human_age(record.created, now);
  row["CreatedAt"] = rfc3339(record.created);
  row["RunningFor"] = human_age(record.created, now);
  row["Status"] = status_text(e.live, now);
  row["State"] = e.live.shown_state();
  row["Ports"] = ports_summary(record_port_mappings(record.ports));
  row["Names"] = record.name;
  row["Pid"] = e.live.state == "running" && e.live.shim ? e.live.shim->pid : 0;
  row["ExitCode"] = e.live.exit_code() >= 0 ? e.live.exit_code() : 0;
  row["Exited"] = e.live.state == "exited";
  row["AutoRemove"] = record.rm;
  row["Labels"] = labels_json(record);
  row["Mounts"] = Json::array();
  for (const auto& mount : record.mounts) row["Mounts"].push_back(mount.destination);
  row["Networks"] = Json::array();
  row["Restarts"] = record.restart_count;
  return row;
}

// podman's `ps --format json` object.
Json json_row(const Entry& e, int64_t now) {
  const ContainerRecord& record = e.record;
  constexpr int64_t go_zero_time = -62135596800;  // what podman prints for "never"
  bool exited = e.live.state == "exited";
  std::string image_id = starts_with(record.image_id, "sha256:") ? record.image_id.substr(7) : record.image_id;
  Json mounts = Json::array();
  for (const auto& mount : record.mounts) mounts.push_back(mount.destination);
  return {{"AutoRemove", record.rm},
          {"Command", record.command},
          {"CreatedAt", human_age(record.created, now)},
          {"Exited", exited},
          {"ExitedAt", exited && e.live.finished ? e.live.finished : go_zero_time},
          {"ExitCode", e.live.exit_code() >= 0 ? e.live.exit_code() : 0},
          {"Id", record.id},
          {"Image", e.image},
          {"ImageID", image_id},
          {"IsInfra", false},
          {"Labels", labels_json(record)},
          {"Mounts", mounts},
          {"Names", Json::array({record.name})},
          {"Namespaces", Json::object()},
          {"Networks", Json::array()},
          {"Pid", e.live.state == "running" && e.live.shim ? e.live.shim->pid : 0},
          {"Pod", ""},
          {"PodName", ""},
          {"Ports", ports_json(record)},
          {"Restarts", record.restart_count},
          {"Size", nullptr},
          {"StartedAt", e.live.state != "created" && e.live.started ? e.live.started : go_zero_time},
          {"State", e.live.shown_state()},
          {"Status", status_text(e.live, now)},
          {"Created", record.created}};
}

// --sort: podman's keys; the default (created) is newest first.
Status sort_entries(std::vector<Entry>& entries, const std::string& key) {
  auto by = [&](auto field) {
    std::stable_sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) { return field(a) < field(b); });
  };
  if (key == "created" || key == "runningfor") {
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.record.created_ns > b.record.created_ns; });
  } else if (key == "id") {
    by([](const Entry& e) { return e.record.id; });
  } else if (key == "names") {
    by([](const Entry& e) { return e.record.name; });
  } else if (key == "image") {
    by([](const Entry& e) { return e.image; });
  } else if (key == "command") {
    by([](const Entry& e) { return join(e.record.command, " "); });
  } else if (key == "status") {
    by([](const Entry& e) { return e.live.state; });
  } else {
    return make_error("invalid --sort `" + key + "`: use command, created, id, image, names, runningfor or status",
                      EINVAL);
  }
  return {};
}

int run_ps(Context& ctx, const PsFlags& flags) {
  if (flags.latest && flags.last >= 0) return fail(std::string("--last and --latest are mutually exclusive"));
  auto filter = PsFilter::parse(flags.filters);
  if (!filter) return fail(filter.error());
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto records = list_records(**store);
  if (!records) return fail(records.error());
  std::map<std::string, std::string> image_names;
  if (auto images = (*store)->list_images(); images)
    for (const auto& image : *images)
      if (!image.names.empty()) image_names[image.id] = image.names.front();
  // As podman: a status filter, --latest and --last look at every container.
  bool all = flags.all || flags.latest || flags.last >= 0 || filter->has("status");
  std::vector<Entry> entries;
  for (auto& record : *records) {
    Entry e{std::move(record), {}, {}};
    e.live = live_status(e.record);
    if (!all && e.live.state != "running") continue;
    auto name = image_names.find(e.record.image_id);
    e.image = name != image_names.end() ? name->second : e.record.image_name;
    PsFilter::Subject subject{&e.record, e.live.shown_state(), e.live.exit_code(), e.image};
    if (!filter->matches(subject)) continue;
    entries.push_back(std::move(e));
  }
  // --latest / --last N: the newest containers, whatever --sort says.
  if (flags.latest || flags.last >= 0) {
    (void)sort_entries(entries, "created");
    size_t keep = flags.latest ? 1 : static_cast<size_t>(flags.last);
    if (entries.size() > keep) entries.resize(keep);
  }
  if (auto sorted = sort_entries(entries, flags.sort); !sorted) return fail(sorted.error());
  int64_t now = std::time(nullptr);
  if (flags.quiet) {
    for (const auto& e : entries) std::cout << (flags.no_trunc ? e.record.id : e.record.id.substr(0, 12)) << "\n";
    return 0;
  }
  if (trim(flags.format) == "json") {
    Json array = Json::array();
    for (const auto& e : entries) array.push_back(json_row(e, now));
    std::cout << array.dump(2) << "\n";
    return 0;
  }
  std::vector<Json> rows;
  for (const auto& e : entries) rows.push_back(template_row(e, flags.no_trunc, now));
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
  sub->add_flag("-l,--latest", flags->latest, "Show the latest container created (in any state)");
  cli.value(*sub, "-n,--last", flags->last, "Show the N latest containers created (in any state)", Completer::none)
      ->check(CLI::NonNegativeNumber);
  cli.value(*sub, "-f,--filter", flags->filters,
            "Filter: status=, name= (regex), label=KEY[=VALUE], ancestor=IMAGE, id=, exited=CODE", Completer::fixed,
            {"status=created", "status=running", "status=exited", "name=", "label=", "ancestor=", "id=", "exited="});
  cli.value(*sub, "--sort", flags->sort, "Sort by command, created (default), id, image, names, runningfor or status",
            Completer::fixed, {"command", "created", "id", "image", "names", "runningfor", "status"});
  cli.value(*sub, "--format", flags->format,
            "Output: json, table, or a Go template such as 'table {{.ID}}\\t{{.Names}}'", Completer::formats,
            {"json", "table", "{{.ID}}", "{{.Names}}", "{{.Image}}", "{{.Status}}", "{{.State}}", "{{.Command}}",
             "{{.Ports}}"});
  cli.on_run(*sub, [&cli, flags] { return run_ps(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
