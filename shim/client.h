// The client side of ctr-shim, for `ctr` (run/start/logs/attach/exec/ps) and
// the tests: start a shim and learn whether the container was created, read
// a container's status from its state directory whether the shim is alive,
// dead or was killed, wait for the end, and attach to its stdio.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "shim/attach_proto.h"
#include "shim/log_reader.h"
#include "shim/options.h"
#include "shim/records.h"

namespace ctr::shim {

// ---- starting a shim --------------------------------------------------------

struct SpawnShimOptions {
  std::string shim_binary;  // path of ctr-shim
  ShimOptions shim;         // its command line (sync_fd is set by spawn_shim)
  // The caller's stdio handed to the shim (used with the passthrough log
  // driver: the container writes straight to them). -1: /dev/null.
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  // How long creating the container may take before we stop waiting.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

struct CreateResult {
  pid_t pid = 0;      // the container's init (or the exec process) on success
  std::string error;  // the runtime's message when creation failed
  int exit_code = 0;  // podman's status for that failure: 125, 126 or 127
  bool ok() const { return pid > 0; }
};

// The command line for `options` (what spawn_shim runs, minus the binary).
std::vector<std::string> shim_arguments(const ShimOptions& options);
// Starts the shim, which detaches, and waits for its one sync line. An Error
// means the shim itself failed (could not run, died before reporting); a
// CreateResult with !ok() means the runtime refused the container.
Result<CreateResult> spawn_shim(const SpawnShimOptions& options);
// The shim's one line on the sync pipe (`fd`, read end), for callers that
// start the shim themselves (ctr starts it inside the container's user
// namespace). Empty when the shim closed the pipe without reporting.
Result<std::optional<CreateResult>> read_create_report(int fd, std::chrono::milliseconds timeout);

// ---- status -----------------------------------------------------------------

enum class ContainerState {
  running,         // the shim is alive, the container has not exited
  exited,          // exit.json is there
  exited_unknown,  // the shim is gone without writing exit.json (killed)
};
const char* container_state_name(ContainerState state);

struct ContainerStatus {
  ContainerState state = ContainerState::exited_unknown;
  pid_t pid = 0;  // the container's pid, when known
  pid_t shim_pid = 0;
  std::optional<ExitRecord> exit;  // with exited
};

// What the files in `state_dir` say. An error when the directory holds no
// shim state at all (no shim was ever started there).
Result<ContainerStatus> read_container_status(const std::string& state_dir);
// Waits (inotify + the shim's pidfd; no polling) until the container is no
// longer running, or the timeout passes (then the running status).
Result<ContainerStatus> wait_container(const std::string& state_dir, std::chrono::milliseconds timeout);

// ---- attach -----------------------------------------------------------------

// "ctrl-p,ctrl-q" -> "\x10\x11" (docker's syntax: single characters or
// ctrl-<a-z@[\]^_>, comma separated). "" disables detaching.
Result<std::string> parse_detach_keys(std::string_view spec);

// Removes the detach sequence from a stdin stream; bytes that merely start
// the sequence are held until the next byte decides.
class DetachKeyFilter {
 public:
  explicit DetachKeyFilter(std::string keys) : keys_(std::move(keys)) {}
  // The bytes to forward; sets *detached when the whole sequence was typed.
  std::string feed(std::string_view input, bool* detached);

 private:
  std::string keys_;
  size_t matched_ = 0;
};

struct Packet {
  PacketType type = kError;
  std::string payload;
};

// One connection to a shim's attach socket.
class AttachConnection {
 public:
  static Result<AttachConnection> connect(const std::string& state_dir);
  int fd() const { return fd_.get(); }
  Status send_stdin(std::string_view data);
  Status send_stdin_eof();
  Status resize(uint16_t rows, uint16_t cols);
  Status send_raw(const std::string& packet);
  // The next packet; nullopt when the shim closed the connection, an error
  // on timeout.
  Result<std::optional<Packet>> receive(std::chrono::milliseconds timeout);

 private:
  UniqueFd fd_;
};

struct AttachOptions {
  int stdin_fd = -1;  // -1: do not send stdin
  int stdout_fd = 1;
  int stderr_fd = 2;
  std::string detach_keys = "\x10\x11";  // already parsed (parse_detach_keys)
  // A terminal whose size is sent at once and on every SIGWINCH (-1: none).
  int terminal_fd = -1;
  bool close_stdin_at_eof = true;  // send stdin EOF when stdin_fd ends
  // Called once connected, before any output is relayed: `ctr run` starts a
  // created container here, so not a byte of its output is missed.
  std::function<Status()> on_connected;
};

enum class AttachEnd { exited, detached, disconnected };
struct AttachResult {
  AttachEnd end = AttachEnd::disconnected;
  std::optional<ExitRecord> exit;     // with exited
  std::vector<std::string> messages;  // error packets from the shim
};

// Copies the container's output to the given fds and stdin to it until the
// container exits, the detach keys are typed or the shim goes away.
Result<AttachResult> attach(const std::string& state_dir, const AttachOptions& options);
// The same over a connection the caller made already (`ctr exec` connects
// before the session's process starts, so none of its output is missed).
Result<AttachResult> attach(AttachConnection connection, const std::string& state_dir, const AttachOptions& options);

}  // namespace ctr::shim
