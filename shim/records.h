// The small fixed records the shim shares with its clients: the sync line,
// exit.json, shim.pid, and the RFC3339Nano timestamps of log lines. The shim
// writes them by hand (no JSON library in the long-lived process, to keep its
// RSS small); clients parse them with the helpers here.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/base/result.h"

namespace ctr::shim {

// File names inside a container's (or exec session's) state directory.
inline constexpr const char* kShimPidFile = "shim.pid";
inline constexpr const char* kExitFile = "exit.json";
inline constexpr const char* kAttachSocket = "attach";
inline constexpr const char* kContainerPidFile = "container.pid";
inline constexpr const char* kRuntimeLogFile = "runtime.log";
inline constexpr const char* kConsoleSocket = "console.sock";
inline constexpr const char* kNotifySocket = "notify.sock";  // --sdnotify=container's relay (notify_relay.h)

// STATE/exec/EID: where an exec session's shim keeps its records.
inline std::string exec_state_dir(const std::string& state_dir, const std::string& exec_id) {
  return state_dir + "/exec/" + exec_id;
}

// How the container (or exec process) ended.
struct ExitRecord {
  int exit_code = 0;  // shell convention: the code, or 128 + signal
  int signal = 0;     // 0: exited normally
  std::string finished_at;
  bool oom_killed = false;
  bool timed_out = false;  // killed by the shim's --timeout
  uint64_t dropped_log_bytes = 0;
};
std::string format_exit_record(const ExitRecord& record);
Result<ExitRecord> parse_exit_record(std::string_view text);

// shim.pid: "PID STARTTIME\n", STARTTIME from /proc/PID/stat (field 22), so a
// reused pid is not mistaken for the shim.
struct ProcessIdentity {
  pid_t pid = 0;
  uint64_t start_time = 0;
};
std::string format_identity(const ProcessIdentity& identity);
Result<ProcessIdentity> parse_identity(std::string_view text);
// The identity of a live process; an error when it does not exist.
Result<ProcessIdentity> process_identity(pid_t pid);
// True when `identity` names a live (non-zombie) process.
bool identity_alive(const ProcessIdentity& identity);

// The one line the shim writes to the sync fd.
struct SyncReport {
  pid_t pid = 0;      // > 0 on success
  std::string error;  // the runtime's (or shim's) message on failure
  int exit_code = 0;  // 125, 126 or 127 on failure
};
std::string format_sync_report(const SyncReport& report);
Result<SyncReport> parse_sync_report(std::string_view line);

// podman's mapping of an OCI runtime failure to an exit status: 127 when the
// executable was not found, 126 when it cannot be run, else 125.
int exit_code_for_runtime_error(std::string_view message);

// "2026-11-22T20:48:25.123456789+00:00" (UTC, nanoseconds, fixed width).
std::string rfc3339_nano(const timespec& when);
std::string now_rfc3339_nano();

// JSON string escaping (without the quotes) for the hand-written records.
void append_json_escaped(std::string& out, std::string_view text);
// The string value of "key" in a flat JSON object line, unescaped; nullopt
// when absent or not a string. Enough for a runtime's --log-format json line.
std::optional<std::string> json_string_field(std::string_view line, std::string_view key);

}  // namespace ctr::shim
