// The OCI config.json of a ctr container: the image's config (Env, Cmd,
// Entrypoint, WorkingDir, User, StopSignal) merged with the run flags, in
// the shape rootless podman generates: no user namespace entry (ctr already
// runs the runtime inside the store's user namespace), new pid, ipc, uts,
// mount, network and cgroup namespaces, podman's rootless capabilities.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cmd/spec_security.h"
#include "image/store.h"
#include "runtime/base/result.h"
#include "userns/idmap.h"

namespace ctr::cmd {

// An extra OCI mount (-v, --mount, --tmpfs, image VOLUMEs: volume_flags.h).
struct SpecMount {
  std::string destination, type, source;
  std::vector<std::string> options;
};

struct ProcessFlags {
  std::vector<std::string> env;  // -e KEY=VALUE or KEY (taken from ctr's environment)
  std::optional<std::string> workdir;
  std::optional<std::string> user;
  std::optional<std::string> entrypoint;  // "" clears the image's
  std::optional<std::string> hostname;
  std::vector<std::string> command;  // after IMAGE
  bool tty = false;
  std::vector<std::string> env_files;  // --env-file: KEY=VALUE lines, read before -e
  bool env_host = false;               // --env-host: ctr's whole environment first
  std::vector<std::string> annotations;  // --annotation KEY=VALUE
  SecurityFlags security;
  // --init: the host path of ctr-init, bind-mounted read-only at
  // kInitPath and run as PID 1 in front of the command ("" for none).
  std::string init_binary;
  // Appended after the default mounts; one at a default's destination replaces it.
  std::vector<SpecMount> mounts;
  // --userns=keep-id: a user namespace of the container's own with these
  // maps (relative to the store's namespace), run as uid:gid unless -u.
  struct KeepId {
    userns::IdMap uid_map, gid_map;
    uint32_t uid = 0, gid = 0;
  };
  std::optional<KeepId> keep_id;
  // The cgroup (cmd/cgroup_flags.h): linux.cgroupsPath ("" = none),
  // linux.resources JSON ("" = none), process.oomScoreAdj; with
  // cgroup_supervisor the runtime puts the shim in a sibling leaf.
  std::string cgroups_path, resources_json;
  std::optional<int> oom_score_adj;
  bool cgroup_supervisor = false;
  // The network namespace (network_mode.h): a new one (default), none of
  // its own (host_network: the caller's), or the one at network_ns_path
  // (container:, rewritten at each start; ns:PATH).
  bool host_network = false;
  std::string network_ns_path;
};
inline constexpr const char* kInitPath = "/run/ctr-init";

// podman's --env-file format: KEY=VALUE lines, KEY alone takes ctr's value
// (dropped when unset), blank lines and # comments skipped. `origin` names
// the file in errors.
Result<std::vector<std::string>> parse_env_file(const std::string& text, const std::string& origin);
// "KEY=VALUE" -> {KEY, VALUE}; `what` names the flag in errors.
Result<std::pair<std::string, std::string>> parse_key_value(const std::string& text, const std::string& what);

// What an image's config says about how to run it.
struct ImageRunConfig {
  std::vector<std::string> env, cmd, entrypoint;
  std::string workdir, user, stop_signal;
  std::map<std::string, std::string> labels;
};
Result<ImageRunConfig> read_image_run_config(const image::Store& store, const image::ImageRecord& image);

// A user as the container sees it, resolved through the image's
// /etc/passwd and /etc/group (top layer first).
struct ResolvedUser {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string home = "/";
};
// `text` is "user[:group]" by name or number; the file contents are passed
// in (testable without a store).
Result<ResolvedUser> resolve_user(const std::string& text, const std::string& passwd, const std::string& group);
// The content of `path` (e.g. "/etc/passwd") in the image's top-most layer
// that has it; "" when none does.
std::string read_image_file(const image::Store& store, const image::ImageRecord& image, const std::string& path);

// --userns=keep-id, as podman: the image's /etc/passwd (or /etc/group)
// plus an entry for `name` with `uid` (`gid`) when that ID has none; ""
// when nothing needs adding.
std::string passwd_with_user(const std::string& passwd, const std::string& name, uint32_t uid, uint32_t gid,
                             const std::string& home);
std::string group_with_group(const std::string& group, const std::string& name, uint32_t gid);

struct SpecResult {
  std::string json;               // config.json
  std::vector<std::string> args;  // the process args
  std::string stop_signal;        // from the image, else SIGTERM
  std::map<std::string, std::string> image_labels;
};
// `id` gives the default hostname (its first 12 characters) and `rootfs`
// is root.path (the merged/ directory).
Result<SpecResult> build_spec(const image::Store& store, const image::ImageRecord& image, const ProcessFlags& flags,
                              const std::string& id, const std::string& rootfs, bool single_id);

}  // namespace ctr::cmd
