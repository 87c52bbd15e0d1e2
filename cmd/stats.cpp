// ctr stats [--no-stream] [--format json|TEMPLATE] [-a] [CONTAINER...]:
// resource usage from each container's cgroup v2 files (NET IO from its
// network namespace's /proc/PID/net/dev), in podman's columns. --no-stream
// prints one table (CPU % since the container started); otherwise the table
// refreshes every second (CPU % over the last second), clearing the screen
// on a terminal, until interrupted.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "cmd/container_stats.h"
#include "cmd/output.h"
#include "runtime/cgroup_setup.h"

namespace ctr::cmd {
namespace {

struct StatsFlags {
  bool no_stream = false;
  bool all = false;
  std::string format;
  std::vector<std::string> containers;
};

struct Watched {
  ContainerRecord record;
  std::string cgroup_dir;  // "" without a cgroup
  uint64_t previous_cpu = 0;
  int64_t since_ns = 0;
  pid_t pid = 0;  // the container's init: its network namespace's counters
};

Result<std::vector<Watched>> watched_containers(Context& ctx, const StatsFlags& flags) {
  TRY_ASSIGN(store, ctx.store());
  std::vector<ContainerRecord> records;
  if (flags.containers.empty()) {
    TRY_ASSIGN(all, list_records(*store));
    records = std::move(all);
  } else {
    for (const auto& name : flags.containers) {
      TRY_ASSIGN(record, find_record(*store, name));
      records.push_back(std::move(record));
    }
  }
  std::vector<Watched> out;
  for (auto& record : records) {
    LiveStatus live = live_status(record);
    if (live.state != "running") {
      if (!flags.containers.empty())
        return make_error("container " + record.name + " is " + live.shown_state() +
                              ": stats are only available for running containers",
                          EINVAL);
      if (!flags.all) continue;
    }
    pid_t pid = live.state == "running" && live.shim ? live.shim->pid : 0;  // an old one may be reused
    Watched w{record, "", 0, live.started * 1000000000, pid};
    if (auto cgroup = cgroup::load_container_cgroup(oci_runtime_root() + "/" + record.id)) w.cgroup_dir = cgroup->dir;
    out.push_back(std::move(w));
  }
  return out;
}

const std::vector<Column>& columns() {
  static const std::vector<Column> cols = {{"ID", "ID"},           {"Name", "NAME"},
                                           {"CPUPerc", "CPU %"},   {"MemUsage", "MEM USAGE / LIMIT"},
                                           {"MemPerc", "MEM %"},   {"NetIO", "NET IO"},
                                           {"BlockIO", "BLOCK IO"}, {"PIDs", "PIDS"}};
  return cols;
}

// One round: samples every container and renders them.
Result<std::string> render_round(std::vector<Watched>& watched, const std::string& format) {
  std::vector<Json> rows, objects;
  for (auto& w : watched) {
    StatsSample sample = sample_cgroup(w.cgroup_dir);
    Json row = stats_row(w.record.id, w.record.name, sample, w.previous_cpu, w.since_ns, container_net_io(w.pid));
    objects.push_back(stats_json(row, sample));
    rows.push_back(std::move(row));
    w.previous_cpu = sample.cpu_usec.value_or(0);
    w.since_ns = sample.taken_ns;
  }
  if (format == "json") return Json(objects).dump(4) + "\n";
  return render_rows(format, rows, columns());
}

int run_stats(Context& ctx, const StatsFlags& flags) {
  if (flags.all && !flags.containers.empty()) return fail("--all and containers cannot be used together");
  if (flags.format != "" && flags.format != "json" && flags.format != "table") {
    auto checked = Template::parse(flags.format.rfind("table ", 0) == 0 ? flags.format.substr(6) : flags.format);
    if (!checked) return fail(checked.error());
  }
  auto watched = watched_containers(ctx, flags);
  if (!watched) return fail(watched.error());
  bool terminal = ::isatty(STDOUT_FILENO) == 1;
  for (;;) {
    auto text = render_round(*watched, flags.format);
    if (!text) return fail(text.error());
    if (!flags.no_stream && terminal) std::cout << "\033[2J\033[H";  // clear, home: a refreshing table
    std::cout << *text << std::flush;
    if (flags.no_stream) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace

void add_stats(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("stats", "Display a live stream of container resource usage statistics");
  auto flags = std::make_shared<StatsFlags>();
  sub->add_flag("-a,--all", flags->all, "Show all containers (not only running ones)");
  sub->add_flag("--no-stream", flags->no_stream, "Print the current statistics once, do not refresh");
  cli.value(*sub, "--format", flags->format, "Output format: json, table, or a Go template", Completer::formats);
  cli.value(*sub, "container", flags->containers, "Containers to show (name, ID or ID prefix)",
            Completer::running_containers);
  cli.on_run(*sub, [&cli, flags] { return run_stats(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
