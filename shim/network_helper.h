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
  // slirp4netns: who forwards the published ports. "" or "rootlesskit"
  // (podman's name for its default): ctr's port proxy (shim/port_proxy.h);
  // "slirp4netns": slirp4netns itself, through its API socket.
  std::string port_handler;
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

// A child the shim started (the helper or the port proxy): stopped with
// SIGTERM, then SIGKILL after 2 s, and reaped (it is the shim's child, or
// its orphan: the shim is a subreaper). Closing exit_fd (a pipe the child
// watches) asks it to quit too; the child sees it also when the shim dies.
struct HelperProcess {
  HelperProcess() = default;
  HelperProcess(HelperProcess&& other) noexcept;
  HelperProcess& operator=(HelperProcess&& other) noexcept;
  ~HelperProcess() { stop(); }
  // Safe to call twice, and when the child died already.
  void stop();

  pid_t pid = 0;
  UniqueFd pidfd;
  UniqueFd exit_fd;
};

class NetworkHelper {
 public:
  // Starts the helper for the network namespace of `container_pid` and
  // waits until it has configured it (and forwarded the ports). The error
  // carries the helper's own message.
  static Result<NetworkHelper> start(const NetworkHelperConfig& config, pid_t container_pid);

  NetworkHelper() = default;
  NetworkHelper(NetworkHelper&& other) noexcept = default;
  NetworkHelper& operator=(NetworkHelper&& other) noexcept;
  ~NetworkHelper() { stop(); }
  explicit operator bool() const { return helper_.pid > 0; }
  pid_t pid() const { return helper_.pid; }

  // Stops the port proxy and the helper, and removes the helper's pid file
  // and sockets. Safe to call twice.
  void stop();

 private:
  HelperProcess helper_;
  HelperProcess proxy_;  // slirp4netns with ctr's port proxy
  std::string state_dir_;
};

}  // namespace ctr::shim
