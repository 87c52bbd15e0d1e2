// Internals of the supervisor, shared by supervisor.cpp (set-up and
// creation) and supervisor_loop.cpp (the event loop and the end).
#pragma once

#include <optional>
#include <string>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "shim/attach_server.h"
#include "shim/log_writer.h"
#include "shim/network_helper.h"
#include "shim/notify_relay.h"
#include "shim/options.h"
#include "shim/records.h"
#include "shim/supervisor.h"

namespace ctr::shim::detail {

// Pipe capacity for the container's output: fewer wake-ups at high volume.
constexpr int kPipeBytes = 1024 * 1024;
constexpr size_t kMaxStdinPending = 1024 * 1024;

struct Pipe {
  UniqueFd read, write;
};

Result<Pipe> make_pipe();

class Supervisor {
 public:
  Supervisor(const ShimOptions& options, const InheritedStdio& inherited) : opt_(options), inherited_(inherited) {}
  int run();

 private:
  std::string state(const char* name) const { return opt_.state_dir + "/" + name; }
  Status setup();
  Status add_fd(int fd, uint32_t events);
  SyncReport create();
  Status take_terminal(const UniqueFd& console);
  void loop();
  void dispatch(int fd, uint32_t events);
  void on_signal();
  void on_process_gone();
  void reap();
  ExitRecord exit_record() const;
  // Reads what the container wrote; false at EOF. Stops early while attach
  // clients are congested, unless `final` (the container is gone).
  bool read_output(UniqueFd& fd, Stream stream, bool final = false);
  // Pauses or resumes reading the container's output as attach clients
  // congest or catch up (and drops those stuck too long).
  void update_backpressure();
  void write_stdin();
  void close_stdin();
  void finish();
  // --network-helper: started for the created container, before it runs.
  Status start_network_helper(pid_t container_pid);

  ShimOptions opt_;
  InheritedStdio inherited_;
  UniqueFd epoll_, signal_fd_, timer_, null_;
  UniqueFd congestion_timer_;  // wakes the loop to drop clients stuck too long
  bool output_paused_ = false;
  Pipe out_, err_, in_;
  UniqueFd master_;  // the pty master with --terminal
  std::string stdin_pending_;
  bool stdin_eof_ = false;
  bool stdin_polling_ = false;  // in epoll for EPOLLOUT
  std::optional<LogWriter> log_;
  AttachServer attach_;
  NotifyRelay notify_;  // --notify-socket: the container's sd_notify relay
  NetworkHelper network_;  // --network-helper: lives exactly as long as the container
  pid_t pid_ = 0;
  UniqueFd pidfd_;  // readable when the process is gone, even if not our child
  bool exited_ = false;
  bool timed_out_ = false;
  bool status_unknown_ = false;
  int wait_status_ = 0;
};

}  // namespace ctr::shim::detail
