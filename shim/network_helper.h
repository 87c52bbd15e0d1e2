// The container's user-mode network helper (pasta or slirp4netns), started
// by the shim for the container's network namespace once the runtime has
// created it (before it runs), and stopped when the container ends. The
// shim sits in the container's user namespace, so the helper does too and
// may enter the container's network namespace.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "shim/port_mapping.h"

namespace ctr::shim {

// STATE/network-helper.pid: `PID STARTTIME` of the running helper (records.h
// format), so `ctr rm -f` can end one a SIGKILLed shim left behind.
inline constexpr const char* kNetworkHelperPidFile = "network-helper.pid";
// slirp4netns's API socket (port forwarding requests).
inline constexpr const char* kSlirpApiSocket = "slirp4netns.sock";

struct NetworkHelperConfig {
  std::string kind;               // "pasta" or "slirp4netns"
  std::string binary;
  std::vector<std::string> args;  // extra options (ctr's translation of the user's)
  std::vector<PortMapping> ports;
  std::string state_dir;
  // Real root (the initial user namespace): pasta would drop to `nobody`,
  // which may not enter a namespace root owns; it keeps root (--runas 0).
  bool real_root = false;
};

// The helpers' command lines (testable). The network namespace is open on
// fd `netns_fd` in the helper (/proc/self/fd/N: the helper then needs no
// access to the container's /proc entries).
std::vector<std::string> pasta_argv(const NetworkHelperConfig& config, const std::string& pid_file, int netns_fd);
std::vector<std::string> slirp4netns_argv(const NetworkHelperConfig& config, int netns_fd, int ready_fd, int exit_fd);

class NetworkHelper {
 public:
  // Starts the helper for the network namespace of `container_pid` and
  // waits until it has configured it (and forwarded the ports). The error
  // carries the helper's own message.
  static Result<NetworkHelper> start(const NetworkHelperConfig& config, pid_t container_pid);

  NetworkHelper() = default;
  NetworkHelper(NetworkHelper&& other) noexcept;
  NetworkHelper& operator=(NetworkHelper&& other) noexcept;
  ~NetworkHelper() { stop(); }
  explicit operator bool() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // SIGTERM, then SIGKILL after 2 s; reaps it (it is the shim's child, or
  // its orphan: the shim is a subreaper) and removes its pid file. Safe to
  // call twice, and when the helper died already.
  void stop();

 private:
  pid_t pid_ = 0;
  UniqueFd pidfd_;
  UniqueFd exit_fd_;  // slirp4netns exits when this closes (also when the shim dies)
  std::string state_dir_;
};

}  // namespace ctr::shim
