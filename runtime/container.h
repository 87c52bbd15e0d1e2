// The runtime's core operations on one container, used by ctr-runtime's
// commands (and later by ctr and ctr-shim directly, skipping an exec).
// The caller owns the state directory: it validates the id, holds the
// lock, and writes state.json; these functions only make processes.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "runtime/base/child_process.h"
#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "runtime/spec.h"

namespace ctr {

enum class CreateMode {
  create,  // set up, then hold the user process until start_container()
  run,     // set up and exec the user process at once
};

struct CreateRequest {
  std::string id;
  std::string bundle;     // absolute
  std::string state_dir;  // exists, private to this container; the exec fifo goes here
  std::string console_socket;  // "" = none; with process.terminal the pty master is sent there
  int preserve_fds = 0;        // fds 3..3+N-1 pass into the container
  bool no_pivot = false;
  bool no_new_keyring = false;
  CreateMode mode = CreateMode::create;
  bool systemd_cgroup = false;  // --systemd-cgroup: cgroupsPath is slice:prefix:name (see cgroup_setup.h)
  std::string seccomp_cache_dir;  // "" = compile the seccomp profile every time
  // State JSON for hooks, given the container pid (the caller knows the
  // id/bundle/annotations/status to put in it). Needed when spec has hooks.
  std::function<std::string(pid_t pid, const char* status)> hook_state;
};

struct Created {
  ChildProcess init;     // the container's PID 1 as seen from here; release() to leave it running
  uint64_t start_time = 0;  // from /proc/PID/stat, to tell a reused pid apart
  UniqueFd pty_master;   // process.terminal without a console socket (foreground run)
};

// Creates the container's init process. Returns once the container is set
// up (create: blocked before exec; run: about to exec), or with the error of
// the step that failed inside the container, e.g.
// `exec: "bahs": executable file not found in $PATH`.
Result<Created> create_container(const spec::Spec& spec, const CreateRequest& request);

// Releases a container made with CreateMode::create to exec its process.
// Fails if it is not waiting (already started, or dead).
Status start_container(const std::string& state_dir);

struct ExecRequest {
  pid_t container_pid = 0;
  const spec::Spec* container_spec = nullptr;  // its seccomp, mounts' rootfs, namespaces
  spec::Process process;
  std::string console_socket;
  int preserve_fds = 0;
  bool detach = false;
  std::string seccomp_cache_dir;
};

struct Executed {
  ChildProcess process;  // release() when detached
  UniqueFd pty_master;   // terminal without a console socket
};

// Runs a new process inside a running container's namespaces.
Result<Executed> exec_in_container(const ExecRequest& request);

// Start time of a pid (field 22 of /proc/PID/stat), 0 if it does not exist.
uint64_t process_start_time(pid_t pid);

}  // namespace ctr
