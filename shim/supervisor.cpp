#include "shim/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/console.h"
#include "shim/attach_server.h"
#include "shim/daemon.h"
#include "shim/log_writer.h"
#include "shim/records.h"
#include "shim/runtime_driver.h"
#include "shim/supervisor_impl.h"

namespace ctr::shim {

void report_sync(int& sync_fd, const SyncReport& report) {
  if (sync_fd < 0) return;
  (void)write_all(sync_fd, format_sync_report(report));  // a vanished reader is not our problem
  ::close(sync_fd);
  sync_fd = -1;
}

namespace detail {

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
  (void)::fcntl(fds[1], F_SETPIPE_SZ, kPipeBytes);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Status Supervisor::add_fd(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return sys_error("epoll_ctl");
  return {};
}

Status Supervisor::setup() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return sys_error("epoll_create1");
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return sys_error("sigprocmask");
  signal_fd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_) return sys_error("signalfd");
  TRY(add_fd(signal_fd_.get(), EPOLLIN));
  TRY_ASSIGN(null_fd, open_fd("/dev/null", O_RDWR));
  null_ = std::move(null_fd);
  if (opt_.log_driver != LogDriver::passthrough) {
    auto log = LogWriter::open(opt_.log_driver, opt_.log_path, opt_.log_max_size, opt_.log_max_files);
    if (!log) return std::move(log).error();
    log_.emplace(std::move(*log));
    if (!opt_.terminal) {
      TRY_ASSIGN(out, make_pipe());
      TRY_ASSIGN(err, make_pipe());
      out_ = std::move(out);
      err_ = std::move(err);
    }
    if (opt_.stdin && !opt_.terminal) {
      TRY_ASSIGN(in, make_pipe());
      in_ = std::move(in);
    }
  }
  AttachHandlers handlers;
  handlers.has_stdin = opt_.stdin;
  handlers.has_terminal = opt_.terminal;
  handlers.on_stdin = [this](std::string_view data) {
    stdin_pending_.append(data);
    write_stdin();
  };
  handlers.on_stdin_eof = [this] {
    stdin_eof_ = true;
    write_stdin();
  };
  handlers.on_resize = [this](uint16_t rows, uint16_t cols) {
    winsize size{rows, cols, 0, 0};
    if (master_) (void)::ioctl(master_.get(), TIOCSWINSZ, &size);
  };
  // Before create: the runtime bind-mounts the socket into the container.
  if (!opt_.notify_socket.empty() && !opt_.exec) {
    auto relay = NotifyRelay::open(state(kNotifySocket), opt_.notify_socket, opt_.notify_main_pid ? ::getpid() : 0);
    if (!relay) return std::move(relay).error().context("--sdnotify=container relay");
    notify_ = std::move(*relay);
    TRY(add_fd(notify_.fd(), EPOLLIN));
  }
  auto attach = AttachServer::listen(state(kAttachSocket), epoll_.get(), std::move(handlers));
  if (!attach) return std::move(attach).error().context("attach socket");
  attach_ = std::move(*attach);
  return {};
}

Status Supervisor::take_terminal(const UniqueFd& console) {
  // The runtime connected and sent the pty master before it exited, so the
  // connection is queued on the (non-blocking) listener already; if not, the
  // runtime is broken and waiting would be forever.
  UniqueFd conn(::accept4(console.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return sys_error("the OCI runtime `" + opt_.runtime + "` sent no terminal over the console socket");
  (void)::fcntl(conn.get(), F_SETFL, 0);  // the message is there: a blocking read is immediate
  TRY_ASSIGN(master, receive_fd(conn.get()));
  master_ = std::move(master);
  (void)::fcntl(master_.get(), F_SETFL, O_NONBLOCK);
  return {};
}

Status Supervisor::start_network_helper(pid_t container_pid) {
  NetworkHelperConfig config;
  config.kind = opt_.network_helper;
  config.binary = opt_.network_helper_bin;
  config.args = opt_.network_helper_args;
  config.state_dir = opt_.state_dir;
  config.port_handler = opt_.port_handler;
  TRY_ASSIGN(ports, parse_canonical_port_mappings(opt_.publish));  // validated with the options
  config.ports = std::move(ports);
  TRY_ASSIGN(helper, NetworkHelper::start(config, container_pid));
  network_ = std::move(helper);
  return {};
}

SyncReport Supervisor::create() {
  LaunchStdio stdio;
  UniqueFd console;
  if (opt_.terminal) {
    auto listener = listen_stream(state(kConsoleSocket));
    if (!listener) return {0, "console socket: " + listener.error().message, 125};
    console = std::move(*listener);
    stdio.console_socket = state(kConsoleSocket);
    stdio.in = stdio.out = stdio.err = null_.get();
  } else if (opt_.log_driver == LogDriver::passthrough) {
    stdio = {inherited_.in, inherited_.out, inherited_.err, -1, {}};
  } else {
    stdio = {in_.read ? in_.read.get() : null_.get(), out_.write.get(), err_.write.get(), err_.read.get(), {}};
  }
  LaunchOutcome outcome = launch_container(opt_, stdio);
  if (outcome.ok() && console) {
    if (auto taken = take_terminal(console); !taken) outcome = {0, taken.error().message, 125};
  }
  if (console) (void)::unlink(state(kConsoleSocket).c_str());
  // The network is up before the container runs (and before ctr hears of
  // it), so its first packet goes somewhere; a helper that cannot start is
  // a failed create, as in podman.
  if (outcome.ok() && !opt_.exec && !opt_.network_helper.empty()) {
    if (auto started = start_network_helper(outcome.pid); !started) {
      delete_container(opt_);
      outcome = {0, started.error().message, 125};
    }
  }
  if (outcome.ok() && opt_.start && !opt_.exec) {
    auto started = start_container(opt_, outcome.pid);
    if (!started.ok()) {
      delete_container(opt_);
      outcome = started;
    }
  }
  if (!outcome.ok()) return {0, outcome.error, outcome.exit_code};
  return {outcome.pid, {}, 0};
}

int Supervisor::run() {
  // No container, no shim: nothing may suggest one ever ran here.
  auto give_up = [this](const SyncReport& report) {
    (void)::unlink(state(kAttachSocket).c_str());
    if (notify_) (void)::unlink(state(kNotifySocket).c_str());
    (void)::unlink(state(kShimPidFile).c_str());
    // Nobody reads a sync fd when there is none (a --restart relaunch, whose
    // start a `ctr stop` can make fail): an exit record then says it ended,
    // rather than a state dir with neither shim.pid nor exit.json.
    if (opt_.sync_fd < 0) {
      ExitRecord failed;
      failed.exit_code = report.exit_code;
      failed.finished_at = now_rfc3339_nano();
      (void)write_file_atomic(state(kExitFile), format_exit_record(failed), 0644, Durability::ephemeral);
    }
    report_sync(opt_.sync_fd, report);
    return 1;
  };
  if (auto ready = setup(); !ready) return give_up({0, ready.error().message, 125});
  SyncReport report = create();
  // The container's ends of the pipes belong to the container now; keeping
  // ours open would hide its EOF.
  out_.write.reset();
  err_.write.reset();
  in_.read.reset();
  if (report.pid <= 0) return give_up(report);
  pid_ = report.pid;
  report_sync(opt_.sync_fd, report);
  // Only now: the runtime (and so the container) must not inherit it.
  lower_oom_score();
  for (UniqueFd* fd : {&out_.read, &err_.read, &master_}) {
    if (*fd) (void)add_fd(fd->get(), EPOLLIN);
  }
  for (UniqueFd* fd : {&out_.read, &err_.read, &in_.write}) {
    if (*fd) (void)::fcntl(fd->get(), F_SETFL, O_NONBLOCK);
  }
  pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  if (pidfd_)
    (void)add_fd(pidfd_.get(), EPOLLIN);
  else if (errno == ESRCH)
    on_process_gone();  // gone already (reaped below if ours)
  if (opt_.timeout) {
    timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    itimerspec when{};
    when.it_value.tv_sec = opt_.timeout;
    if (timer_ && ::timerfd_settime(timer_.get(), 0, &when, nullptr) == 0) (void)add_fd(timer_.get(), EPOLLIN);
  }
  loop();
  // Before exit.json: whoever sees the container exited sees no helper.
  network_.stop();
  finish();
  // Like conmon: the shim ends with the container's status, so a systemd
  // unit whose main PID is the shim (`run -d --sdnotify`, cmd/sdnotify.h)
  // fails when the container does and Restart=on-failure works. Nobody
  // else waits for the detached shim.
  return exit_record().exit_code & 0xff;
}

}  // namespace detail

int run_supervisor(const ShimOptions& options, const InheritedStdio& inherited) {
  detail::Supervisor supervisor(options, inherited);
  return supervisor.run();
}

}  // namespace ctr::shim
