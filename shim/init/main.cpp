// ctr-init: the minimal PID 1 of `ctr run --init` (tini's job). It runs its
// arguments as a child, forwards every catchable signal it receives to that
// child, reaps every process that gets reparented to it (orphans of the
// container become its children: PID 1 of the pid namespace), and exits
// with the child's status (128 + signal when the child was killed).
//
// Static and libc-only (no libstdc++, no allocation): it is bind-mounted
// into containers whose images may have no matching C library.
//
// Signals are blocked and taken with sigwaitinfo(): a signal that is blocked
// is queued even for a pid namespace's init, which otherwise ignores the
// signals it has no handler for (kernel/signal.c, SIGNAL_UNKILLABLE).
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr int kExitError = 125;

void say(const char* a, const char* b, const char* c) {
  // One write, so lines from several processes do not interleave.
  char line[1024];
  int n = snprintf(line, sizeof line, "ctr-init: %s%s%s\n", a, b, c);
  if (n > 0) (void)!write(STDERR_FILENO, line, static_cast<size_t>(n) < sizeof line ? n : sizeof line - 1);
}

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitError;
}

[[noreturn]] void run_child(char** argv, const sigset_t& original) {
  // A process group of its own, in the terminal's foreground when there is
  // one: ^C then reaches the command once, from the terminal, not a second
  // time forwarded by us (as tini does).
  (void)setpgid(0, 0);
  if (isatty(STDIN_FILENO)) (void)tcsetpgrp(STDIN_FILENO, getpid());  // SIGTTOU is still blocked here
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, &original, nullptr);
  execvp(argv[0], argv);
  int error = errno;
  say("exec ", argv[0], error == ENOENT ? ": executable file not found in $PATH" : ": cannot run it");
  say(argv[0], ": ", strerror(error));
  _exit(error == ENOENT ? 127 : 126);
}

// Reaps every zombie; returns the main child's status once it is among them.
bool reap(pid_t child, int* child_status) {
  bool done = false;
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return done;
    if (pid == child) {
      *child_status = status;
      done = true;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))) {
    say("usage: ctr-init COMMAND [ARG...]", "", "");
    return argc < 2 ? kExitError : 0;
  }
  char** command = argv + 1;
  if (strcmp(command[0], "--") == 0) ++command;  // `ctr-init -- CMD`: CMD may start with '-'
  if (!command[0]) {
    say("usage: ctr-init [--] COMMAND [ARG...]", "", "");
    return kExitError;
  }
  sigset_t all, original;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &original);
  pid_t child = fork();
  if (child < 0) {
    say("fork: ", strerror(errno), "");
    return kExitError;
  }
  if (child == 0) run_child(command, original);
  (void)setpgid(child, child);  // whichever of us runs first
  int child_status = 0;
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;  // EINTR
    if (sig == SIGCHLD) {
      if (reap(child, &child_status)) break;
      continue;
    }
    (void)kill(child, sig);
  }
  // Orphans that died with the child are reaped before we go; the kernel
  // kills the rest of the pid namespace when we exit.
  int ignored = 0;
  (void)reap(-1, &ignored);
  return status_code(child_status);
}
