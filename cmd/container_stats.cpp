#include "cmd/container_stats.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "runtime/base/files.h"
#include "runtime/cgroup_freeze.h"

namespace ctr::cmd {
namespace {

std::optional<uint64_t> read_number(const std::string& path) {
  auto text = read_file(path);
  if (!text || text->empty() || !std::isdigit(static_cast<unsigned char>((*text)[0]))) return std::nullopt;
  return std::strtoull(text->c_str(), nullptr, 10);
}

uint64_t host_memory() {
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

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

std::pair<uint64_t, uint64_t> io_totals(const std::string& io_stat) {
  uint64_t read = 0, written = 0;
  std::istringstream lines(io_stat);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      if (word.rfind("rbytes=", 0) == 0) read += std::strtoull(word.c_str() + 7, nullptr, 10);
      if (word.rfind("wbytes=", 0) == 0) written += std::strtoull(word.c_str() + 7, nullptr, 10);
    }
  }
  return {read, written};
}

StatsSample sample_cgroup(const std::string& dir) {
  StatsSample s;
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  s.taken_ns = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  if (dir.empty()) return s;
  if (auto cpu = read_file(dir + "/cpu.stat")) {
    std::string usage = cgroup::flat_keyed_value(*cpu, "usage_usec");
    if (!usage.empty()) s.cpu_usec = std::strtoull(usage.c_str(), nullptr, 10);
  }
  s.mem_usage = read_number(dir + "/memory.current");
  if (s.mem_usage) {
    s.mem_limit = read_number(dir + "/memory.max");  // "max" reads as absent
    if (!s.mem_limit) s.mem_limit = host_memory();
  }
  s.pids = read_number(dir + "/pids.current");
  if (auto io = read_file(dir + "/io.stat")) {
    auto [read, written] = io_totals(*io);
    s.read_bytes = read;
    s.write_bytes = written;
  }
  return s;
}

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
