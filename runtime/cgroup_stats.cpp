#include "runtime/cgroup_stats.h"

#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <sstream>

#include "runtime/base/files.h"
#include "runtime/cgroup_freeze.h"

namespace ctr::cgroup {
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

}  // namespace ctr::cgroup
