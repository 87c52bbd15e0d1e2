// ctr-shim: the per-container supervisor (see shim/README.md).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "shim/daemon.h"
#include "shim/options.h"
#include "shim/port_proxy.h"
#include "shim/records.h"
#include "shim/supervisor.h"

using namespace ctr;
using namespace ctr::shim;

namespace {

// The sync fd named on a command line that failed to parse.
int sync_fd_of(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--sync-fd" && i + 1 < args.size())
      value = args[i + 1];
    else if (starts_with(args[i], "--sync-fd="))
      value = args[i].substr(10);
    if (auto fd = parse_u64(value); fd && *fd > 2 && *fd < 65536) return static_cast<int>(*fd);
  }
  return -1;
}

int fail(int sync_fd, const std::string& message) {
  std::fprintf(stderr, "ctr-shim: %s\n", message.c_str());
  report_sync(sync_fd, {0, message, 125});
  return 125;
}

int dup_cloexec(int fd) {
  return ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // The port proxy the shim starts for a slirp4netns network (shim/port_proxy.h).
  if (!args.empty() && args[0] == kPortProxyCommand) return port_proxy_main({args.begin() + 1, args.end()});
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  std::string self = argv[0];
  char path[4096];
  if (ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1); n > 0) self.assign(path, static_cast<size_t>(n));
  auto parsed = parse_options(args, self);
  if (!parsed) return fail(sync_fd_of(args), parsed.error().message);
  ShimOptions options = std::move(*parsed);
  if (options.exec) {
    // An exec session keeps its own records beside the container's.
    options.state_dir = exec_state_dir(options.state_dir, options.exec_id);
    if (auto made = mkdir_p(options.state_dir, 0700); !made)
      return fail(options.sync_fd, "exec session state `" + options.state_dir + "`: " + made.error().message);
  }
  close_inherited_fds(options.sync_fd);
  InheritedStdio inherited;
  if (options.log_driver == LogDriver::passthrough) inherited = {dup_cloexec(0), dup_cloexec(1), dup_cloexec(2)};
  if (auto detached = daemonize(); !detached) return fail(options.sync_fd, detached.error().message);
  prepare_process();  // in the shim itself: the subreaper bit is not inherited by fork
  auto identity = process_identity(::getpid());
  Status recorded = identity ? write_file_atomic(options.state_dir + "/" + kShimPidFile, format_identity(*identity),
                                                 0644, Durability::ephemeral)
                             : Status(identity.error());
  if (!recorded) {
    report_sync(options.sync_fd,
                {0, "write shim.pid in `" + options.state_dir + "`: " + recorded.error().message, 125});
    return 1;
  }
  return run_supervisor(options, inherited);
}
