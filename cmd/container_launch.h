// Starting and signalling ctr containers, rootless as podman does it.
// As real root there is no user namespace at all (empty store maps): the
// same child gets a private mount namespace only, the runtime runs in the
// initial user namespace, and the state lives under /run/ctr.
//
// Start: a child of ctr enters a new user namespace (the store's full ID
// map) and mount namespace, mounts the container's root file system on
// merged/ there, and execs ctr-shim, which detaches, runs the OCI runtime
// (inside that namespace: the spec has no user namespace of its own) and
// reports the created pid or the runtime's error on a sync pipe. The mount
// lives as long as some process of that namespace does; the shim's exit
// command (`ctr container cleanup`) runs there too. With --network
// container:X (or ns:PATH of a namespace another of our user namespaces
// owns) the child joins that user namespace instead of making one: only
// from there can the runtime join the network namespace. For container:,
// config.json's network path is set at each start to the target's
// /proc/PID/ns/net (the target must be running), --restart relaunches
// included; and a target that starts again joins the user namespace its
// joiners are in, while they have a process (cmd/container_network.h).
//
// Acting on a running container from outside (start, kill) forks a child
// that joins the container's user and mount namespaces (setns on
// /proc/SHIM/ns/{user,mnt}) and execs the runtime, so signalling processes
// owned by subordinate IDs works (podman joins its pause process instead).
#pragma once

#include <string>
#include <vector>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "runtime/base/result.h"
#include "shim/client.h"

namespace ctr::cmd {

// ctr-shim / ctr-runtime: $CTR_SHIM_BIN / $CTR_RUNTIME_BIN, else beside the
// ctr binary, else the build tree's layout (ctr in cmd/, the others in
// shim/ and runtime/), else $PATH.
std::string helper_binary(const std::string& name, const char* env_override);

// The shim's command line for `record`: its bundle, state, runtime, log
// settings, and `ctr container cleanup ID` as the exit command. With
// `start` the shim starts the container too.
shim::ShimOptions shim_options(Context& ctx, const image::Store& store, const ContainerRecord& record, bool start);

// Starts the container's shim. With `start` the shim also starts the
// container; without it the container is created and waits for
// start_created() (so a client can attach first).
Result<shim::CreateResult> launch_container(Context& ctx, const ContainerRecord& record, bool start);

// Runs `ctr-runtime --root R ARGS...` inside the user and mount namespaces
// of `pid` (the container's shim). Returns the runtime's stderr in the error.
Status runtime_in_container(pid_t pid, const std::vector<std::string>& args);
// `runtime start ID` for a container launch_container(start=false) made
// (in this process when the runtime is ctr-runtime and has no hooks to run).
Status start_created(const ContainerRecord& record);
// True unless $CTR_RUNTIME_BIN names another OCI runtime than ctr-runtime:
// then only its command line may be used, never the library's shortcuts.
bool runtime_is_ours();

// "TERM", "SIGTERM", "15" -> 15; an error naming the text otherwise.
Result<int> parse_signal(const std::string& text);

// Sends `signal` to the container when it is running (or its shim was
// killed and its pid is still there). False when there was nothing to signal.
Result<bool> signal_container(const ContainerRecord& record, int signal);

// Waits until the shim (and so its exit command) is gone; true if it is.
bool wait_shim_gone(const shim::ContainerStatus& status, std::chrono::milliseconds timeout);

// Removes a container that is not running: its storage (under the store
// lock), the shim's and the runtime's state.
Status remove_container(Context& ctx, const ContainerRecord& record);

// For `rmi -f`, with the store lock held: kills container `id` if it runs,
// waits for its exit, and drops its shim and runtime state (the storage is
// the caller's to remove). Storage without a ctr record is left alone.
Status kill_for_removal(const image::Store& store, const std::string& id);

}  // namespace ctr::cmd
