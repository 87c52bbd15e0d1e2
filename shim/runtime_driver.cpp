#include "shim/runtime_driver.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "shim/records.h"
#include "shim/runtime_in_process.h"

namespace ctr::shim {

namespace {

// A runtime that does not finish in this time is broken; the user is waiting.
constexpr std::chrono::seconds kRuntimeTimeout{300};

std::string state_file(const ShimOptions& options, const char* name) {
  return options.state_dir + "/" + name;
}

uint64_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// The last error the runtime logged after `offset` of its log file.
std::string logged_error(const std::string& log_path, uint64_t offset) {
  auto text = read_file(log_path);
  if (!text || text->size() <= offset) return "";
  std::string found;
  for (const auto& line : split(std::string_view(*text).substr(offset), '\n')) {
    auto level = json_string_field(line, "level");
    auto msg = json_string_field(line, "msg");
    if (msg && (!level || *level == "error" || *level == "fatal")) found = *msg;
  }
  return found;
}

std::string drain_text(int fd) {
  if (fd < 0) return "";
  int flags = ::fcntl(fd, F_GETFL);
  (void)::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0 && text.size() < 65536;) text.append(buffer, n);
  (void)::fcntl(fd, F_SETFL, flags);
  return std::string(trim(text));
}

// The runtime's command line: in a forked child when it is ctr-runtime
// (shim/runtime_in_process.h), else exec'd.
Result<ExitStatus> run_runtime_process(const ShimOptions& options, const std::vector<std::string>& argv,
                                       const SpawnOptions& spawn, std::chrono::milliseconds timeout) {
  if (is_builtin_runtime(options.runtime)) return run_builtin_runtime(argv, spawn, timeout);
  return run_process(argv, spawn, timeout);
}

LaunchOutcome run_runtime(const ShimOptions& options, const std::vector<std::string>& args, const LaunchStdio& stdio,
                          const std::string& what) {
  std::string log_path = state_file(options, kRuntimeLogFile);
  uint64_t offset = file_size(log_path);
  auto argv = runtime_command(options);
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions spawn;
  spawn.stdin_fd = stdio.in;
  spawn.stdout_fd = stdio.out;
  spawn.stderr_fd = stdio.err;
  LaunchOutcome outcome;
  auto status =
      run_runtime_process(options, argv, spawn, std::chrono::duration_cast<std::chrono::milliseconds>(kRuntimeTimeout));
  if (status && status->code == 0 && !status->signal) {
    outcome.pid = 1;  // success; the caller fills in the real pid
    return outcome;
  }
  if (!status) {
    outcome.error = "cannot run the OCI runtime `" + options.runtime + "`: " + status.error().message;
  } else {
    outcome.error = logged_error(log_path, offset);
    if (outcome.error.empty()) outcome.error = drain_text(stdio.err_read);
    if (outcome.error.empty())
      outcome.error = "the OCI runtime `" + options.runtime + "` " + what + " failed: " + status->describe();
  }
  outcome.exit_code = exit_code_for_runtime_error(outcome.error);
  return outcome;
}

}  // namespace

std::vector<std::string> runtime_command(const ShimOptions& options) {
  std::vector<std::string> argv{options.runtime, "--log", state_file(options, kRuntimeLogFile), "--log-format", "json"};
  argv.insert(argv.end(), options.runtime_args.begin(), options.runtime_args.end());
  return argv;
}

LaunchOutcome launch_container(const ShimOptions& options, const LaunchStdio& stdio) {
  std::string pid_file = state_file(options, kContainerPidFile);
  std::vector<std::string> args;
  if (options.exec)
    args = {"exec", "--process", options.process_json, "--detach", "--pid-file", pid_file};
  else
    args = {"create", "--bundle", options.bundle, "--pid-file", pid_file};
  if (!stdio.console_socket.empty()) {
    args.push_back("--console-socket");
    args.push_back(stdio.console_socket);
  }
  args.push_back(options.id);
  auto outcome = run_runtime(options, args, stdio, options.exec ? "exec" : "create");
  if (!outcome.ok()) return outcome;
  auto text = read_file(pid_file);
  auto pid = text ? parse_u64(trim(*text)) : std::nullopt;
  if (!pid || *pid == 0 || *pid > INT32_MAX) {
    outcome.pid = 0;
    outcome.exit_code = 125;
    outcome.error = "the OCI runtime `" + options.runtime + "` reported success but wrote no pid to `" + pid_file + "`";
    return outcome;
  }
  outcome.pid = static_cast<pid_t>(*pid);
  return outcome;
}

LaunchOutcome start_container(const ShimOptions& options, pid_t pid) {
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  LaunchStdio stdio{null_fd.get(), null_fd.get(), null_fd.get(), -1, {}};
  auto outcome = run_runtime(options, {"start", options.id}, stdio, "start");
  if (outcome.ok()) outcome.pid = pid;
  return outcome;
}

void delete_container(const ShimOptions& options) {
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  auto argv = runtime_command(options);
  argv.insert(argv.end(), {"delete", "--force", options.id});
  SpawnOptions spawn;
  spawn.stdin_fd = spawn.stdout_fd = spawn.stderr_fd = null_fd.get();
  (void)run_runtime_process(options, argv, spawn, std::chrono::milliseconds(30000));
}

}  // namespace ctr::shim
