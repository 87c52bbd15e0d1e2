// ctr-shim's command line, parsed and validated up front (a bad value is
// reported before anything is created).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::shim {

enum class LogDriver { k8s_file, json_file, none, passthrough };
const char* log_driver_name(LogDriver driver);

struct ShimOptions {
  std::string id;
  std::string bundle;
  std::string state_dir;                  // the container's, or STATE/exec/EID for an exec session
  std::string runtime;                    // OCI runtime binary
  std::vector<std::string> runtime_args;  // global runtime flags, e.g. --root DIR
  LogDriver log_driver = LogDriver::k8s_file;
  std::string log_path;
  uint64_t log_max_size = 0;  // 0: unlimited
  unsigned log_max_files = 1;
  bool terminal = false;
  bool stdin = false;
  int sync_fd = -1;
  unsigned timeout = 0;  // seconds; 0: none
  bool start = false;    // `RUNTIME start` right after a successful create
  std::string exit_command;
  std::vector<std::string> exit_args;
  // --sdnotify=container: relay the container's notifications from
  // STATE/notify.sock to this NOTIFY_SOCKET (shim/notify_relay.h), adding
  // MAINPID=<shim> to READY=1 with notify_main_pid (ctr does not stay).
  std::string notify_socket;
  bool notify_main_pid = false;
  // A private network: the user-mode helper the shim runs for the
  // container's network namespace (shim/network_helper.h), "pasta" or
  // "slirp4netns" ("" for none), its binary, its extra options, and the
  // published ports in port_mapping.h's canonical form.
  std::string network_helper;
  std::string network_helper_bin;
  std::vector<std::string> network_helper_args;
  std::vector<std::string> publish;
  // slirp4netns: who forwards the published ports, "rootlesskit" (ctr's
  // port proxy, shim/port_proxy.h; also "") or "slirp4netns" (its API).
  std::string port_handler;
  // Exec sessions.
  bool exec = false;
  std::string exec_id;
  std::string process_json;
};

// argv without the program name. `self` is the shim's own path (for the
// default runtime: ctr-runtime next to the shim).
Result<ShimOptions> parse_options(const std::vector<std::string>& args, const std::string& self);
std::string usage();

}  // namespace ctr::shim
