#include "cmd/cgroup_flags.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "cmd/container_record.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/cgroup_systemd.h"

namespace ctr::cmd {
namespace {

constexpr int64_t kMinMemory = 6 * 1024 * 1024;  // podman's minimum --memory
constexpr int64_t kDefaultPidsLimit = 2048;        // podman's, when pids is delegated
constexpr uint64_t kDefaultCpuPeriod = 100000;
constexpr const char* kDefaultSlice = "user.slice";  // podman's rootless systemd cgroup parent

Result<int64_t> parse_int(const std::string& text, const std::string& flag) {
  auto value = parse_i64(text);
  if (!value) return make_error("invalid value `" + text + "` for " + flag + ": expected an integer", EINVAL);
  return *value;
}

// "/dev/sda:1mb" -> {path, rate}.
Result<cgroup::Throttle> parse_throttle(const std::string& text, const std::string& flag,
                                       const DeviceNumbers& device_numbers) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || text[0] != '/')
    return make_error("invalid value `" + text + "` for " + flag + ": expected DEVICE:RATE, e.g. /dev/sda:1mb",
                      EINVAL);
  TRY_ASSIGN(rate, parse_ram_size(text.substr(colon + 1), flag));
  TRY_ASSIGN(numbers, device_numbers(text.substr(0, colon)));
  return cgroup::Throttle{numbers.first, numbers.second, static_cast<uint64_t>(rate)};
}

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

void add_resource_flags(Cli& cli, CLI::App& sub, ResourceFlags& f) {
  add_limit_flags(cli, sub, f);
  cli.value(sub, "--oom-score-adj", f.oom_score_adj, "Tune the host's OOM preferences (-1000 to 1000)",
            Completer::none);
  cli.value(sub, "--cgroups", f.cgroups, "Control the container's cgroup: enabled, disabled or split",
            Completer::fixed, {"enabled", "disabled", "split"});
  cli.value(sub, "--cgroup-parent", f.cgroup_parent,
            "Slice (systemd) or parent cgroup (cgroupfs) for the container's cgroup", Completer::none);
}

void add_limit_flags(Cli& cli, CLI::App& sub, ResourceFlags& f) {
  cli.value(sub, "-m,--memory", f.memory, "Memory limit (e.g. 512m, 1g)", Completer::none);
  cli.value(sub, "--memory-swap", f.memory_swap, "Memory plus swap limit (-1: unlimited swap)", Completer::none);
  cli.value(sub, "--memory-reservation", f.memory_reservation, "Memory soft limit (memory.low)", Completer::none);
  cli.value(sub, "--cpus", f.cpus, "Number of CPUs (e.g. 1.5)", Completer::none);
  cli.value(sub, "-c,--cpu-shares", f.cpu_shares, "CPU shares (relative weight)", Completer::none);
  cli.value(sub, "--cpu-quota", f.cpu_quota, "CPU CFS quota in microseconds per period", Completer::none);
  cli.value(sub, "--cpu-period", f.cpu_period, "CPU CFS period in microseconds", Completer::none);
  cli.value(sub, "--cpuset-cpus", f.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)", Completer::none);
  cli.value(sub, "--cpuset-mems", f.cpuset_mems, "Memory nodes in which to allow execution (0-3, 0,1)",
            Completer::none);
  cli.value(sub, "--pids-limit", f.pids_limit, "Tune the container's pids limit (-1: unlimited)", Completer::none);
  cli.value(sub, "--blkio-weight", f.blkio_weight, "Block IO relative weight, 10 to 1000", Completer::none);
  cli.value(sub, "--device-read-bps", f.device_read_bps, "Limit read rate from a device (e.g. /dev/sda:1mb)",
            Completer::files);
  cli.value(sub, "--device-write-bps", f.device_write_bps, "Limit write rate to a device (e.g. /dev/sda:1mb)",
            Completer::files);
}

Result<int64_t> parse_ram_size(const std::string& text, const std::string& flag) {
  auto bad = [&] {
    return make_error("invalid size `" + text + "` for " + flag + ": use a number with an optional unit b, k, m or g "
                      "(e.g. 512m)",
                      EINVAL);
  };
  std::string number = text, unit;
  while (!number.empty() && std::isalpha(static_cast<unsigned char>(number.back()))) {
    unit.insert(unit.begin(), static_cast<char>(std::tolower(static_cast<unsigned char>(number.back()))));
    number.pop_back();
  }
  if (number.empty() || number.find_first_not_of("0123456789.") != std::string::npos ||
      number.find('.') != number.rfind('.'))
    return bad();
  // RAMInBytes: k, kb, kib... all 1024-based.
  if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();
  double scale = 1;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k") scale = 1024.0;
  else if (unit == "m") scale = 1024.0 * 1024;
  else if (unit == "g") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t") scale = 1024.0 * 1024 * 1024 * 1024;
  else return bad();
  double value = std::strtod(number.c_str(), nullptr) * scale;
  if (!std::isfinite(value) || value >= 9.2e18) return bad();
  return static_cast<int64_t>(value);
}

Result<int64_t> cpus_to_quota(const std::string& text, uint64_t period) {
  char* end = nullptr;
  double cpus = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(cpus) || cpus <= 0 || cpus > 1e6)
    return make_error("invalid value `" + text + "` for --cpus: expected a positive number of CPUs, e.g. 1.5", EINVAL);
  return static_cast<int64_t>(std::llround(cpus * static_cast<double>(period)));
}

Result<std::pair<int64_t, int64_t>> block_device_numbers(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return sys_error("device `" + path + "`");
  if (!S_ISBLK(st.st_mode)) return make_error("`" + path + "` is not a block device", ENOTBLK);
  return std::pair<int64_t, int64_t>{major(st.st_rdev), minor(st.st_rdev)};
}

Result<ParsedResources> parse_resource_flags(const ResourceFlags& f, const DeviceNumbers& device_numbers) {
  ParsedResources out;
  cgroup::Resources& r = out.limits;
  if (!f.memory.empty()) {
    TRY_ASSIGN(memory, parse_ram_size(f.memory, "--memory"));
    if (memory < kMinMemory) return make_error("minimum memory limit allowed is 6MB (--memory " + f.memory + ")", EINVAL);
    r.memory_limit = memory;
  }
  if (!f.memory_swap.empty()) {
    if (!r.memory_limit) return make_error("you must provide a memory limit when providing --memory-swap", EINVAL);
    int64_t swap = -1;
    if (f.memory_swap != "-1") {
      TRY_ASSIGN(parsed, parse_ram_size(f.memory_swap, "--memory-swap"));
      swap = parsed;
      if (swap < *r.memory_limit)
        return make_error("--memory-swap (" + f.memory_swap + ") must be larger than or equal to --memory (" +
                              f.memory + ")",
                          EINVAL);
    }
    r.memory_swap = swap;
  }
  if (!f.memory_reservation.empty()) {
    TRY_ASSIGN(reservation, parse_ram_size(f.memory_reservation, "--memory-reservation"));
    if (r.memory_limit && reservation > *r.memory_limit)
      return make_error("--memory-reservation must not be larger than --memory", EINVAL);
    r.memory_reservation = reservation;
  }
  if (!f.cpu_period.empty()) {
    TRY_ASSIGN(period, parse_int(f.cpu_period, "--cpu-period"));
    if (period < 1000 || period > 1000000)
      return make_error("--cpu-period " + f.cpu_period + " is out of range: 1000 to 1000000 microseconds", EINVAL);
    r.cpu_period = static_cast<uint64_t>(period);
  }
  if (!f.cpu_quota.empty()) {
    TRY_ASSIGN(quota, parse_int(f.cpu_quota, "--cpu-quota"));
    if (quota != -1 && quota < 1000)
      return make_error("--cpu-quota " + f.cpu_quota + " is too small: at least 1000 microseconds (or -1)", EINVAL);
    r.cpu_quota = quota;
  }
  if (!f.cpus.empty()) {
    if (!f.cpu_quota.empty() || !f.cpu_period.empty())
      return make_error("--cpus and --cpu-period/--cpu-quota cannot be set together", EINVAL);
    TRY_ASSIGN(quota, cpus_to_quota(f.cpus, kDefaultCpuPeriod));
    r.cpu_quota = quota;
    r.cpu_period = kDefaultCpuPeriod;
  }
  if (!f.cpu_shares.empty()) {
    TRY_ASSIGN(shares, parse_int(f.cpu_shares, "--cpu-shares"));
    if (shares < 2 || shares > 262144)
      return make_error("--cpu-shares " + f.cpu_shares + " is out of range: 2 to 262144", EINVAL);
    r.cpu_shares = static_cast<uint64_t>(shares);
  }
  for (const auto& [list, flag] : {std::pair{&f.cpuset_cpus, "--cpuset-cpus"}, std::pair{&f.cpuset_mems, "--cpuset-mems"}}) {
    if (list->empty()) continue;
    auto mask = cgroup::cpu_list_mask(*list);
    if (!mask) return std::move(mask).error().context(flag);
  }
  r.cpuset_cpus = f.cpuset_cpus;
  r.cpuset_mems = f.cpuset_mems;
  if (!f.pids_limit.empty()) {
    TRY_ASSIGN(pids, parse_int(f.pids_limit, "--pids-limit"));
    if (pids < -1) return make_error("--pids-limit " + f.pids_limit + ": use a positive number, or -1 or 0 for unlimited",
                                     EINVAL);
    r.pids_limit = pids;
    out.pids_limit_set = true;
  }
  if (!f.blkio_weight.empty()) {
    TRY_ASSIGN(weight, parse_int(f.blkio_weight, "--blkio-weight"));
    if (weight != 0 && (weight < 10 || weight > 1000))
      return make_error("--blkio-weight " + f.blkio_weight + " is out of range: 10 to 1000 (0 disables)", EINVAL);
    if (weight != 0) r.blkio_weight = static_cast<uint16_t>(weight);
  }
  for (const auto& text : f.device_read_bps) {
    TRY_ASSIGN(t, parse_throttle(text, "--device-read-bps", device_numbers));
    r.read_bps.push_back(t);
  }
  for (const auto& text : f.device_write_bps) {
    TRY_ASSIGN(t, parse_throttle(text, "--device-write-bps", device_numbers));
    r.write_bps.push_back(t);
  }
  if (!f.oom_score_adj.empty()) {
    TRY_ASSIGN(adj, parse_int(f.oom_score_adj, "--oom-score-adj"));
    if (adj < -1000 || adj > 1000)
      return make_error("--oom-score-adj " + f.oom_score_adj + " is out of range: -1000 to 1000", EINVAL);
    out.oom_score_adj = static_cast<int>(adj);
  }
  return out;
}

const CgroupFacts& cgroup_facts() {
  static const CgroupFacts facts = [] {
    CgroupFacts f;
    f.host = cgroup::detect_host();
    f.inputs = cgroup::probe_manager_inputs(f.host);
    if (!f.host.v2_mount.empty()) f.own_controllers = cgroup::available_controllers(f.host.own_dir());
    return f;
  }();
  return facts;
}

Result<cgroup::ManagerChoice> global_cgroup_manager(const Context& ctx, const CgroupFacts& facts) {
  std::optional<cgroup::Manager> requested;
  if (!ctx.cgroup_manager.empty()) {
    TRY_ASSIGN(manager, cgroup::parse_manager(ctx.cgroup_manager));
    requested = manager;
  }
  return cgroup::choose_manager(facts.inputs, requested);
}

Result<CgroupPlan> plan_cgroup(const cgroup::ManagerChoice& global, const CgroupFacts& facts, const ResourceFlags& flags,
                               ParsedResources resources, const std::string& id) {
  TRY_ASSIGN(mode, cgroup::parse_cgroups_mode(flags.cgroups));
  TRY_ASSIGN(choice, cgroup::choose_for_container(global, facts.inputs, mode));
  CgroupPlan plan;
  plan.manager = choice.manager;
  plan.reason = choice.reason;
  plan.limits = resources.limits;
  auto needed = cgroup::controllers_for(plan.limits);
  if (choice.manager == cgroup::Manager::none) {
    if (!flags.cgroup_parent.empty())
      return make_error("--cgroup-parent needs a cgroup, but this container gets none (" + choice.reason + ")", EINVAL);
    if (!needed.empty()) return cgroup::limits_need_cgroup(needed, choice.reason);
    return plan;
  }
  // podman: a default pids limit where the pids controller is delegated.
  if (!resources.pids_limit_set && has(facts.own_controllers, "pids")) plan.limits.pids_limit = kDefaultPidsLimit;
  if (choice.manager == cgroup::Manager::systemd) {
    // systemd applies the limits as the scope's unit properties.
    plan.parent = flags.cgroup_parent.empty() ? kDefaultSlice : flags.cgroup_parent;
    if (plan.parent.find('/') != std::string::npos || plan.parent.size() < 7 ||
        plan.parent.compare(plan.parent.size() - 6, 6, ".slice") != 0)
      return make_error("--cgroup-parent `" + plan.parent + "`: with the systemd cgroup manager it must be a slice "
                        "name like user.slice",
                        EINVAL);
    plan.cgroups_path = plan.parent + ":ctr:" + id;
    return plan;
  }
  // cgroupfs: below our own cgroup (split, or no bus), or --cgroup-parent.
  plan.parent = flags.cgroup_parent.empty() ? (facts.host.own.empty() ? "/" : facts.host.own) : flags.cgroup_parent;
  if (plan.parent[0] != '/') plan.parent = "/" + plan.parent;
  auto missing = cgroup::missing_controllers(needed, facts.own_controllers);
  if (!missing.empty() && flags.cgroup_parent.empty())
    return cgroup::limits_need_cgroup(missing, "not delegated to our cgroup " + facts.host.own_dir());
  plan.cgroups_path = (plan.parent == "/" ? "" : plan.parent) + "/ctr-" + id + "/container";
  return plan;
}

void remove_empty_cgroup(const ContainerRecord& record) {
  if (record.cgroup_manager != "cgroupfs" || record.cgroups_path.empty()) return;
  const auto& host = cgroup_facts().host;
  std::string leaf = cgroup::resolve_cgroupfs_path(record.cgroups_path, host);
  std::string dir = leaf.substr(0, leaf.rfind('/'));
  for (const auto& path : {leaf, dir + "/supervisor", dir}) (void)::rmdir(path.c_str());  // EBUSY: still in use
}

void warn_no_cgroup_once(const std::string& reason) {
  std::string marker = runtime_state_root() + "/cgroup-warning-given";
  if (path_exists(marker)) return;
  warn(reason + " (resource limits cannot be set; see `ctr info`)");
  (void)mkdir_p(runtime_state_root(), 0700);
  (void)write_file_atomic(marker, reason + "\n", 0600, Durability::ephemeral);
}

}  // namespace ctr::cmd
