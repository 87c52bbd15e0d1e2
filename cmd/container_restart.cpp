#include "cmd/container_restart.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "cmd/container_launch.h"
#include "cmd/container_network.h"
#include "runtime/base/file_lock.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "shim/client.h"

namespace ctr::cmd {
namespace {

constexpr const char* kStoppedByUserFile = "stopped-by-user";

std::string marker_path(const ContainerRecord& record) {
  return shim_state_dir(record.id) + "/" + kStoppedByUserFile;
}

// Serialises `ctr stop`'s marker with a policy relaunch's "no marker, so
// reset the state dir": without it the marker's write could land in the
// middle of the reset, whose removal then failed (the dir not empty) and
// left a state dir with neither shim.pid nor exit.json. Beside the state
// dir, which the relaunch removes (remove_container removes it too).
Result<FileLock> lock_restart(const ContainerRecord& record) {
  return FileLock::acquire(restart_lock_path(record.id));
}

// Waits for `pid` to exit (pidfd); true when it has.
bool wait_pid_gone(pid_t pid, std::chrono::milliseconds timeout) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return true;
  pollfd pfd{pidfd.get(), POLLIN, 0};
  int n;
  do n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  while (n < 0 && errno == EINTR);
  return n > 0;
}

// In the detached grandchild: the old shim is gone; start the new one.
[[noreturn]] void relaunch_now(Context& ctx, const ContainerRecord& record, pid_t old_shim) {
  if (!wait_pid_gone(old_shim, std::chrono::minutes(5))) ::_exit(1);
  auto store = ctx.store();
  if (!store) ::_exit(1);
  // --network container:ID: ID's namespace of now (it may have been
  // restarted since), as `ctr start` would; the relaunch fails when ID does
  // not run (within 10 s) or cannot be joined from here. stderr is the
  // shim's /dev/null except when cleanup is run by hand.
  if (auto network = prepare_relaunch_network(**store, record, std::chrono::seconds(10)); !network) {
    std::string message = "ctr: restart container " + record.name + ": " + network.error().message + "\n";
    (void)!::write(2, message.data(), message.size());
    ::_exit(1);
  }
  std::string state = shim_state_dir(record.id);
  {
    auto lock = lock_restart(record);
    if (!lock) ::_exit(1);
    if (stopped_by_user(record)) ::_exit(0);  // `ctr stop` came while we waited
    if (!find_record(**store, record.id)) ::_exit(0);  // `ctr rm -f` (which removes the marker too)
    if (!remove_tree(state) || !mkdir_p(state, 0700)) ::_exit(1);
  }
  std::vector<std::string> argv{helper_binary("ctr-shim", "CTR_SHIM_BIN")};
  shim::ShimOptions options = shim_options(ctx, **store, record, /*start=*/true);
  options.sync_fd = -1;  // nobody waits for a create report: the old shim is gone
  for (auto& arg : shim::shim_arguments(options)) argv.push_back(std::move(arg));
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  ::execv(cargv[0], cargv.data());
  ::_exit(127);
}

pid_t current_shim(const std::string& state) {
  auto status = shim::read_container_status(state);
  return status ? status->shim_pid : 0;
}

// Waits up to `timeout` for the container to stop. A --restart policy
// relaunch that raced our signal (its exit command had decided before the
// stopped-by-user marker existed) recreates the state dir, which briefly
// has no shim.pid: that is waited out (up to 5 s), and the new shim is sent
// the signal too (the marker keeps it from restarting again).
Result<shim::ContainerStatus> wait_stopped(const ContainerRecord& record, int signal, pid_t signalled_shim,
                                           std::chrono::seconds timeout) {
  using namespace std::chrono;
  std::string state = shim_state_dir(record.id);
  auto start = steady_clock::now();
  auto deadline = start + timeout, relaunch_deadline = start + std::max<seconds>(timeout, seconds(5));
  for (;;) {
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
    auto status = shim::wait_container(state, std::max(left, milliseconds(0)));
    bool relaunched = status && status->state == shim::ContainerState::running && status->shim_pid != signalled_shim;
    if (status && !relaunched) return status;
    if (!status && !path_exists(state)) {  // removed (--rm) once it stopped
      shim::ContainerStatus gone;
      gone.state = shim::ContainerState::exited;
      return gone;
    }
    if (steady_clock::now() >= relaunch_deadline) return status;
    bool resent = false;
    if (relaunched) {
      TRY_ASSIGN(sent, signal_container(record, signal));
      resent = sent;
    }
    if (resent) signalled_shim = status->shim_pid;
    else std::this_thread::sleep_for(milliseconds(20));  // the relaunch has not got that far yet
  }
}

}  // namespace

Result<RestartPolicy> parse_restart_policy(const std::string& text) {
  RestartPolicy policy;
  std::string name = text, count;
  if (auto colon = text.find(':'); colon != std::string::npos) {
    name = text.substr(0, colon);
    count = text.substr(colon + 1);
  }
  if (name.empty() || name == "no" || name == "always" || name == "unless-stopped" || name == "on-failure") {
    policy.name = name.empty() ? "no" : name;
  } else {
    return make_error("invalid restart policy `" + text + "`: use no, on-failure[:N], always or unless-stopped",
                      EINVAL);
  }
  if (!count.empty() || text.find(':') != std::string::npos) {
    if (policy.name != "on-failure")
      return make_error("invalid restart policy `" + text + "`: only on-failure takes a retry count", EINVAL);
    auto number = parse_u64(count);
    if (!number || *number > 1000000)
      return make_error("invalid restart policy `" + text + "`: the retry count must be a non-negative number",
                        EINVAL);
    policy.max_retries = static_cast<unsigned>(*number);
  }
  return policy;
}

bool policy_restarts(const ContainerRecord& record, int exit_code, bool by_user) {
  if (record.rm || by_user) return false;
  if (record.restart_policy == "always" || record.restart_policy == "unless-stopped") return true;
  if (record.restart_policy != "on-failure" || exit_code == 0) return false;
  return record.restart_max == 0 || record.restart_count < record.restart_max;
}

void mark_stopped_by_user(const ContainerRecord& record) {
  // Locked before looking: a relaunch removes and remakes the dir.
  auto lock = lock_restart(record);
  if (path_exists(shim_state_dir(record.id))) (void)write_file_atomic(marker_path(record), "", 0600);
}

std::string restart_lock_path(const std::string& id) {
  return shim_state_dir(id) + ".restart-lock";
}

bool stopped_by_user(const ContainerRecord& record) {
  return path_exists(marker_path(record));
}

Result<bool> stop_container(const ContainerRecord& record, unsigned timeout, const std::string& signal_text) {
  std::string state = shim_state_dir(record.id);
  TRY_ASSIGN(signal, parse_signal(signal_text.empty() ? record.stop_signal : signal_text));
  mark_stopped_by_user(record);  // before the signal: the exit command must see it
  pid_t shim_pid = current_shim(state);
  TRY_ASSIGN(sent, signal_container(record, signal));
  if (sent) {
    TRY_ASSIGN(status, wait_stopped(record, signal, shim_pid, std::chrono::seconds(timeout)));
    if (status.state == shim::ContainerState::running) {
      // A second SIGKILL could race the first one's exit.
      if (signal != SIGKILL) TRY(signal_container(record, SIGKILL));
      TRY_ASSIGN(after, wait_stopped(record, SIGKILL, status.shim_pid, std::chrono::seconds(30)));
      if (after.state == shim::ContainerState::running)
        return make_error("container " + record.name + " is still running 30 s after SIGKILL", ETIMEDOUT);
    }
  }
  // Its exit command (unmount, restart policy) may still be running.
  if (auto status = shim::read_container_status(state); status) (void)wait_shim_gone(*status, std::chrono::seconds(30));
  return sent;
}

Status restart_container(Context& ctx, const ContainerRecord& record, unsigned timeout) {
  TRY(stop_container(record, timeout));
  TRY_ASSIGN(created, launch_container(ctx, record, true));
  if (!created.ok()) return make_error(created.error, EINVAL);
  return {};
}

Status relaunch_after_exit(Context& ctx, const ContainerRecord& record, pid_t old_shim) {
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork");
  if (child == 0) {
    ::setsid();
    pid_t grandchild = ::fork();
    if (grandchild == 0) relaunch_now(ctx, record, old_shim);
    ::_exit(grandchild < 0 ? 1 : 0);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return make_error("cannot start the restart process", ECHILD);
  return {};
}

}  // namespace ctr::cmd
