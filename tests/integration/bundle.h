// Bundle: builds an OCI bundle (a directory with config.json) for the
// integration tests. The default config is what `runc spec --rootless`
// produces, adapted to the shared busybox fixture:
//   - root.path is the absolute path of the shared busybox rootfs, read-only
//     (tests that write use the tmpfs on /tmp or a bind-mounted host dir);
//   - user, pid, ipc, uts and mount namespaces, a single-ID map of the
//     current uid/gid to 0;
//   - /proc, /dev (tmpfs), /dev/pts, /dev/shm, /dev/mqueue, /sys (rbind, ro)
//     and a tmpfs on /tmp; no cgroup mount (hybrid hosts, see TESTING.md);
//   - the rootless default capabilities, masked and read-only paths of
//     DESIGN.md section 6, noNewPrivileges, terminal false.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ctr::itest {

using json = nlohmann::json;

// The capability set granted by default (podman/crun rootless defaults).
const std::vector<std::string>& default_capabilities();
// Bit number of a capability name ("CAP_CHOWN" -> 0); -1 if unknown here.
int capability_number(const std::string& name);
// The /proc/PID/status hex mask ("%016llx") of a set of capabilities.
std::string capability_mask(const std::vector<std::string>& names);

class Bundle {
 public:
  // `dir` is created if missing; `rootfs` is the (absolute) root.path.
  Bundle(std::string dir, const std::string& rootfs);

  const std::string& dir() const { return dir_; }
  json& config() { return config_; }
  const json& config() const { return config_; }
  json& process() { return config_["process"]; }

  Bundle& args(std::vector<std::string> argv);
  Bundle& shell(const std::string& script);   // args: sh -c SCRIPT
  Bundle& env(const std::string& key_value);  // adds (or replaces) one variable
  Bundle& cwd(const std::string& path);
  Bundle& hostname(const std::string& name);
  Bundle& user(uint32_t uid, uint32_t gid, std::vector<uint32_t> additional_gids = {});
  Bundle& terminal(bool on, std::optional<std::pair<unsigned, unsigned>> rows_cols = std::nullopt);
  // Sets bounding, effective and permitted; inheritable and ambient empty.
  Bundle& capabilities(const std::vector<std::string>& names);
  Bundle& rlimit(const std::string& type, uint64_t soft, uint64_t hard);
  Bundle& no_new_privileges(bool on);
  Bundle& root(const std::string& path, bool readonly);

  Bundle& add_mount(json mount);
  Bundle& tmpfs(const std::string& destination, std::vector<std::string> options = {});
  Bundle& bind(const std::string& source, const std::string& destination, bool readonly);
  Bundle& remove_mount(const std::string& destination);

  Bundle& add_namespace(const std::string& type, const std::string& path = "");
  Bundle& remove_namespace(const std::string& type);
  // A new network namespace, with a fresh sysfs on /sys (which a user
  // namespace may mount only when it owns the network namespace).
  Bundle& network_namespace();
  Bundle& uid_mappings(json mappings);
  Bundle& gid_mappings(json mappings);
  // 0 -> the current uid/gid, 1..65536 -> the user's subordinate range.
  // Callers check multi_range_problem() first.
  Bundle& multi_range_maps();

  Bundle& masked_paths(std::vector<std::string> paths);
  Bundle& readonly_paths(std::vector<std::string> paths);
  Bundle& seccomp(json profile);
  Bundle& hooks(json hooks);

  // Writes config.json (pretty-printed) and returns the bundle directory.
  std::string write() const;

 private:
  std::string dir_;
  json config_;
};

}  // namespace ctr::itest
