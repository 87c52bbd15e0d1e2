#include "runtime/init_channel.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "runtime/child/sync.h"

namespace ctr {
namespace {

using child::Message;
using child::MessageType;

Status send_packet(int fd, MessageType type, const std::string& payload = {}) {
  std::string packet(sizeof type, '\0');
  std::memcpy(packet.data(), &type, sizeof type);
  packet += payload;
  if (::send(fd, packet.data(), packet.size(), MSG_NOSIGNAL) < 0) return sys_error("sync with the container init");
  return {};
}

bool starts_with_step(const std::string& text, const std::string& step) { return text.rfind(step + ":", 0) == 0; }

Error child_error(const Message& message) {
  std::string step(message.step, strnlen(message.step, sizeof message.step));
  std::string text(message.text, strnlen(message.text, sizeof message.text));
  // exec errors already read like Go's (`exec: "bahs": ...`); others get their step.
  if (starts_with_step(text, step)) return Error{message.error, text};
  return Error{message.error, step + ": " + text};
}

Result<ChildProcess> clone_child(PlanStorage& storage) {
  clone_args args{};
  int pidfd = -1;
  args.flags = storage.plan.clone_flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) {
    int err = errno;
    std::string hint = err == EPERM || err == ENOSPC || err == EINVAL
                           ? " (are unprivileged user namespaces enabled? see /proc/sys/user/max_user_namespaces)"
                           : "";
    return sys_error("clone the container init" + hint, err);
  }
  if (pid == 0) child::run_init(storage.plan);  // never returns
  return ChildProcess::adopt(static_cast<pid_t>(pid), pidfd);
}

Result<ExitStatus> reap(ChildProcess& process) { return process.wait(std::chrono::milliseconds(5000)); }

}  // namespace

Result<StartedInit> start_init(PlanStorage& storage, const InitHandlers& handlers) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return sys_error("socketpair");
  UniqueFd ours(pair[0]), theirs(pair[1]);
  storage.plan.sync_fd = theirs.get();
  if (handlers.state) {
    storage.hook_state_buffer.assign(64 * 1024, '\0');
    storage.plan.hook_state = storage.hook_state_buffer.data();
    storage.plan.hook_state_capacity = static_cast<unsigned>(storage.hook_state_buffer.size());
  }
  TRY_ASSIGN(process, clone_child(storage));
  theirs.reset();  // so the child's exit or exec reads as EOF here
  StartedInit started{std::move(process), UniqueFd()};
  pid_t pid = started.process.pid();
  if (handlers.before_go) TRY(handlers.before_go(pid));
  if (handlers.state) TRY(send_packet(ours.get(), MessageType::state, handlers.state(pid)));
  TRY(send_packet(ours.get(), MessageType::go));
  bool ready = false;
  for (;;) {
    Message message{};
    int fd = -1;
    long n = child::receive_message(ours.get(), &message, &fd);
    UniqueFd received(fd);
    if (n < 0) return sys_error("read from the container init", static_cast<int>(-n));
    if (n == 0) {
      if (ready) break;  // exec closed the socket: the process runs
      auto status = reap(started.process);
      return make_error("the container init exited during setup (" +
                            (status ? status->describe() : status.error().message) + ")",
                        ECHILD);
    }
    switch (message.type) {
      case MessageType::error:
        return child_error(message);
      case MessageType::run_hooks:
        if (handlers.runtime_hooks) TRY(handlers.runtime_hooks(started.process.pid()));
        TRY(send_packet(ours.get(), MessageType::hooks_done));
        break;
      case MessageType::pty:
        started.pty_master = std::move(received);
        break;
      case MessageType::pid: {
        // After joining a pid namespace the init is our child's sibling
        // (CLONE_PARENT); the intermediate child has exited.
        (void)reap(started.process);
        TRY_ASSIGN(init, ChildProcess::adopt(message.pid));
        started.process = std::move(init);
        break;
      }
      case MessageType::ready:
        ready = true;
        if (!handlers.wait_for_exec) return started;
        break;
      default:
        return make_error("unexpected message from the container init", EPROTO);
    }
  }
  return started;
}

}  // namespace ctr
