#include "runtime/cgroup.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

namespace ctr::cgroup {
namespace {

bool fs_is(const char* path, long magic) {
  struct statfs st {};
  return ::statfs(path, &st) == 0 && static_cast<long>(st.f_type) == magic;
}

std::vector<std::string> child_dirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d))
    if (e->d_type == DT_DIR && std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..")
      out.push_back(dir + "/" + e->d_name);
  ::closedir(d);
  return out;
}

std::vector<pid_t> pids_in(const std::string& dir) {
  std::vector<pid_t> out;
  auto text = read_file(dir + "/cgroup.procs");
  if (!text) return out;
  for (const auto& line : split(*text, '\n'))
    if (auto pid = parse_u64(trim(line)); pid && *pid > 0) out.push_back(static_cast<pid_t>(*pid));
  return out;
}

// "max" for the unlimited values OCI spells as -1 (or 0 for pids).
std::string limit_text(int64_t value) {
  return value < 0 ? "max" : std::to_string(value);
}

}  // namespace

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::none: return "none";
    case Layout::v1: return "v1";
    case Layout::hybrid: return "hybrid";
    case Layout::v2: return "v2";
  }
  return "none";
}

Layout classify_layout(bool root_is_cgroup2, bool unified_is_cgroup2, bool root_is_v1) {
  if (root_is_cgroup2) return Layout::v2;
  if (unified_is_cgroup2) return Layout::hybrid;
  return root_is_v1 ? Layout::v1 : Layout::none;
}

std::string v2_path_from_proc(const std::string& text) {
  for (const auto& line : split(text, '\n'))
    if (starts_with(line, "0::")) return std::string(trim(line.substr(3)));
  return "";
}

Host detect_host() {
  Host host;
  bool root_v2 = fs_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC);
  bool unified_v2 = !root_v2 && fs_is("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC);
  host.layout = classify_layout(root_v2, unified_v2, fs_is("/sys/fs/cgroup", TMPFS_MAGIC));
  if (root_v2) host.v2_mount = "/sys/fs/cgroup";
  if (unified_v2) host.v2_mount = "/sys/fs/cgroup/unified";
  if (auto text = read_file("/proc/self/cgroup")) host.own = v2_path_from_proc(*text);
  if (host.own == "/") host.own.clear();  // so own_dir() has no "//"
  return host;
}

bool Resources::empty() const {
  return !memory_limit && !memory_swap && !memory_reservation && !cpu_shares && !cpu_quota && !cpu_period &&
         cpuset_cpus.empty() && cpuset_mems.empty() && !pids_limit && !blkio_weight && read_bps.empty() &&
         write_bps.empty();
}

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 100;  // unset: the kernel's default weight
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_to_io_weight(uint16_t weight) {
  uint64_t w = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + (w - 10) * 9999 / 990;
}

Result<std::vector<FileValue>> v2_files(const Resources& r) {
  std::vector<FileValue> out;
  if (r.memory_reservation) out.push_back({"memory.low", limit_text(*r.memory_reservation)});
  if (r.memory_limit) out.push_back({"memory.max", limit_text(*r.memory_limit)});
  if (r.memory_swap) {
    std::string swap = "max";
    if (*r.memory_swap >= 0) {
      if (!r.memory_limit || *r.memory_limit < 0)
        return make_error("linux.resources.memory.swap needs a memory limit (swap counts memory+swap)", EINVAL);
      if (*r.memory_swap < *r.memory_limit)
        return make_error("linux.resources.memory.swap (" + std::to_string(*r.memory_swap) +
                              ") must not be below memory.limit (" + std::to_string(*r.memory_limit) + ")",
                          EINVAL);
      swap = std::to_string(*r.memory_swap - *r.memory_limit);
    }
    out.push_back({"memory.swap.max", swap});
  }
  if (r.cpu_shares) out.push_back({"cpu.weight", std::to_string(shares_to_weight(*r.cpu_shares))});
  if (r.cpu_quota || r.cpu_period) {
    std::string quota = r.cpu_quota && *r.cpu_quota > 0 ? std::to_string(*r.cpu_quota) : "max";
    out.push_back({"cpu.max", quota + " " + std::to_string(r.cpu_period.value_or(100000))});
  }
  if (!r.cpuset_cpus.empty()) out.push_back({"cpuset.cpus", r.cpuset_cpus});
  if (!r.cpuset_mems.empty()) out.push_back({"cpuset.mems", r.cpuset_mems});
  if (r.pids_limit) out.push_back({"pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max"});
  if (r.blkio_weight) out.push_back({"io.weight", "default " + std::to_string(blkio_to_io_weight(*r.blkio_weight))});
  auto device = [](const Throttle& t) { return std::to_string(t.major) + ":" + std::to_string(t.minor); };
  for (const auto& t : r.read_bps) out.push_back({"io.max", device(t) + " rbps=" + std::to_string(t.rate)});
  for (const auto& t : r.write_bps) out.push_back({"io.max", device(t) + " wbps=" + std::to_string(t.rate)});
  return out;
}

std::vector<std::string> controllers_for(const Resources& r) {
  std::vector<std::string> out;
  auto add = [&](bool needed, const char* name) {
    if (needed) out.emplace_back(name);
  };
  add(r.memory_limit || r.memory_swap || r.memory_reservation, "memory");
  add(r.cpu_shares || r.cpu_quota || r.cpu_period, "cpu");
  add(!r.cpuset_cpus.empty() || !r.cpuset_mems.empty(), "cpuset");
  add(r.blkio_weight || !r.read_bps.empty() || !r.write_bps.empty(), "io");
  add(r.pids_limit.has_value(), "pids");
  return out;
}

std::vector<std::string> available_controllers(const std::string& dir) {
  std::vector<std::string> out;
  if (auto text = read_file(dir + "/cgroup.controllers"))
    for (const auto& word : split(std::string(trim(*text)), ' '))
      if (!word.empty()) out.push_back(word);
  return out;
}

std::optional<SystemdPath> parse_systemd_path(const std::string& path) {
  auto parts = split(path, ':');
  if (parts.size() != 3 || parts[2].empty() || path.find('/') != std::string::npos) return std::nullopt;
  return SystemdPath{parts[0], parts[1], parts[2]};
}

std::string resolve_cgroupfs_path(const std::string& path, const Host& host) {
  if (!path.empty() && path[0] == '/') return host.v2_mount + path;
  std::string parent = host.own;
  if (auto slash = parent.rfind('/'); slash != std::string::npos) parent.resize(slash);
  return host.v2_mount + parent + "/" + path;
}

namespace {

// The no-internal-process rule: a cgroup that holds processes cannot pass
// controllers down. Move them into a leaf `init` of it (as crun and
// systemd do) and try again.
Status enable_controllers(const std::string& dir, const std::vector<std::string>& controllers) {
  std::string enable;
  for (const auto& c : controllers) enable += (enable.empty() ? "+" : " +") + c;
  Status enabled = write_file(dir + "/cgroup.subtree_control", enable);
  if (!enabled && enabled.error().code == EBUSY) {
    std::string leaf = dir + "/init";
    if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("create cgroup `" + leaf + "`");
    for (pid_t pid : pids_in(dir)) (void)write_file(leaf + "/cgroup.procs", std::to_string(pid));  // may have exited
    enabled = write_file(dir + "/cgroup.subtree_control", enable);
  }
  if (!enabled) return std::move(enabled).error().context("enable controllers `" + enable + "` in cgroup `" + dir + "`");
  return {};
}

}  // namespace

Result<Cgroup> Cgroup::create(const std::string& base, const std::string& relative,
                              const std::vector<std::string>& controllers) {
  std::string dir = base;
  for (const auto& part : split(relative, '/')) {
    if (part.empty()) continue;
    std::string next = dir + "/" + part;
    if (::mkdir(next.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("create cgroup `" + next + "`");
    // Controllers flow down only through each parent's subtree_control;
    // touch only parents whose child lacks one (those above may be root's).
    auto missing = controllers;
    auto have = available_controllers(next);
    std::erase_if(missing, [&](const std::string& c) { return std::find(have.begin(), have.end(), c) != have.end(); });
    if (!missing.empty()) TRY(enable_controllers(dir, missing));
    dir = std::move(next);
  }
  return Cgroup(dir);
}

Status Cgroup::add_pid(pid_t pid) const {
  TRY_CTX(write_file(dir_ + "/cgroup.procs", std::to_string(pid)),
          "move process " + std::to_string(pid) + " into cgroup `" + dir_ + "`");
  return {};
}

Status Cgroup::apply(const Resources& r) const {
  TRY_ASSIGN(files, v2_files(r));
  for (const auto& f : files) {
    std::string path = dir_ + "/" + f.file;
    if (!path_exists(path)) {
      std::string controller = f.file.substr(0, f.file.find('.'));
      return make_error("cgroup `" + dir_ + "` has no " + f.file + ": the " + controller +
                            " controller is not enabled or not delegated to this user (add it with a "
                            "user@.service.d/delegate.conf drop-in: Delegate=cpu cpuset io memory pids)",
                        ENOENT);
    }
    Status written = write_file(path, f.value);
    if (!written) return std::move(written).error().context("write `" + f.value + "` to " + path);
  }
  return {};
}

Status Cgroup::kill_all() const {
  if (write_file(dir_ + "/cgroup.kill", "1")) return {};
  // Before Linux 5.14: signal what we see; the caller waits and retries.
  for (const auto& child : child_dirs(dir_)) (void)Cgroup(child).kill_all();
  for (pid_t pid : pids_in(dir_))
    if (::kill(pid, SIGKILL) != 0 && errno != ESRCH) return sys_error("kill process " + std::to_string(pid));
  return {};
}

bool Cgroup::populated() const {
  auto events = read_file(dir_ + "/cgroup.events");
  if (!events) return !pids_in(dir_).empty();
  return events->find("populated 1") != std::string::npos;
}

Status Cgroup::remove(int timeout_ms) const {
  if (!path_exists(dir_)) return {};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // Processes leave a killed cgroup asynchronously; rmdir says EBUSY
  // until the last one is gone.
  for (int attempt = 0;; ++attempt) {
    if (populated()) TRY(kill_all());
    for (const auto& child : child_dirs(dir_)) (void)::rmdir(child.c_str());  // EBUSY: retried below
    if (::rmdir(dir_.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY) return sys_error("remove cgroup `" + dir_ + "`");
    if (std::chrono::steady_clock::now() > deadline)
      return make_error("cgroup `" + dir_ + "` still has processes after SIGKILL", EBUSY);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50, 1 << std::min(attempt, 5))));
  }
}

}  // namespace ctr::cgroup
