#include "cmd/container_stats.h"

#include <sys/stat.h>
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

NetTotals net_totals(const std::string& proc_net_dev) {
  NetTotals totals;
  std::istringstream lines(proc_net_dev);
  std::string line;
  while (std::getline(lines, line)) {
    // "  eth0: RXBYTES packets errs drop fifo frame compressed multicast TXBYTES ..."
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    if (name == "lo") continue;
    std::istringstream fields(line.substr(colon + 1));
    uint64_t value = 0, rx = 0, tx = 0;
    for (int i = 0; i < 9 && fields >> value; ++i) {
      if (i == 0) rx = value;
      if (i == 8) tx = value;
    }
    totals.rx += rx;
    totals.tx += tx;
  }
  return totals;
}

std::optional<NetTotals> container_net_io(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  struct stat mine {}, theirs{};
  std::string proc = "/proc/" + std::to_string(pid);
  if (::stat("/proc/self/ns/net", &mine) == 0 && ::stat((proc + "/ns/net").c_str(), &theirs) == 0 &&
      mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev)
    return std::nullopt;
  auto text = read_file(proc + "/net/dev");
  if (!text) return std::nullopt;
  return net_totals(*text);
}

Json stats_row(const std::string& id, const std::string& name, const StatsSample& now, uint64_t previous_cpu_usec,
               int64_t since_ns, const std::optional<NetTotals>& net) {
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
              // podman's combineHumanValues: "-- / --" when nothing moved.
              {"NetIO", net && (net->rx || net->tx) ? pair_text(net->rx, net->tx) : "-- / --"},
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
