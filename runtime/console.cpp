// Pty masters over unix sockets (--console-socket) and the foreground relay
// between a pty master and our own stdio.
#include "runtime/console.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "runtime/base/unix_address.h"

namespace ctr {
namespace {

// At most this many fds are accepted in one message; extra ones are closed.
constexpr size_t k_max_fds = 8;
constexpr size_t k_max_name = 4096;

// Long socket paths (deep XDG_RUNTIME_DIR or bundle paths): see UnixAddress.
Result<UniqueFd> connect_unix(const std::string& path) {
  TRY_ASSIGN(address, UnixAddress::for_path(path));
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys_error("socket");
  int rc;
  do {
    rc = ::connect(sock.get(), address.get(), address.size());
  } while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno != EISCONN) return sys_error("connect `" + path + "`");
  return sock;
}

// The pty's name as the container sees it, sent along like runc does.
std::string pty_name(int master) {
  unsigned int number = 0;
  if (::ioctl(master, TIOCGPTN, &number) != 0) return "";
  return "/dev/pts/" + std::to_string(number);
}

}  // namespace

Status send_fd(int socket_fd, int fd_to_send, const std::string& name) {
  std::string payload = name.empty() ? std::string(1, '\0') : name;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{payload.data(), payload.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd_to_send, sizeof fd_to_send);
  size_t sent = 0;
  while (sent < payload.size()) {
    ssize_t n = ::sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("send file descriptor");
    sent += static_cast<size_t>(n);
    iov.iov_base = payload.data() + sent;
    iov.iov_len = payload.size() - sent;
    msg.msg_control = nullptr;  // the fd went with the first chunk
    msg.msg_controllen = 0;
  }
  return {};
}

Result<ReceivedFd> receive_fd_with_name(int socket_fd) {
  std::string name(k_max_name, '\0');
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * k_max_fds)] = {};
  iovec iov{name.data(), name.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("receive file descriptor");
  ReceivedFd received;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof fd);
      if (received.fd)
        ::close(fd);  // only one is expected; do not leak the rest
      else
        received.fd.reset(fd);
    }
  }
  if (!received.fd) {
    if (n == 0) return make_error("receive file descriptor: the peer closed the connection", ECONNRESET);
    return make_error("receive file descriptor: the message carried none", EBADMSG);
  }
  name.resize(static_cast<size_t>(n));
  name.resize(std::strlen(name.c_str()));
  received.name = std::move(name);
  return received;
}

Result<UniqueFd> receive_fd(int socket_fd) {
  TRY_ASSIGN(received, receive_fd_with_name(socket_fd));
  return std::move(received.fd);
}

Status send_console(const std::string& console_socket_path, int pty_master) {
  auto sock = connect_unix(console_socket_path);
  if (!sock) return std::move(sock).error().context("console socket");
  TRY_CTX(send_fd(sock->get(), pty_master, pty_name(pty_master)), "console socket `" + console_socket_path + "`");
  return {};
}

namespace {

// Our terminal in raw mode for the relay's lifetime: keystrokes such as ^C
// go to the container's terminal instead of being acted on here.
class RawMode {
 public:
  explicit RawMode(int fd) {
    if (!::isatty(fd) || ::tcgetattr(fd, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    if (::tcsetattr(fd, TCSANOW, &raw) == 0) fd_ = fd;
  }
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;
  ~RawMode() {
    if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
  }

 private:
  int fd_ = -1;
  termios saved_{};
};

// SIGWINCH is ignored by default, so it never becomes pending unless
// blocked; blocking it (in this thread) lets a signalfd see it. SIGPIPE is
// blocked too: a closed stdout must not kill us while the container runs.
class RelaySignals {
 public:
  RelaySignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGWINCH);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, &old_mask_);
    fd_.reset(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
  }
  RelaySignals(const RelaySignals&) = delete;
  RelaySignals& operator=(const RelaySignals&) = delete;
  ~RelaySignals() {
    drain();  // the SIGPIPEs we caused must not hit the caller's handler
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  int fd() const { return fd_.get(); }
  // True if a SIGWINCH arrived since the last call.
  bool drain() {
    bool winch = false;
    signalfd_siginfo info;
    while (fd_ && ::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info))
      winch = winch || info.ssi_signo == SIGWINCH;
    return winch;
  }

 private:
  sigset_t set_{};
  sigset_t old_mask_{};
  UniqueFd fd_;
};

// The master is ours to make non-blocking (a full input queue must not stall
// the output direction); put its flags back afterwards.
class NonBlocking {
 public:
  explicit NonBlocking(int fd) : fd_(fd), flags_(::fcntl(fd, F_GETFL)) {
    if (flags_ >= 0) ::fcntl(fd, F_SETFL, flags_ | O_NONBLOCK);
  }
  NonBlocking(const NonBlocking&) = delete;
  NonBlocking& operator=(const NonBlocking&) = delete;
  ~NonBlocking() {
    if (flags_ >= 0) ::fcntl(fd_, F_SETFL, flags_);
  }

 private:
  int fd_;
  int flags_;
};

struct Buffer {
  char data[16384];
  size_t begin = 0, end = 0;
  bool empty() const { return begin == end; }
  void clear() { begin = end = 0; }
};

class Relay {
 public:
  Relay(int master, int in_fd, int out_fd) : master_(master), in_(in_fd), out_(out_fd) {
    in_open_ = in_fd >= 0;
    out_broken_ = out_fd < 0;
  }
  Status run();
  void copy_window_size() const;

 private:
  void read_input();
  Status read_master();
  void write_master();
  void write_output();

  int master_, in_, out_;
  bool in_open_ = true, master_eof_ = false, out_broken_ = false;
  Buffer to_master_, to_out_;
  RelaySignals signals_;
};

void Relay::copy_window_size() const {
  winsize size{};
  int source = ::isatty(in_) ? in_ : (::isatty(out_) ? out_ : -1);
  if (source >= 0 && ::ioctl(source, TIOCGWINSZ, &size) == 0) ::ioctl(master_, TIOCSWINSZ, &size);
}

void Relay::read_input() {
  ssize_t n = ::read(in_, to_master_.data, sizeof to_master_.data);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  // EOF, or EIO when we are not the terminal's foreground: stop reading our
  // input, but keep relaying the container's output.
  if (n <= 0) {
    in_open_ = false;
    return;
  }
  to_master_.begin = 0;
  to_master_.end = static_cast<size_t>(n);
}

Status Relay::read_master() {
  ssize_t n = ::read(master_, to_out_.data, sizeof to_out_.data);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return {};
  // Linux reports EIO once every slave fd is closed: the container is done.
  if (n == 0 || (n < 0 && errno == EIO)) {
    master_eof_ = true;
    return {};
  }
  if (n < 0) return sys_error("read the pty master");
  to_out_.begin = 0;
  to_out_.end = static_cast<size_t>(n);
  return {};
}

void Relay::write_master() {
  ssize_t n = ::write(master_, to_master_.data + to_master_.begin, to_master_.end - to_master_.begin);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n < 0) {
    to_master_.clear();  // EIO: the container side is gone; reading will say so
    return;
  }
  to_master_.begin += static_cast<size_t>(n);
}

void Relay::write_output() {
  ssize_t n = ::write(out_, to_out_.data + to_out_.begin, to_out_.end - to_out_.begin);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n < 0) {
    // Nobody reads our output any more (EPIPE): keep draining the master so
    // the container does not block on a full terminal.
    out_broken_ = true;
    to_out_.clear();
    return;
  }
  to_out_.begin += static_cast<size_t>(n);
}

Status Relay::run() {
  if (signals_.fd() < 0) return sys_error("signalfd");
  copy_window_size();
  while (!master_eof_ || (!to_out_.empty() && !out_broken_)) {
    if (out_broken_) to_out_.clear();
    short master_events = 0;
    if (!master_eof_ && to_out_.empty()) master_events |= POLLIN;
    if (!master_eof_ && !to_master_.empty()) master_events |= POLLOUT;
    pollfd fds[4] = {
        {in_open_ && to_master_.empty() ? in_ : -1, POLLIN, 0},
        {master_events ? master_ : -1, master_events, 0},
        {to_out_.empty() ? -1 : out_, POLLOUT, 0},
        {signals_.fd(), POLLIN, 0},
    };
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll");
    }
    if (fds[3].revents && signals_.drain()) copy_window_size();
    if (fds[0].revents) read_input();
    // After a hangup the write fails with EIO and drops the pending input, so
    // a hung-up master cannot keep poll spinning.
    if (fds[1].revents & (POLLOUT | POLLERR | POLLHUP) && !to_master_.empty()) write_master();
    // POLLHUP without POLLIN still needs a read: it is how EIO is learnt.
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR) && to_out_.empty()) TRY(read_master());
    if (fds[2].revents) write_output();
  }
  return {};
}

}  // namespace

Status relay_pty(int pty_master, int in_fd, int out_fd) {
  RawMode raw(in_fd);
  NonBlocking nonblocking(pty_master);
  Relay relay(pty_master, in_fd, out_fd);
  return relay.run();
}

Status relay_pty(int pty_master) {
  return relay_pty(pty_master, STDIN_FILENO, STDOUT_FILENO);
}

}  // namespace ctr
