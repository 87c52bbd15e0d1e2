// ctr-runtime events [--stats] [--interval D] ID: the container's resource
// usage as runc prints it, one JSON object per line: with --stats one
// "stats" event, otherwise a "stats" event every interval and an "oom"
// event whenever memory.events counts a new OOM kill, until the container
// stops. Needs the container's cgroup (linux.cgroupsPath on cgroup v2).
#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/cgroup_freeze.h"
#include "runtime/cgroup_setup.h"
#include "runtime/cgroup_stats.h"
#include "runtime/cli/command.h"
#include "runtime/cli/common.h"

namespace ctr::cli {

namespace {

constexpr FlagSpec kFlags[] = {
    {"stats", 0, FlagKind::boolean, "print one stats event and exit"},
    {"interval", 0, FlagKind::value, "time between stats events (default 5s)", "DURATION"},
};

// Go's time.Duration text, the units runc users write: 500ms, 5s, 1m, 1h.
Result<int> parse_interval_ms(const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  std::string unit = end ? end : "";
  double scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : -1;
  if (end == text.c_str() || scale < 0 || value <= 0 || value * scale > 86400000.0)
    return make_error("invalid --interval `" + text + "`: use a duration like 500ms, 5s or 1m", EINVAL);
  return static_cast<int>(value * scale < 1 ? 1 : value * scale);
}

nlohmann::ordered_json stats_data(const cgroup::StatsSample& s) {
  nlohmann::ordered_json data = nlohmann::ordered_json::object();
  if (s.cpu_usec) data["cpu"] = {{"usage", {{"total", *s.cpu_usec * 1000}}}};
  if (s.mem_usage) data["memory"] = {{"usage", {{"usage", *s.mem_usage}, {"limit", s.mem_limit.value_or(0)}}}};
  if (s.pids) data["pids"] = {{"current", *s.pids}};
  if (s.read_bytes)
    data["blkio"] = {{"ioServiceBytesRecursive",
                      {{{"op", "Read"}, {"value", *s.read_bytes}}, {{"op", "Write"}, {"value", *s.write_bytes}}}}};
  return data;
}

void print_event(const char* type, const std::string& id, const nlohmann::ordered_json& data) {
  nlohmann::ordered_json event{{"type", type}, {"id", id}};
  if (!data.is_null()) event["data"] = data;
  std::cout << event.dump() << std::endl;
}

unsigned long oom_kills(const std::string& dir) {
  auto events = read_file(dir + "/memory.events");
  return events ? std::strtoul(cgroup::flat_keyed_value(*events, "oom_kill").c_str(), nullptr, 10) : 0;
}

bool still_running(const GlobalOptions& global, const std::string& id) {
  auto state = load_state(global, id);
  return state && state->status != ContainerStatus::stopped;
}

Result<int> run_events(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "events", 1, 1));
  const std::string& id = args.positionals[0];
  TRY_ASSIGN(interval_ms, parse_interval_ms(args.value("interval").value_or("5s")));
  TRY_ASSIGN(state, load_state(global, id));
  auto cgroup = cgroup::load_container_cgroup(state_dir(global, id));
  if (!cgroup)
    return make_error("container " + id + " has no cgroup, and events read its files: give it a "
                      "linux.cgroupsPath on cgroup v2", ENOTSUP);
  if (args.flag("stats")) {
    print_event("stats", id, stats_data(cgroup::sample_cgroup(cgroup->dir)));
    return 0;
  }
  if (state.status == ContainerStatus::stopped) return make_error("container " + id + " is not running", ESRCH);
  unsigned long ooms = oom_kills(cgroup->dir);
  while (still_running(global, id)) {
    print_event("stats", id, stats_data(cgroup::sample_cgroup(cgroup->dir)));
    // The interval in short steps, so an OOM kill is reported at once.
    for (int waited = 0; waited < interval_ms; waited += 100) {
      ::poll(nullptr, 0, std::min(100, interval_ms - waited));
      if (unsigned long now = oom_kills(cgroup->dir); now > ooms) {
        ooms = now;
        print_event("oom", id, nullptr);
      }
    }
  }
  return 0;
}

}  // namespace

const Command events_command{
    "events", "events [--stats] [--interval D] ID", "print a container's resource usage and OOM events as JSON",
    kFlags, run_events,
};

}  // namespace ctr::cli
