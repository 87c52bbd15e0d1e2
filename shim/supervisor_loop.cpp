// The supervisor's event loop (epoll over a signalfd, the container's output,
// its stdin, the attach socket and the --timeout timer: nothing polls, an idle
// container costs no CPU) and the end of the container's life.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "shim/oom.h"
#include "shim/supervisor_impl.h"

namespace ctr::shim::detail {

namespace {

// Big enough that a busy container is drained in few syscalls; it is .bss, so
// an idle shim does not pay for it in RSS.
char g_buffer[256 * 1024];

// How long an exec session's output waits for the client that started it
// (`ctr exec` connects within milliseconds; this bounds a client that died).
constexpr std::chrono::seconds kFirstClientWait{30};

}  // namespace

bool Supervisor::read_output(UniqueFd& fd, Stream stream, bool final) {
  // A bounded number of reads per wake-up keeps attach clients and signals
  // served while a container floods its output.
  for (int round = 0; round < 16 && (final || !attach_.congested()); ++round) {
    ssize_t n = ::read(fd.get(), g_buffer, sizeof g_buffer);
    if (n > 0) {
      if (log_) log_->write(stream, std::string_view(g_buffer, static_cast<size_t>(n)));
      attach_.broadcast(stream == Stream::stdout_stream ? kStdout : kStderr, g_buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    // EOF, or EIO from a pty master once the last slave fd is closed.
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd.get(), nullptr);
    fd.reset();
    if (log_) log_->end_stream(stream);
    return false;
  }
  return true;
}

void Supervisor::write_stdin() {
  int target = master_ ? master_.get() : in_.write.get();
  if (target < 0) {
    stdin_pending_.clear();
    return;
  }
  while (!stdin_pending_.empty()) {
    ssize_t n = ::write(target, stdin_pending_.data(), stdin_pending_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) {  // EPIPE: the container closed its stdin; nobody will read this
      stdin_pending_.clear();
      if (!master_) close_stdin();
      break;
    }
    stdin_pending_.erase(0, static_cast<size_t>(n));
  }
  attach_.pause_stdin(stdin_pending_.size() > kMaxStdinPending);
  bool want_out = !stdin_pending_.empty();
  if (want_out != stdin_polling_) {
    epoll_event ev{};
    ev.data.fd = target;
    ev.events = (master_ ? uint32_t{EPOLLIN} : 0u) | (want_out ? uint32_t{EPOLLOUT} : 0u);
    int op = master_ ? EPOLL_CTL_MOD : (want_out ? EPOLL_CTL_ADD : EPOLL_CTL_DEL);
    (void)::epoll_ctl(epoll_.get(), op, target, want_out || master_ ? &ev : nullptr);
    stdin_polling_ = want_out;
  }
  if (stdin_pending_.empty() && stdin_eof_) close_stdin();
}

void Supervisor::close_stdin() {
  stdin_eof_ = false;
  if (master_) {
    // A terminal has no EOF of its own: send the EOF character, as a
    // keyboard would.
    char eof = 4;
    (void)::write(master_.get(), &eof, 1);
    return;
  }
  if (!in_.write) return;
  if (stdin_polling_) (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, in_.write.get(), nullptr);
  stdin_polling_ = false;
  in_.write.reset();
}

void Supervisor::reap() {
  int status = 0;
  for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
    if (pid == pid_) {  // orphans reparented to us are reaped and forgotten
      exited_ = true;
      wait_status_ = status;
    }
  }
}

void Supervisor::on_signal() {
  signalfd_siginfo info;
  while (::read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    int sig = static_cast<int>(info.ssi_signo);
    if (sig == SIGCHLD)
      reap();
    else if ((sig == SIGTERM || sig == SIGINT) && !exited_)
      (void)::kill(pid_, sig);  // forward, don't die
  }
}

void Supervisor::on_process_gone() {
  reap();
  if (exited_) return;
  // Not our child (an exec process its runtime reaped itself): it is gone,
  // but how it ended is unknown.
  exited_ = true;
  status_unknown_ = true;
}

void Supervisor::dispatch(int fd, uint32_t events) {
  if (fd == signal_fd_.get()) {
    on_signal();
  } else if (fd == timer_.get()) {
    uint64_t expirations;
    (void)::read(fd, &expirations, sizeof expirations);
    if (!exited_) {
      timed_out_ = true;
      (void)::kill(pid_, SIGKILL);
    }
  } else if (fd == congestion_timer_.get()) {
    uint64_t expirations;
    (void)::read(fd, &expirations, sizeof expirations);  // update_backpressure() does the rest
  } else if (fd == pidfd_.get()) {
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    on_process_gone();
  } else if (fd == out_.read.get()) {
    read_output(out_.read, Stream::stdout_stream);
  } else if (fd == err_.read.get()) {
    read_output(err_.read, Stream::stderr_stream);
  } else if (fd == master_.get()) {
    if (events & EPOLLOUT) write_stdin();
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_output(master_, Stream::stdout_stream);
  } else if (fd == in_.write.get()) {
    if (events & (EPOLLERR | EPOLLHUP)) stdin_pending_.clear();
    write_stdin();
  } else if (notify_ && fd == notify_.fd()) {
    (void)notify_.forward();
  } else if (fd == attach_.listener()) {
    attach_.accept_clients();
  } else {
    attach_.on_client_event(fd, events);
  }
}

void Supervisor::update_backpressure() {
  auto next_drop = attach_.drop_stuck_clients();
  bool pause = next_drop.has_value();
  if (pause != output_paused_) {
    output_paused_ = pause;
    // Out of the epoll set while paused (not just without EPOLLIN: a hung-up
    // pipe would still report EPOLLHUP and spin the loop).
    for (UniqueFd* fd : {&out_.read, &err_.read, &master_}) {
      if (!*fd) continue;
      if (pause) {
        (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd->get(), nullptr);
        continue;
      }
      epoll_event ev{};
      ev.data.fd = fd->get();
      ev.events = EPOLLIN | (fd == &master_ && stdin_polling_ ? uint32_t{EPOLLOUT} : 0u);
      (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd->get(), &ev);
    }
  }
  if (!pause) return;
  if (!congestion_timer_) {
    congestion_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (congestion_timer_) (void)add_fd(congestion_timer_.get(), EPOLLIN);
  }
  itimerspec when{};
  auto ms = std::max<int64_t>(next_drop->count(), 1);
  when.it_value.tv_sec = ms / 1000;
  when.it_value.tv_nsec = (ms % 1000) * 1000000;
  (void)::timerfd_settime(congestion_timer_.get(), 0, &when, nullptr);
}

void Supervisor::loop() {
  // An exec session's process runs before its `ctr exec` has connected (it
  // may connect only after the process exited), and with no log what is
  // read before then is lost: hold the output, and the end, for that client.
  if (opt_.exec && opt_.log_driver == LogDriver::none) attach_.hold_output_for_first_client(kFirstClientWait);
  update_backpressure();
  epoll_event events[32];
  while (!exited_ || attach_.holding_for_first_client()) {
    int n = ::epoll_wait(epoll_.get(), events, 32, -1);
    if (n < 0 && errno != EINTR) {  // cannot happen with a valid epoll fd; never report a made-up status
      status_unknown_ = true;
      break;
    }
    // New clients first: one that connected before this output was read
    // gets it, whatever order epoll reported the two in.
    for (int i = 0; i < n; ++i)
      if (events[i].data.fd == attach_.listener()) attach_.accept_clients();
    for (int i = 0; i < n; ++i)
      if (events[i].data.fd != attach_.listener()) dispatch(events[i].data.fd, events[i].events);
    if (log_) log_->flush();
    update_backpressure();
  }
  // Whatever the container wrote before it exited is in the pipes now; a
  // process that outlived it and still holds them is not waited for.
  for (auto [fd, stream] : {std::pair{&out_.read, Stream::stdout_stream},
                            {&err_.read, Stream::stderr_stream},
                            {&master_, Stream::stdout_stream}}) {
    while (*fd && read_output(*fd, stream, /*final=*/true)) {
      int available = 0;
      if (::ioctl(fd->get(), FIONREAD, &available) != 0 || available == 0) break;
    }
  }
}

ExitRecord Supervisor::exit_record() const {
  ExitRecord record;
  if (status_unknown_) {
    record.exit_code = 255;
  } else if (WIFSIGNALED(wait_status_)) {
    record.signal = WTERMSIG(wait_status_);
    record.exit_code = 128 + record.signal;
  } else {
    record.exit_code = WEXITSTATUS(wait_status_);
  }
  record.finished_at = now_rfc3339_nano();
  record.timed_out = timed_out_;
  // Known only through the container's cgroup (memory.events): shim/oom.h.
  record.oom_killed = container_oom_killed(opt_.runtime_args, opt_.id);
  if (log_) record.dropped_log_bytes = log_->dropped_bytes();
  return record;
}

void Supervisor::finish() {
  // Logs first, then the record: a client that sees exit.json sees every line.
  if (log_) log_->finish();
  // Likewise what the container said last (STATUS=, STOPPING=1) reaches
  // systemd before anyone sees it exited.
  if (notify_) (void)notify_.forward();
  std::string record = format_exit_record(exit_record());
  (void)write_file_atomic(state(kExitFile), record, 0644, Durability::ephemeral);
  attach_.finish(record);
  if (notify_) {
    notify_.close();
    (void)::unlink(state(kNotifySocket).c_str());
  }
  out_.read.reset();
  err_.read.reset();
  in_.write.reset();
  master_.reset();
  if (opt_.exit_command.empty()) return;
  std::vector<std::string> argv{opt_.exit_command};
  argv.insert(argv.end(), opt_.exit_args.begin(), opt_.exit_args.end());
  SpawnOptions spawn;
  spawn.stdin_fd = spawn.stdout_fd = spawn.stderr_fd = null_.get();
  // Cleanup (unmount, --rm, restart policy) normally takes well under a
  // second; a hung one must not keep the shim forever.
  (void)run_process(argv, spawn, std::chrono::milliseconds(300000));
}

}  // namespace ctr::shim::detail
