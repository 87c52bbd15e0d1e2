// ctr top CONTAINER [DESCRIPTORS...]: the container's processes, in podman's
// columns (USER PID PPID %CPU ELAPSED TTY TIME COMMAND by default). The
// processes are the container's init (from the shim's records), those of
// its exec sessions, and all their descendants, found by walking /proc (no
// cgroup of its own yet). PIDs are the container's own (the innermost NSpid),
// as podman shows them; `hpid` gives the host's. Users are names from the
// container's /etc/passwd, else numbers.
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <iostream>
#include <optional>
#include <map>
#include <memory>
#include <set>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "cmd/container_spec.h"
#include "cmd/container_top.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

struct TopFlags {
  std::string container;
  std::vector<std::string> descriptors;
};

struct StatFields {
  pid_t ppid = 0;
  std::vector<std::string> fields;  // from field 3 (state) on: fields[0] is field 3
};

std::optional<StatFields> read_stat(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  auto close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  StatFields out;
  for (const auto& f : split(trim(std::string_view(*text).substr(close + 1)), ' '))
    if (!f.empty()) out.fields.push_back(f);
  if (out.fields.size() < 21) return std::nullopt;
  out.ppid = static_cast<pid_t>(parse_i64(out.fields[1]).value_or(0));
  return out;
}

int64_t field(const StatFields& stat, int number) {  // `number` as proc(5) counts them
  return parse_i64(stat.fields[static_cast<size_t>(number - 3)]).value_or(0);
}

// pid -> ppid of every process we can see.
std::map<pid_t, pid_t> parent_map() {
  std::map<pid_t, pid_t> parents;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc"), ::closedir);
  if (!dir) return parents;
  while (dirent* entry = ::readdir(dir.get())) {
    auto pid = parse_u64(entry->d_name);
    if (!pid) continue;
    if (auto stat = read_stat(static_cast<pid_t>(*pid))) parents[static_cast<pid_t>(*pid)] = stat->ppid;
  }
  return parents;
}

// The roots and all their descendants, in pid order.
std::set<pid_t> descendants(const std::vector<pid_t>& roots) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& [pid, ppid] : parent_map()) children.emplace(ppid, pid);
  std::set<pid_t> out;
  std::vector<pid_t> todo(roots.begin(), roots.end());
  while (!todo.empty()) {
    pid_t pid = todo.back();
    todo.pop_back();
    if (pid <= 0 || !path_exists("/proc/" + std::to_string(pid)) || !out.insert(pid).second) continue;
    auto [begin, end] = children.equal_range(pid);
    for (auto it = begin; it != end; ++it) todo.push_back(it->second);
  }
  return out;
}

// The exec sessions' processes (children of their own shims, not of init).
std::vector<pid_t> exec_pids(const std::string& state_dir) {
  std::vector<pid_t> out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir((state_dir + "/exec").c_str()), ::closedir);
  if (!dir) return out;
  while (dirent* entry = ::readdir(dir.get())) {
    if (entry->d_name[0] == '.') continue;
    auto text = read_file(state_dir + "/exec/" + entry->d_name + "/" + shim::kContainerPidFile);
    if (!text) continue;
    if (auto pid = parse_u64(trim(*text)); pid && *pid > 0) out.push_back(static_cast<pid_t>(*pid));
  }
  return out;
}

// "Key:\tv1\tv2..." lines of /proc/PID/status.
std::map<std::string, std::vector<std::string>> read_status(pid_t pid) {
  std::map<std::string, std::vector<std::string>> out;
  auto text = read_file("/proc/" + std::to_string(pid) + "/status");
  if (!text) return out;
  for (const auto& line : split(*text, '\n')) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::vector<std::string> values;
    for (const auto& v : split(line.substr(colon + 1), '\t'))
      if (!trim(v).empty()) values.emplace_back(trim(v));
    out[line.substr(0, colon)] = values;
  }
  return out;
}

// An ID map (/proc/PID/uid_map: inside outside count) read from the host.
struct IdMap {
  std::vector<std::array<uint64_t, 3>> ranges;
  static IdMap read(const std::string& path) {
    IdMap map;
    auto text = read_file(path);
    if (!text) return map;
    for (const auto& line : split(*text, '\n')) {
      std::vector<uint64_t> numbers;
      for (const auto& f : split(line, ' '))
        if (auto n = parse_u64(f)) numbers.push_back(*n);
      if (numbers.size() == 3) map.ranges.push_back({numbers[0], numbers[1], numbers[2]});
    }
    return map;
  }
  std::optional<uint64_t> inside(uint64_t outside) const {
    for (const auto& r : ranges)
      if (outside >= r[1] && outside - r[1] < r[2]) return r[0] + (outside - r[1]);
    return std::nullopt;
  }
};

// id -> name from an /etc/passwd or /etc/group text.
std::map<uint64_t, std::string> names(const std::string& text) {
  std::map<uint64_t, std::string> out;
  for (const auto& line : split(text, '\n')) {
    auto f = split(line, ':');
    if (f.size() >= 3)
      if (auto id = parse_u64(f[2])) out.emplace(*id, f[0]);
  }
  return out;
}

std::string host_user(uint64_t uid) {
  passwd entry{}, *found = nullptr;
  char buffer[4096];
  if (::getpwuid_r(static_cast<uid_t>(uid), &entry, buffer, sizeof buffer, &found) == 0 && found) return found->pw_name;
  return std::to_string(uid);
}

std::string host_group(uint64_t gid) {
  group entry{}, *found = nullptr;
  char buffer[4096];
  if (::getgrgid_r(static_cast<gid_t>(gid), &entry, buffer, sizeof buffer, &found) == 0 && found) return found->gr_name;
  return std::to_string(gid);
}

std::string tty_name(int64_t tty_nr) {
  if (tty_nr == 0) return "?";
  int64_t major = (tty_nr >> 8) & 0xfff, minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return "pts/" + std::to_string((major - 136) * 256 + minor);
  if (major == 4) return "tty" + std::to_string(minor);
  if (major == 5 && minor == 0) return "tty";
  return "?";
}

struct Lookup {
  IdMap uids, gids;
  std::map<uint64_t, std::string> users, groups;
  std::map<pid_t, pid_t> container_pid;  // host pid -> container pid, of the members
  int64_t now_ns = 0;
  long ticks = 100;
};

std::string name_of(const std::map<uint64_t, std::string>& table, const IdMap& map, uint64_t host_id) {
  auto inside = map.inside(host_id);
  if (!inside) return std::to_string(host_id);  // not mapped into the container: the overflow ID in there
  auto it = table.find(*inside);
  return it != table.end() ? it->second : std::to_string(*inside);
}

std::optional<TopProcess> describe(pid_t host_pid, const Lookup& lookup) {
  auto stat = read_stat(host_pid);
  if (!stat) return std::nullopt;
  auto status = read_status(host_pid);
  TopProcess p;
  p.host_pid = host_pid;
  auto last = [&](const char* key, int64_t fallback) {
    auto it = status.find(key);
    return it != status.end() && !it->second.empty() ? parse_i64(it->second.back()).value_or(fallback) : fallback;
  };
  p.pid = static_cast<pid_t>(last("NSpid", host_pid));
  p.pgid = static_cast<pid_t>(last("NSpgid", field(*stat, 5)));
  auto parent = lookup.container_pid.find(stat->ppid);
  p.ppid = parent != lookup.container_pid.end() ? parent->second : 0;  // init's parent is outside
  auto id = [&](const char* key) -> uint64_t {  // the effective ID: the second value
    auto it = status.find(key);
    return it != status.end() && it->second.size() > 1 ? parse_u64(it->second[1]).value_or(0) : 0;
  };
  uint64_t uid = id("Uid"), gid = id("Gid");
  p.user = name_of(lookup.users, lookup.uids, uid);
  p.group = name_of(lookup.groups, lookup.gids, gid);
  p.host_user = host_user(uid);
  p.host_group = host_group(gid);
  p.state = stat->fields[0];
  p.tty = tty_name(field(*stat, 7));
  p.nice = static_cast<int>(field(*stat, 19));
  p.vsz_kib = static_cast<uint64_t>(field(*stat, 23)) / 1024;
  int64_t tick_ns = 1000000000 / lookup.ticks;
  p.cpu_ns = (field(*stat, 14) + field(*stat, 15)) * tick_ns;
  p.elapsed_ns = std::max<int64_t>(0, lookup.now_ns - field(*stat, 22) * tick_ns);
  auto comm = read_file("/proc/" + std::to_string(host_pid) + "/comm");
  p.comm = comm ? std::string(trim(*comm)) : std::string();
  if (auto cmdline = read_file("/proc/" + std::to_string(host_pid) + "/cmdline")) {
    std::string args = *cmdline;
    while (!args.empty() && args.back() == '\0') args.pop_back();
    for (auto& c : args)
      if (c == '\0') c = ' ';
    p.args = args;
  }
  return p;
}

std::string container_file(Context& ctx, const ContainerRecord& record, pid_t init, const std::string& path) {
  if (auto text = read_file("/proc/" + std::to_string(init) + "/root" + path)) return *text;
  auto store = ctx.store();
  if (!store) return {};
  auto image = (*store)->find_image(record.image_id);
  return image ? read_image_file(**store, *image, path) : std::string();
}

int top(Context& ctx, const TopFlags& flags) {
  auto descriptors = parse_top_descriptors(flags.descriptors);
  if (!descriptors) return fail(descriptors.error());
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto record = find_record(**store, flags.container);
  if (!record) return fail(record.error());
  LiveStatus live = live_status(*record);
  if (live.state != "running" || !live.shim || live.shim->pid <= 0)
    return fail("top can only be used on running containers: container " + record->name + " is " + live.state);
  pid_t init = live.shim->pid;
  std::vector<pid_t> roots{init};
  for (pid_t pid : exec_pids(shim_state_dir(record->id))) roots.push_back(pid);
  std::set<pid_t> members = descendants(roots);
  Lookup lookup;
  std::string proc = "/proc/" + std::to_string(init);
  lookup.uids = IdMap::read(proc + "/uid_map");
  lookup.gids = IdMap::read(proc + "/gid_map");
  lookup.users = names(container_file(ctx, *record, init, "/etc/passwd"));
  lookup.groups = names(container_file(ctx, *record, init, "/etc/group"));
  lookup.ticks = std::max(1L, ::sysconf(_SC_CLK_TCK));
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  lookup.now_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  for (pid_t pid : members) {
    auto status = read_status(pid);
    auto it = status.find("NSpid");
    lookup.container_pid[pid] =
        it != status.end() && !it->second.empty() ? static_cast<pid_t>(parse_i64(it->second.back()).value_or(pid)) : pid;
  }
  std::vector<TopProcess> processes;
  for (pid_t pid : members)
    if (auto p = describe(pid, lookup)) processes.push_back(std::move(*p));
  std::sort(processes.begin(), processes.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  std::cout << render_top(*descriptors, processes);
  return 0;
}

}  // namespace

void add_top(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("top", "Display the running processes of a container");
  auto flags = std::make_shared<TopFlags>();
  cli.value(*sub, "container", flags->container, "Running container (name, ID or ID prefix)",
            Completer::running_containers)
      ->required();
  std::vector<std::string> choices = {"args",  "comm", "etime", "group", "hgroup", "hpid",  "huser", "nice", "pcpu",
                                      "pgid",  "pid",  "ppid",  "state", "time",   "tty",   "user",  "vsz"};
  cli.value(*sub, "descriptors", flags->descriptors,
            "Columns to show (default: user pid ppid pcpu etime tty time args)", Completer::fixed, choices);
  cli.on_run(*sub, [&cli, flags] { return top(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
