// The network side of starting a container (launch_container): checks that
// its network helper is there, the user namespace its shim must join for
// --network container:/ns:, and ending a network helper a killed shim left.
#pragma once

#include <chrono>
#include <string>

#include "cmd/container_record.h"
#include "image/store.h"
#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "shim/options.h"
#include "userns/run_in_userns.h"

namespace ctr::cmd {

// Where the shim of a container must start so its runtime can join the
// network namespace: a user namespace to join, or "" for a new one.
struct NetworkJoin {
  std::string userns;  // /proc/SHIM/ns/user (container:), else /proc/self/fd/N of `owner`
  UniqueFd owner;      // ns:'s owner or the joiners' (see below), open until the child joined it
};

// Checked at every start, not only at create: a helper (pasta,
// slirp4netns) may have been uninstalled since; --network container:ID
// needs ID running, and its current /proc/PID/ns/net goes into the
// container's config.json. Errors name the container and the fix.
// A container with a network namespace of its own starts in the user
// namespace of the containers that joined it, while one of them has a
// process left (so their --restart relaunches can join its new namespace).
Result<NetworkJoin> prepare_container_network(const image::Store& store, const userns::StoreMaps& maps,
                                              const ContainerRecord& record);

// --network container:ID, at any (re)start: the target must run; its
// current namespace goes into our config.json. Returns the target shim's
// pid (its user namespace owns that network namespace).
Result<pid_t> prepare_network_join(const image::Store& store, const ContainerRecord& record,
                                   const std::string& target_id);

// For a --restart relaunch, which runs in the exit command's user
// namespace: --network container:ID is resolved again as at any start
// (ID's current /proc/PID/ns/net into config.json), after waiting up to
// `wait` for ID to run (it may be restarting itself). An error when ID is
// gone or stopped, or when its namespace is owned by a user namespace
// other than ours (one we cannot join from here). No-op for other modes.
Status prepare_relaunch_network(const image::Store& store, const ContainerRecord& record,
                                std::chrono::milliseconds wait);

// --network container:ID: a marker in ID's directory names the joiner, so
// ID's start finds its joiners (prepare_container_network) without
// listing every record. Written at create, removed with the joiner; no-op
// for other modes.
Status record_network_joiner(const image::Store& store, const ContainerRecord& joiner);
void forget_network_joiner(const image::Store& store, const ContainerRecord& joiner);

// A private network (pasta, slirp4netns): the shim runs its helper, with
// the published ports (prepare_container_network checked the helper).
void set_network_helper_options(shim::ShimOptions& options, const ContainerRecord& record);

// A SIGKILLed shim leaves its pasta running (slirp4netns quits with it):
// ends the helper recorded in STATE/network-helper.pid when that very
// process (pid and start time) still runs, and waits (up to 5 s) for it to
// go. Only for containers whose shim is gone; anything else is a no-op.
void kill_leftover_network_helper(const std::string& state_dir);

}  // namespace ctr::cmd
