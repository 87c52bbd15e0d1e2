// Cgroup v2 for containers: the host's layout, OCI linux.resources as
// typed values, the v2 files they become, and a handle on one container's
// cgroup directory (place a pid, write limits, kill everything, remove).
// The systemd side (transient scopes over the user bus) is cgroup_systemd.h;
// the choice of manager for a container is cgroup_manager.h.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::cgroup {

// v1: no cgroup2 mount; hybrid: v1 controllers plus /sys/fs/cgroup/unified;
// v2: /sys/fs/cgroup is cgroup2.
enum class Layout { none, v1, hybrid, v2 };
const char* layout_name(Layout layout);
Layout classify_layout(bool root_is_cgroup2, bool unified_is_cgroup2, bool root_is_v1);

struct Host {
  Layout layout = Layout::none;
  std::string v2_mount;  // "" when there is no cgroup2 hierarchy
  std::string own;       // our cgroup, relative to v2_mount ("/user.slice/...")
  std::string own_dir() const { return v2_mount + own; }
};
// Reads statfs of /sys/fs/cgroup(/unified) and /proc/self/cgroup.
Host detect_host();
// The "0::PATH" line of /proc/PID/cgroup text; "" without one.
std::string v2_path_from_proc(const std::string& proc_cgroup_text);

struct Throttle {  // io.max for one device
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;  // bytes per second
};

// The subset of OCI linux.resources we enforce on cgroup v2.
struct Resources {
  std::optional<int64_t> memory_limit;        // bytes; -1 = unlimited
  std::optional<int64_t> memory_swap;         // memory+swap, as OCI/v1 say; -1 = unlimited
  std::optional<int64_t> memory_reservation;  // memory.low
  std::optional<uint64_t> cpu_shares;         // v1 shares, converted to cpu.weight
  std::optional<int64_t> cpu_quota;           // microseconds per period; -1 = max
  std::optional<uint64_t> cpu_period;         // microseconds
  std::string cpuset_cpus, cpuset_mems;
  std::optional<int64_t> pids_limit;  // -1 / 0 = unlimited
  std::optional<uint16_t> blkio_weight;
  std::vector<Throttle> read_bps, write_bps;
  bool empty() const;
};

// linux.resources JSON text ("" = none) -> Resources. Fields we do not
// enforce (devices, hugepages, network...) are left to whoever handles
// them; a bad value is an error naming the field.
Result<Resources> parse_resources(const std::string& json_text);
// The linux.resources JSON object for `r` (only the fields that are set).
std::string resources_json(const Resources& r);

// crun's conversion of v1 cpu shares [2, 262144] to v2 cpu.weight [1, 10000].
uint64_t shares_to_weight(uint64_t shares);
// blkio weight [10, 1000] -> io.weight [1, 10000] (crun's linear mapping).
uint64_t blkio_to_io_weight(uint16_t weight);

struct FileValue {
  std::string file;  // relative to the cgroup dir, e.g. "memory.max"
  std::string value;
};
// The v2 files and values for `r`, in a safe order (memory.swap.max after
// memory.max). Swap: OCI counts memory+swap, v2 counts swap alone.
Result<std::vector<FileValue>> v2_files(const Resources& r);
// The controllers `r` needs ("memory", "cpu", "cpuset", "io", "pids").
std::vector<std::string> controllers_for(const Resources& r);
// The controllers listed in DIR/cgroup.controllers (empty when unreadable).
std::vector<std::string> available_controllers(const std::string& dir);

// "slice:prefix:name" of runc/crun's systemd driver.
struct SystemdPath {
  std::string slice, prefix, name;
  std::string unit() const { return (prefix.empty() ? name : prefix + "-" + name) + ".scope"; }
};
std::optional<SystemdPath> parse_systemd_path(const std::string& cgroups_path);
// A cgroupfs linux.cgroupsPath as a directory: absolute paths are below the
// v2 mount; relative ones below the parent of our own cgroup, as runc does
// (our own cgroup most probably holds processes already).
std::string resolve_cgroupfs_path(const std::string& cgroups_path, const Host& host);

// One container's cgroup directory.
class Cgroup {
 public:
  Cgroup() = default;
  explicit Cgroup(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  bool valid() const { return !dir_.empty(); }

  // mkdir -p, enabling in each new ancestor's subtree_control the
  // controllers `controllers` needs (below `base`, which must exist).
  static Result<Cgroup> create(const std::string& base, const std::string& relative,
                               const std::vector<std::string>& controllers);
  Status add_pid(pid_t pid) const;
  // Writes every value; a missing file names the controller that is not
  // enabled/delegated.
  Status apply(const Resources& r) const;
  // cgroup.kill (Linux 5.14+), else SIGKILL each pid in cgroup.procs, in
  // this cgroup and its children.
  Status kill_all() const;
  // Kills what is left, waits (up to `timeout_ms`) for it to be empty, and
  // removes it with its child cgroups. A missing dir is not an error.
  Status remove(int timeout_ms = 5000) const;
  bool populated() const;

 private:
  std::string dir_;
};

}  // namespace ctr::cgroup
