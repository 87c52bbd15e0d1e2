// ctr's own record of a container (ROOT/containers/<id>/ctr.json, beside the
// storage record container.json): what was asked at create time and what
// later commands need (the run flags). The state is never stored: it comes
// from the shim's files (shim/client.h read_container_status), so a killed
// ctr or shim can never leave a stale "running" behind.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "image/store.h"
#include "runtime/base/result.h"
#include "shim/client.h"

namespace ctr::cmd {

inline constexpr const char* kContainerRecordFile = "ctr.json";

// A mount from -v/--volume, --mount, --tmpfs or an image VOLUME (for
// inspect's Mounts, `volume rm` in-use checks and `rm -v`).
struct RecordMount {
  std::string type;  // "bind", "volume" or "tmpfs"
  std::string name;  // the volume's name (type volume)
  std::string source, destination;
  std::vector<std::string> options;  // as in config.json
  bool rw = true;
  bool anonymous = false;  // an anonymous volume: removed with `rm -v` / `run --rm`
};

struct ContainerRecord {
  std::string id;  // 64 hex
  std::string name;
  std::string image_id;              // "sha256:..."
  std::string image_name;            // as given by the user
  std::vector<std::string> command;  // the process args
  int64_t created = 0;               // unix seconds
  int64_t created_ns = 0;            // nanoseconds since the epoch: orders containers made in one second
  // Run flags needed after create.
  bool rm = false;
  bool tty = false;
  bool init = false;  // --init: ctr-init runs as PID 1
  bool stdin = false;
  std::string log_driver = "k8s-file";
  std::string log_path;
  uint64_t log_max_size = 0;
  unsigned log_max_files = 1;
  std::string stop_signal = "SIGTERM";
  unsigned stop_timeout = 10;
  unsigned timeout = 0;  // --timeout: the shim kills the container after N s
  std::vector<RecordMount> mounts;  // user and image-VOLUME mounts, in config.json order
  std::map<std::string, std::string> labels;  // --label
  // --restart: "no", "on-failure", "always", "unless-stopped"; restart_max is
  // on-failure's :N (0 = no limit). restart_count counts policy restarts.
  std::string restart_policy = "no";
  unsigned restart_max = 0;
  unsigned restart_count = 0;
  // --sdnotify: "container", "conmon" or "ignore" (sdnotify.h); the
  // NOTIFY_SOCKET ctr was given at create time ("" for none); the ctr
  // command line that made the container (`generate systemd --new`).
  std::string sdnotify_mode = "container";
  std::string sdnotify_socket;
  std::vector<std::string> create_command;
  // --userns: "" (the store's namespace), "host", or "keep-id[:uid=N,gid=M]".
  std::string userns;
  // Its cgroup (cmd/cgroup_flags.h): the manager ("systemd", "cgroupfs",
  // "none"; "" in records from before cgroups = none), linux.cgroupsPath,
  // the slice or parent cgroup, and linux.resources as JSON ("" = none).
  std::string cgroup_manager;
  std::string cgroups_path;
  std::string cgroup_parent;
  std::string resources_json;
  // Its network (network_mode.h): the mode as given canonically ("pasta",
  // "slirp4netns", "none", "host", "container:ID", "ns:PATH"; "" in records
  // from before networking = none), the helper's extra options, and the
  // published ports in publish.h's canonical form.
  std::string network_mode;
  std::vector<std::string> network_options;
  std::vector<std::string> ports;
  // The exposed ports ("80/tcp": the image's ExposedPorts and --expose)
  // and -P/--publish-all, for inspect (publish.h).
  std::vector<std::string> exposed_ports;
  bool publish_all = false;
  // --dns, --dns-search, --dns-option, --add-host as given (network_files.h;
  // inspect's HostConfig.Dns, DnsSearch, DnsOptions, ExtraHosts).
  std::vector<std::string> dns_servers, dns_search, dns_options, extra_hosts;
};

std::string record_to_json(const ContainerRecord& record);
Result<ContainerRecord> record_from_json(const std::string& text);

// Paths of one container.
std::string container_dir(const image::Store& store, const std::string& id);
// $XDG_RUNTIME_DIR/ctr (tmpfs: shim and runtime state, gone at reboot).
std::string runtime_state_root();
std::string shim_state_dir(const std::string& id);
std::string oci_runtime_root();  // --root of the OCI runtime

Status write_record(const image::Store& store, const ContainerRecord& record);
// Every container ctr made, oldest first (storage without ctr.json, e.g. a
// container left half-made by a crash, is skipped).
Result<std::vector<ContainerRecord>> list_records(const image::Store& store);
// By full ID, name, or unique ID prefix; errors name the text.
Result<ContainerRecord> find_record(const image::Store& store, const std::string& text);

// A fresh random 64-hex ID, and an unused adjective_noun name.
std::string new_container_id();
std::string generate_name(const std::vector<ContainerRecord>& existing);
Status validate_name(const std::string& name);

// created | running | exited, from the shim's files.
struct LiveStatus {
  std::string state = "created";              // "created", "running", "exited"
  std::optional<shim::ContainerStatus> shim;  // absent while created
  int64_t started = 0;                        // unix seconds, when known
  int64_t finished = 0;                       // unix seconds, when known
  int exit_code() const { return shim && shim->exit ? shim->exit->exit_code : -1; }
  // Running, but its cgroup is frozen (ctr pause). `state` stays "running"
  // (every command that needs a live process still finds one); what ps and
  // inspect show is shown_state().
  bool paused = false;
  std::string shown_state() const { return paused ? "paused" : state; }
};
LiveStatus live_status(const ContainerRecord& record);

}  // namespace ctr::cmd
