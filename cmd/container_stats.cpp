#include "cmd/container_stats.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "runtime/base/files.h"
#include "runtime/cgroup_freeze.h"

namespace ctr::cmd {
namespace {

// podman's stats sizes: go-units HumanSize without the space ("1.954MB").
std::string size_text(uint64_t bytes) {
  std::string text = human_size(bytes);
  if (auto space = text.find(' '); space != std::string::npos) text.erase(space, 1);
  return text;
}

std::string percent(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", value);
  return buf;
}

std::string pair_text(const std::optional<uint64_t>& a, const std::optional<uint64_t>& b) {
  return (a ? size_text(*a) : "--") + " / " + (b ? size_text(*b) : "--");
}

// Go's Duration printing, roughly: "12.345ms", "1.5s".
std::string cpu_time_text(uint64_t usec) {
  char buf[48];
  if (usec >= 1000000)
    std::snprintf(buf, sizeof buf, "%.3fs", static_cast<double>(usec) / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.3fms", static_cast<double>(usec) / 1e3);
  return buf;
}

}  // namespace

Json stats_row(const std::string& id, const std::string& name, const StatsSample& now, uint64_t previous_cpu_usec,
               int64_t since_ns) {
  std::string cpu = "--";
  double elapsed_usec = static_cast<double>(now.taken_ns - since_ns) / 1000.0;
  if (now.cpu_usec && elapsed_usec > 0)
    cpu = percent(static_cast<double>(*now.cpu_usec - std::min(previous_cpu_usec, *now.cpu_usec)) * 100.0 /
                  elapsed_usec);
  std::string mem_perc = "--";
  if (now.mem_usage && now.mem_limit && *now.mem_limit > 0)
    mem_perc = percent(static_cast<double>(*now.mem_usage) * 100.0 / static_cast<double>(*now.mem_limit));
  return Json{{"ID", id.substr(0, 12)},
              {"Name", name},
              {"CPUPerc", cpu},
              {"MemUsage", pair_text(now.mem_usage, now.mem_limit)},
              {"MemPerc", mem_perc},
              {"NetIO", "-- / --"},
              {"BlockIO", pair_text(now.read_bytes, now.write_bytes)},
              {"PIDs", now.pids ? std::to_string(*now.pids) : "--"}};
}

Json stats_json(const Json& row, const StatsSample& now) {
  return Json{{"id", row["ID"]},
              {"name", row["Name"]},
              {"cpu_time", now.cpu_usec ? cpu_time_text(*now.cpu_usec) : "--"},
              {"cpu_percent", row["CPUPerc"]},
              {"mem_usage", row["MemUsage"]},
              {"mem_percent", row["MemPerc"]},
              {"net_io", row["NetIO"]},
              {"block_io", row["BlockIO"]},
              {"pids", row["PIDs"]}};
}

}  // namespace ctr::cmd
