#include "shim/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/base/files.h"

namespace ctr::shim {

Status daemonize() {
  pid_t middle = ::fork();
  if (middle < 0) return sys_error("fork");
  if (middle > 0) {
    int status = 0;
    while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
  }
  if (::setsid() < 0) ::_exit(1);
  pid_t shim = ::fork();
  if (shim < 0) ::_exit(1);
  if (shim > 0) ::_exit(0);
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  for (int fd = 0; fd <= 2 && null_fd; ++fd) (void)::dup2(null_fd.get(), fd);
  if (::chdir("/") != 0) return sys_error("chdir /");
  return {};
}

void close_inherited_fds(int keep) {
  auto close_from = [](unsigned first, unsigned last) {
    if (first > last) return;
    if (::syscall(SYS_close_range, first, last, 0) == 0) return;
    for (unsigned fd = first; fd <= last && fd < 65536; ++fd) (void)::close(static_cast<int>(fd));
  };
  if (keep < 3) {
    close_from(3, ~0U);
    return;
  }
  close_from(3, static_cast<unsigned>(keep) - 1);
  close_from(static_cast<unsigned>(keep) + 1, ~0U);
  (void)::fcntl(keep, F_SETFD, FD_CLOEXEC);  // ours, not the runtime's
}

void prepare_process() {
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGXFSZ, SIG_IGN);
  (void)::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

void lower_oom_score() {
  (void)write_file("/proc/self/oom_score_adj", "-1000");
}

}  // namespace ctr::shim
