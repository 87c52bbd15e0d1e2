// Where the integration tests find the runtime under test and the busybox
// rootfs, and which features of the machine they depend on.
//
// Environment (set by scripts/test.sh):
//   CTR_RUNTIME_BIN  the OCI runtime binary under test
//                    (default: CTR_BUILD_DIR/runtime/ctr-runtime)
//   CTR_FIXTURES     a directory holding busybox-rootfs/ (default: built on
//                    first use by tests/fixtures/build-busybox-rootfs.sh into
//                    a per-user cache)
//   CTR_SOURCE_DIR   the source tree, to find that script (default: the
//                    CTR_SOURCE_DIR compile definition, else /work/main)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ctr::itest {

const std::string& runtime_binary();
// The busybox rootfs shared (read-only) by every test; empty when it could
// not be found or built, with the reason in `fixture_error()`.
const std::string& busybox_rootfs();
const std::string& fixture_error();

// A reason ("REASON-ID: explanation") why no container can run here at all,
// e.g. unprivileged user namespaces are disabled.
std::optional<std::string> environment_problem();

struct SubidRange {
  uint32_t start = 0;
  uint32_t count = 0;
};
// The current user's first range in /etc/subuid or /etc/subgid.
std::optional<SubidRange> subordinate_range(const std::string& file);
// Why multi-range ID maps (newuidmap/newgidmap + subordinate IDs) cannot be
// used here, if they cannot.
std::optional<std::string> multi_range_problem();

// Child-subreaper bookkeeping. The test process is made a child subreaper so
// container processes orphaned by the runtime (`create` exits, its init stays;
// `exec --detach` leaves its process) are reparented to it instead of to the
// machine's PID 1, which on these VMs does not reap. A background thread
// reaps those orphans once they die: the kernel does not let a dying pid
// namespace init finish while a member of the namespace is an unreaped zombie,
// so a runtime waiting for the init (`delete --force`) would otherwise hang.
// Processes the harness waits for itself are spawned under `spawn_lock()`
// and registered with track_child(), so the reaper leaves them alone.
void enable_subreaper();
std::unique_lock<std::mutex> spawn_lock();
void track_child(pid_t pid);  // call with spawn_lock() held
void untrack_child(pid_t pid);
void reap_orphans();

// Pids of live (non-zombie) processes whose environment holds `needle`
// (the per-test marker variable), i.e. container processes of one test.
std::vector<pid_t> processes_with_env(const std::string& needle);
// Live (not zombie) processes for which `wanted(pid)` is true.
std::vector<pid_t> processes_where(const std::function<bool(pid_t)>& wanted);
// True when `pid` no longer runs (absent or a zombie).
bool process_gone(pid_t pid);

}  // namespace ctr::itest
