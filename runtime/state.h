// The runtime's state directory: ROOT/ID/ holds state.json (what `state`
// reports), config.json (the bundle's config copied at create, so exec and
// delete see what the container was made from) and the exec fifo (made by
// create_container, removed by start_container).
//
// Liveness is never trusted from the file alone: a pid is "ours" only while
// its start time (/proc/PID/stat field 22) matches the one recorded at
// create, so a reused pid reads as stopped, never as running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/base/file_lock.h"
#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr {

// The runtime-spec version our state and features documents follow.
inline constexpr const char* kOciVersion = "1.1.0";

enum class ContainerStatus { creating, created, running, paused, stopped };
const char* status_name(ContainerStatus status);

struct ContainerState {
  std::string oci_version = kOciVersion;
  std::string id;
  pid_t pid = 0;
  std::string bundle;   // absolute
  std::string rootfs;   // absolute
  std::string created;  // RFC3339Nano, UTC
  std::string owner;    // user name of the creator
  std::map<std::string, std::string> annotations;
  uint64_t start_time = 0;  // of `pid`, private: tells a reused pid apart
  // Computed when loaded, never stored.
  ContainerStatus status = ContainerStatus::stopped;
};

// Reads a pid's start time, 0 when the pid does not exist. Production code
// passes process_start_time (container.h); tests pass fakes to simulate a
// reused pid.
using StartTimeFn = uint64_t (*)(pid_t);

// --root default: $XDG_RUNTIME_DIR/ctr-runtime when rootless (or
// /tmp/ctr-runtime-UID without XDG_RUNTIME_DIR), /run/ctr-runtime as root.
std::string default_state_root();
// Creates the root (mode 0700) if needed and checks it is a directory we own,
// so a directory pre-created by another user in /tmp cannot capture our state.
Status ensure_state_root(const std::string& root);

// runc's rule: non-empty, not "." or "..", only [A-Za-z0-9_+.-], at most 1024.
Status validate_container_id(std::string_view id);
std::string container_dir(const std::string& root, const std::string& id);

// A container dir without state.json is a create in progress, or the
// garbage of a create that was killed. A create marks itself with a
// `creating` file (its pid and start time) rather than with a lock: the
// container init is cloned from the creating process and would inherit a
// lock fd, holding the lock until `start` (which then could not take it).
// A dir younger than this without that marker is a create between its mkdir
// and its marker.
inline constexpr std::chrono::seconds kAbandonedCreateAge{5};
inline constexpr const char* kCreateMarker = "creating";

// mkdir ROOT/ID (mode 0700, the atomic existence check) and writes the
// `creating` marker. An abandoned create's leftover dir is removed and the
// mkdir retried once. Fails with EEXIST: `container "ID" already exists`.
Result<std::string> create_container_dir(const std::string& root, const std::string& id);
// Once state.json is written the marker has no meaning any more.
void remove_create_marker(const std::string& dir);

// True for a dir without state.json whose creator is dead (or, without a
// marker, that is older than kAbandonedCreateAge).
bool is_abandoned_create(const std::string& dir);

// flock()s a container dir (opened O_DIRECTORY) for start, kill, exec,
// delete. Fails with ENOENT (`container "ID" does not exist`) when the dir
// is missing, or was removed by whoever held the lock before us. Do not hold
// it while cloning a process that waits before exec (a created init): the
// clone would hold the lock too.
Result<FileLock> lock_container_dir(const std::string& root, const std::string& id,
                                    FileLock::Mode mode = FileLock::Mode::exclusive);

// state.json <-> ContainerState. The file form has the private fields
// (init_process_start); the public form is what `state` and `list` print
// (pid 0 once stopped, status included).
nlohmann::ordered_json state_to_file_json(const ContainerState& state);
nlohmann::ordered_json state_to_public_json(const ContainerState& state);
Result<ContainerState> parse_state(const std::string& text);
// Writes DIR/state.json atomically.
Status write_state(const std::string& dir, const ContainerState& state);

// The state given to hooks on stdin: {ociVersion, id, status, pid, bundle,
// annotations}.
std::string hook_state_json(const std::string& id, const std::string& bundle,
                            const std::map<std::string, std::string>& annotations, pid_t pid,
                            std::string_view status);

// Pure status rule. `current_start_time` is the pid's start time now (0 if
// gone); a zombie has exited, it only waits for its parent to reap it.
ContainerStatus compute_status(pid_t pid, uint64_t saved_start_time, uint64_t current_start_time, bool zombie,
                               bool exec_fifo_exists);
// Probes /proc and the exec fifo for a loaded state.
ContainerStatus probe_status(const std::string& dir, const ContainerState& state, StartTimeFn start_time_of);

// Reads ROOT/ID/state.json and computes the status. ENOENT:
// `container "ID" does not exist`.
Result<ContainerState> load_container(const std::string& root, const std::string& id, StartTimeFn start_time_of);
// Every container under root with a readable state.json, sorted by id.
// Dirs without one (creates in progress, garbage) are skipped. A missing
// root is an empty list.
Result<std::vector<ContainerState>> list_containers(const std::string& root, StartTimeFn start_time_of);

// Opens a pidfd for the container's init, then checks the start time, so the
// fd is known to refer to the process we created (signals sent through it
// cannot hit a reused pid). ESRCH when the init is gone.
Result<UniqueFd> open_init_pidfd(const ContainerState& state, StartTimeFn start_time_of);

// RFC3339Nano in UTC as Go prints it (fraction without trailing zeros), e.g.
// 2024-05-01T10:20:30.123456Z.
std::string format_rfc3339_nano(const timespec& ts);
std::string now_rfc3339_nano();
// The effective user's name, or its number when it has no passwd entry.
std::string current_user_name();

}  // namespace ctr
