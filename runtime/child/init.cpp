// The container's init between clone() and exec(): the fixed order of steps.
// Syscalls only: no allocation, no exceptions, no locks (see plan.h).
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/child/identity.h"
#include "runtime/child/plan.h"
#include "runtime/child/rootfs.h"
#include "runtime/child/seccomp_apply.h"
#include "runtime/child/sync.h"
#include "runtime/child/text.h"

namespace ctr::child {
namespace {

constexpr size_t kPathMax = 4096;

// The runtime may block or ignore signals (it forwards them to us); none of
// that may leak into the container's process.
void reset_signals() {
  struct kernel_sigaction {
    void* handler;
    unsigned long flags;
    void* restorer;
    uint64_t mask;
  } action{};  // SIG_DFL
  for (int sig = 1; sig < 65; ++sig) syscall(SYS_rt_sigaction, sig, &action, nullptr, 8);
  uint64_t none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, 8);
}

// Closes every fd the clone inherited but the plan does not use, at once:
// the caller's lock on the container directory among them (a flock lives as
// long as any copy of its fd, so a waiting init would block `start`).
void close_inherited_fds(const Plan& plan) {
  int keep[16];
  int count = 0;
  keep[count++] = plan.sync_fd;
  if (plan.exec_fifo_fd >= 0) keep[count++] = plan.exec_fifo_fd;
  for (const JoinStep& join : plan.joins)
    if (count < 16) keep[count++] = join.fd;
  for (int i = 1; i < count; ++i)  // insertion sort: a handful of fds
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
      int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  unsigned next = 3u + static_cast<unsigned>(plan.preserve_fds);
  for (int i = 0; i < count; ++i) {
    unsigned fd = static_cast<unsigned>(keep[i]);
    if (fd < next) continue;
    if (fd > next) syscall(SYS_close_range, next, fd - 1, 0);
    next = fd + 1;
  }
  syscall(SYS_close_range, next, ~0U, 0);
}

void join_namespaces(const Plan& plan) {
  for (const JoinStep& join : plan.joins) {
    if (setns(join.fd, join.nstype) != 0) {
      char detail[128];
      Text(detail, sizeof detail).add("join the ").add(join.name).add(" namespace");
      fail(plan.sync_fd, "setns", errno, detail);
    }
    close(join.fd);
  }
  if (!plan.join_pid) return;
  // setns(CLONE_NEWPID) moves only our future children: clone once more,
  // as a sibling (CLONE_PARENT) so the runtime can wait for it.
  long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) fail(plan.sync_fd, "setns", errno, "clone into the joined pid namespace");
  if (pid > 0) {
    send_message(plan.sync_fd, MessageType::pid, static_cast<int>(pid));
    _exit(0);
  }
}

// Waits for `go` from the parent; a `state` packet before it carries the
// state JSON for hooks. EOF means the runtime died: so do we.
void wait_for_go(const Plan& plan) {
  bool have_state = false;
  for (;;) {
    Message local;
    bool into_state = plan.hook_state && !have_state;
    char* buffer = into_state ? plan.hook_state : reinterpret_cast<char*>(&local);
    size_t capacity = into_state ? plan.hook_state_capacity : sizeof local;
    ssize_t n = recv(plan.sync_fd, buffer, capacity - 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < static_cast<ssize_t>(sizeof(MessageType))) _exit(1);
    MessageType type;
    __builtin_memcpy(&type, buffer, sizeof type);
    if (type == MessageType::go) return;
    if (type == MessageType::state) {
      size_t len = static_cast<size_t>(n) - sizeof type;
      __builtin_memmove(buffer, buffer + sizeof type, len);
      buffer[len] = '\0';
      have_state = into_state;
    }
  }
}

void wait_for(const Plan& plan, MessageType expected, const char* step) {
  Message message;
  long n = receive_message(plan.sync_fd, &message, nullptr);
  if (n <= 0) _exit(1);
  if (message.type != expected) fail(plan.sync_fd, step, EPROTO, "unexpected message from the runtime");
}

void run_hooks(const Plan& plan, Span<HookStep> hooks, const char* kind) {
  int index = 0;
  for (const HookStep& hook : hooks) {
    char detail[512];
    Text text(detail, sizeof detail);
    text.add(kind).add(" hook #").add(static_cast<long>(index++)).add(" (").add(hook.path).add(")");
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) fail(plan.sync_fd, kind, errno, detail);
    long pid = syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) fail(plan.sync_fd, kind, errno, detail);
    if (pid == 0) {
      dup2(pipe_fds[0], 0);
      execve(hook.path, hook.argv, hook.envp);
      _exit(127);
    }
    close(pipe_fds[0]);
    if (plan.hook_state) write(pipe_fds[1], plan.hook_state, string_length(plan.hook_state));
    close(pipe_fds[1]);
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    pollfd pfd{pidfd, POLLIN, 0};
    bool timed_out = pidfd >= 0 && poll(&pfd, 1, hook.timeout_ms > 0 ? hook.timeout_ms : -1) == 0;
    if (timed_out) kill(static_cast<pid_t>(pid), SIGKILL);
    int status = 0;
    while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
    }
    if (pidfd >= 0) close(pidfd);
    if (timed_out) fail(plan.sync_fd, kind, ETIMEDOUT, text.add(": timed out").c_str(), false);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    if (WIFSIGNALED(status)) text.add(": killed by signal ").add(static_cast<long>(WTERMSIG(status)));
    else text.add(": exited with status ").add(static_cast<long>(WEXITSTATUS(status)));
    fail(plan.sync_fd, kind, 0, detail, false);
  }
}

void setup_terminal(const Plan& plan) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(plan.sync_fd, "terminal", errno, "open /dev/ptmx (is devpts mounted at /dev/pts?)");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0) fail(plan.sync_fd, "terminal", errno, "unlock the pty");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail(plan.sync_fd, "terminal", errno, "open the pty slave");
  if (plan.console_rows || plan.console_cols) {
    winsize size{plan.console_rows, plan.console_cols, 0, 0};
    ioctl(slave, TIOCSWINSZ, &size);
  }
  fchown(slave, plan.uid, static_cast<gid_t>(-1));  // the user's own tty; harmless if refused
  if (ioctl(slave, TIOCSCTTY, 0) != 0) fail(plan.sync_fd, "terminal", errno, "make the pty the controlling terminal");
  for (int fd = 0; fd < 3; ++fd)
    if (dup2(slave, fd) < 0) fail(plan.sync_fd, "terminal", errno, "attach stdio to the pty");
  close(slave);
  if (int rc = send_message(plan.sync_fd, MessageType::pty, 0, master); rc < 0)
    fail(plan.sync_fd, "terminal", -rc, "send the pty master");
  close(master);
}

// CVE-2024-21626: a cwd reached through a leaked host fd lies outside the
// container; the kernel's getcwd then does not return an absolute path.
void enter_cwd(const Plan& plan) {
  if (chdir(plan.cwd) != 0) {
    char detail[kPathMax];
    Text(detail, sizeof detail).add("chdir to cwd `").add(plan.cwd).add("`");
    fail(plan.sync_fd, "cwd", errno, detail);
  }
  char real[kPathMax];
  long n = syscall(SYS_getcwd, real, sizeof real);
  if (n <= 0 || real[0] != '/') fail(plan.sync_fd, "cwd", EPERM, "current working directory is outside of the container");
}

bool is_executable(const char* path, int* err) {
  struct stat st;
  if (stat(path, &st) != 0) return *err = errno, false;
  if (!S_ISREG(st.st_mode)) return *err = EACCES, false;
  if (faccessat(AT_FDCWD, path, X_OK, 0) != 0) return *err = errno, false;
  return true;
}

// Finds argv[0] like execvp (and runc): through PATH when it has no slash.
// Done before `ready` so `create` reports `exec: "bahs": ...` itself.
void find_executable(const Plan& plan, char* resolved) {
  const char* name = plan.argv[0];
  char message[kPathMax];
  Text text(message, sizeof message);
  int err = ENOENT;
  bool has_slash = false;
  for (const char* p = name; *p; ++p) has_slash |= *p == '/';
  if (has_slash) {
    Text(resolved, kPathMax).add(name);
    if (is_executable(resolved, &err)) return;
    text.add("exec: \"").add(name).add("\": ").add(err == ENOENT ? "no such file or directory" : error_text(err));
    fail(plan.sync_fd, "exec", err, message, false);
  }
  const char* dir = plan.search_path;
  bool denied = false;
  while (dir) {
    const char* end = dir;
    while (*end && *end != ':') ++end;
    Text candidate(resolved, kPathMax);
    if (end == dir) candidate.add(".");
    for (const char* p = dir; p < end; ++p) candidate.add_char(*p);
    candidate.add("/").add(name);
    int candidate_err = 0;
    if (is_executable(resolved, &candidate_err)) return;
    denied |= candidate_err == EACCES;
    dir = *end ? end + 1 : nullptr;
  }
  err = denied ? EACCES : ENOENT;
  text.add("exec: \"").add(name).add("\": ").add(denied ? "permission denied" : "executable file not found in $PATH");
  fail(plan.sync_fd, "exec", err, message, false);
}

void apply_seccomp_step(const Plan& plan) {
  if (!plan.seccomp_filter) return;
  int listener = -1;
  int rc = apply_seccomp(plan.seccomp_filter, plan.seccomp_length, plan.seccomp_flags, &listener);
  if (rc < 0) fail(plan.sync_fd, "seccomp", -rc, "load the seccomp filter");
  if (plan.seccomp_listener_path && listener >= 0) {
    rc = send_seccomp_listener(plan.seccomp_listener_path, listener, plan.hook_state ? plan.hook_state : "{}");
    if (rc < 0) fail(plan.sync_fd, "seccomp", -rc, "send the seccomp listener fd to listenerPath");
    close(listener);
  }
}

// Marks every fd but stdio and the preserved ones close-on-exec (the sync
// socket among them), so nothing of ours reaches the container's process.
void close_extra_fds(const Plan& plan) {
  unsigned first = 3u + static_cast<unsigned>(plan.preserve_fds);
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    fail(plan.sync_fd, "fds", errno, "mark fds close-on-exec");
  for (unsigned fd = 3; fd < first; ++fd) fcntl(static_cast<int>(fd), F_SETFD, 0);
}

void wait_for_start(const Plan& plan) {
  if (plan.exec_fifo_fd < 0) return;
  char byte;
  ssize_t n;
  while ((n = read(plan.exec_fifo_fd, &byte, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) _exit(1);
  // The fd stays open (close-on-exec) until execve: `start` waits for the
  // last reader to go, so poststart hooks run after the process starts.
}

}  // namespace

void run_init(const Plan& plan) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // a runtime that dies mid-create takes us along
  reset_signals();
  close_inherited_fds(plan);
  join_namespaces(plan);
  wait_for_go(plan);
  if (plan.wait_for_maps && (syscall(SYS_setresgid, 0, 0, 0) != 0 || syscall(SYS_setresuid, 0, 0, 0) != 0))
    fail(plan.sync_fd, "user", errno, "become root in the new user namespace (is 0 mapped?)");
  if (plan.unshare_cgroup && unshare(CLONE_NEWCGROUP) != 0)
    fail(plan.sync_fd, "cgroupns", errno, "create the cgroup namespace");
  if (setsid() < 0) fail(plan.sync_fd, "setsid", errno, "setsid");
  int root_fd = -1;
  if (plan.setup_rootfs) root_fd = prepare_rootfs(plan);
  if (plan.setup_rootfs) {
    send_message(plan.sync_fd, MessageType::run_hooks);
    wait_for(plan, MessageType::hooks_done, "createRuntime");
    run_hooks(plan, plan.create_container_hooks, "createContainer");
    close(root_fd);
    enter_rootfs(plan);
    apply_sysctls(plan);
    finish_rootfs(plan);
  }
  apply_process_settings(plan);
  if (plan.terminal) setup_terminal(plan);
  if (!plan.no_new_privileges) apply_seccomp_step(plan);  // needs CAP_SYS_ADMIN, still held here
  apply_identity(plan);
  enter_cwd(plan);
  char executable[kPathMax];
  find_executable(plan, executable);
  close_extra_fds(plan);
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);  // create returns now; we must outlive it
  if (send_message(plan.sync_fd, MessageType::ready) < 0) _exit(1);
  wait_for_start(plan);
  run_hooks(plan, plan.start_container_hooks, "startContainer");
  if (plan.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    fail(plan.sync_fd, "noNewPrivileges", errno, "PR_SET_NO_NEW_PRIVS");
  if (plan.no_new_privileges) apply_seccomp_step(plan);
  execve(executable, plan.argv, plan.envp);
  fail(plan.sync_fd, "exec", errno, executable);
}

}  // namespace ctr::child
