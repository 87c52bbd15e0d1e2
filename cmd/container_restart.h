// Stopping and restarting containers: what `ctr stop`, `ctr restart`,
// `ctr rm -f`, `ctr kill` and the exit command (`ctr container cleanup`,
// for --restart policies) share.
//
// A user stop is remembered with a marker file in the shim's state directory
// (written before the signal is sent), so the exit command can tell "the
// user stopped it" from "it exited" and not apply the restart policy; the
// next start clears the state directory and with it the marker.
#pragma once

#include <string>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "runtime/base/result.h"

namespace ctr::cmd {

// --restart: "no", "on-failure[:N]", "always", "unless-stopped".
struct RestartPolicy {
  std::string name = "no";
  unsigned max_retries = 0;  // on-failure's N; 0 = no limit
};
Result<RestartPolicy> parse_restart_policy(const std::string& text);

// Whether the policy restarts a container that ended with `exit_code`
// (`stopped_by_user`: ctr stop/kill/rm ended it).
bool policy_restarts(const ContainerRecord& record, int exit_code, bool stopped_by_user);

void mark_stopped_by_user(const ContainerRecord& record);
bool stopped_by_user(const ContainerRecord& record);
// The lock file that orders the marker against a policy relaunch (beside
// the shim's state dir; removed with the container).
std::string restart_lock_path(const std::string& id);

// The stop signal (record.stop_signal, or `signal` when not empty), then
// SIGKILL after `timeout` seconds, and waits for the shim's exit command
// (unmount, restart policy) to finish. False when it was not running.
Result<bool> stop_container(const ContainerRecord& record, unsigned timeout, const std::string& signal = {});

// `ctr restart`: stops it if it runs, then starts it again detached (same
// ID, same log file).
Status restart_container(Context& ctx, const ContainerRecord& record, unsigned timeout);

// From the exit command (inside the container's user and mount namespace,
// root file system still mounted): starts a new shim for the container in
// these same namespaces once the current shim (`old_shim`) has gone.
// Returns at once; the new shim is started by a detached grandchild, which
// resolves --network container:ID again first (prepare_relaunch_network).
Status relaunch_after_exit(Context& ctx, const ContainerRecord& record, pid_t old_shim);

}  // namespace ctr::cmd
