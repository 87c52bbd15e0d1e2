#include "cmd/container_top.h"

#include <algorithm>
#include <cstdio>

#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

struct Descriptor {
  const char* name;
  const char* header;
  std::string (*value)(const TopProcess&);
};

std::string percent_cpu(const TopProcess& p) {
  double pcpu = p.elapsed_ns > 0 ? 100.0 * static_cast<double>(p.cpu_ns) / static_cast<double>(p.elapsed_ns) : 0.0;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", pcpu);
  return buffer;
}

std::string command_line(const TopProcess& p) {
  return p.args.empty() ? "[" + p.comm + "]" : p.args;
}

// In psgo's order (podman top --help lists the same).
const Descriptor kDescriptors[] = {
    {"args", "COMMAND", command_line},
    {"comm", "COMMAND", [](const TopProcess& p) { return p.comm; }},
    {"etime", "ELAPSED", [](const TopProcess& p) { return go_duration(p.elapsed_ns); }},
    {"group", "GROUP", [](const TopProcess& p) { return p.group; }},
    {"hgroup", "HGROUP", [](const TopProcess& p) { return p.host_group; }},
    {"hpid", "HPID", [](const TopProcess& p) { return std::to_string(p.host_pid); }},
    {"huser", "HUSER", [](const TopProcess& p) { return p.host_user; }},
    {"nice", "NI", [](const TopProcess& p) { return std::to_string(p.nice); }},
    {"pcpu", "%CPU", percent_cpu},
    {"pgid", "PGID", [](const TopProcess& p) { return std::to_string(p.pgid); }},
    {"pid", "PID", [](const TopProcess& p) { return std::to_string(p.pid); }},
    {"ppid", "PPID", [](const TopProcess& p) { return std::to_string(p.ppid); }},
    {"state", "STATE", [](const TopProcess& p) { return p.state; }},
    {"time", "TIME", [](const TopProcess& p) { return go_duration(p.cpu_ns); }},
    {"tty", "TTY", [](const TopProcess& p) { return p.tty; }},
    {"user", "USER", [](const TopProcess& p) { return p.user; }},
    {"vsz", "VSZ", [](const TopProcess& p) { return std::to_string(p.vsz_kib); }},
};

const Descriptor* find_descriptor(const std::string& name) {
  for (const auto& d : kDescriptors)
    if (name == d.name) return &d;
  return nullptr;
}

// v / 10^prec with the fraction's trailing zeros dropped (Go's fmtFrac + fmtInt).
std::string fraction(uint64_t v, int prec) {
  uint64_t scale = 1;
  for (int i = 0; i < prec; ++i) scale *= 10;
  uint64_t whole = v / scale, frac = v % scale;
  std::string out = std::to_string(whole);
  if (frac == 0) return out;
  std::string digits = std::to_string(frac);
  digits.insert(0, static_cast<size_t>(prec) - digits.size(), '0');
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

}  // namespace

std::vector<std::string> default_top_descriptors() {
  return {"user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"};
}

Result<std::vector<std::string>> parse_top_descriptors(const std::vector<std::string>& args) {
  if (args.empty()) return default_top_descriptors();
  std::vector<std::string> out;
  for (const auto& arg : args)
    for (const auto& part : split(arg, ',')) {
      std::string name(trim(part));
      if (name.empty()) continue;
      if (!find_descriptor(name)) {
        std::vector<std::string> valid;
        for (const auto& d : kDescriptors) valid.push_back(d.name);
        return make_error("unknown descriptor `" + name + "`: valid descriptors are " + join(valid, ", "), EINVAL);
      }
      out.push_back(name);
    }
  if (out.empty()) return default_top_descriptors();
  return out;
}

std::string go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-ns) : static_cast<uint64_t>(ns);
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + fraction(u, 3) + "µs";
  if (u < 1000000000) return sign + fraction(u, 6) + "ms";
  uint64_t total_seconds = u / 1000000000;
  std::string out = fraction(u % 60000000000ULL, 9) + "s";
  if (total_seconds >= 60) {
    uint64_t minutes = total_seconds / 60;
    out = std::to_string(minutes % 60) + "m" + out;
    if (minutes >= 60) out = std::to_string(minutes / 60) + "h" + out;
  }
  return sign + out;
}

std::string render_top(const std::vector<std::string>& descriptors, const std::vector<TopProcess>& processes) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header;
  for (const auto& name : descriptors) header.push_back(find_descriptor(name)->header);
  rows.push_back(header);
  for (const auto& p : processes) {
    std::vector<std::string> row;
    for (const auto& name : descriptors) row.push_back(find_descriptor(name)->value(p));
    rows.push_back(row);
  }
  // Go's tabwriter as podman sets it up: minwidth 12, padding 2 (µs counts as one column).
  auto width = [](const std::string& text) {
    size_t n = 0;
    for (unsigned char c : text) n += (c & 0xC0) != 0x80;
    return n;
  };
  std::vector<size_t> widths(descriptors.size(), 12);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]) + 2);
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(widths[i] - width(row[i]), ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace ctr::cmd
