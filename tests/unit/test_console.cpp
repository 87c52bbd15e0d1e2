#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "runtime/base/files.h"
#include "runtime/console.h"

using namespace ctr;

namespace {

struct Pty {
  UniqueFd master, slave;
};

// A pty pair without libutil's openpty().
Pty open_pty() {
  Pty pty;
  pty.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master || ::grantpt(pty.master.get()) != 0 || ::unlockpt(pty.master.get()) != 0) return {};
  char name[128];
  if (::ptsname_r(pty.master.get(), name, sizeof name) != 0) return {};
  pty.slave.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  return pty;
}

void make_raw(int fd) {
  termios t{};
  ::tcgetattr(fd, &t);
  ::cfmakeraw(&t);
  ::tcsetattr(fd, TCSANOW, &t);
}

winsize window_size(int fd) {
  winsize size{};
  ::ioctl(fd, TIOCGWINSZ, &size);
  return size;
}

void set_window_size(int fd, unsigned short rows, unsigned short cols) {
  winsize size{};
  size.ws_row = rows;
  size.ws_col = cols;
  ::ioctl(fd, TIOCSWINSZ, &size);
}

// Polls `condition` for up to 5 s.
template <typename F>
bool eventually(F condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Reads from `fd` until `expected` has been seen (or 5 s passed).
std::string read_until(int fd, const std::string& expected) {
  std::string data;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (data.find(expected) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int fds[2] = {-1, -1};
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

UniqueFd listen_at(const std::string& path) {
  UniqueFd server(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  std::string short_path = path;
  // bind() has the same 108-byte limit; go through the directory like the
  // code under test does.
  UniqueFd dir;
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    size_t slash = path.rfind('/');
    dir.reset(::open(path.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    short_path = "/proc/self/fd/" + std::to_string(dir.get()) + path.substr(slash);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, short_path.c_str());
  if (::bind(server.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(server.get(), 1) != 0)
    return {};
  return server;
}

}  // namespace

TEST(Console, SendAndReceiveFdWithName) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd a(pair[0]), b(pair[1]);
  auto [read_end, write_end] = make_pipe();

  ASSERT_TRUE(send_fd(a.get(), write_end.get(), "/dev/pts/7"));
  auto received = receive_fd_with_name(b.get());
  ASSERT_TRUE(received) << received.error().message;
  EXPECT_EQ(received->name, "/dev/pts/7");
  EXPECT_NE(received->fd.get(), write_end.get());
  EXPECT_TRUE(::fcntl(received->fd.get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_EQ(::write(received->fd.get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(read_end.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');

  // Without a name (stream sockets need at least one byte to carry an fd).
  ASSERT_TRUE(send_fd(a.get(), write_end.get()));
  auto plain = receive_fd(b.get());
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_TRUE(plain->valid());

  a.reset();
  auto closed = receive_fd(b.get());
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code, ECONNRESET);
}

TEST(Console, SendConsoleToListeningSocket) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  // One short path and one longer than sun_path allows.
  std::string long_dir = dir->path() + "/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  ASSERT_TRUE(mkdir_p(long_dir));
  for (const std::string& path : {dir->path() + "/console.sock", long_dir + "/console.sock"}) {
    SCOPED_TRACE(path);
    UniqueFd server = listen_at(path);
    ASSERT_TRUE(server);
    Pty pty = open_pty();
    ASSERT_TRUE(pty.slave);
    ASSERT_TRUE(send_console(path, pty.master.get()));
    UniqueFd conn(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(conn);
    auto received = receive_fd_with_name(conn.get());
    ASSERT_TRUE(received) << received.error().message;
    unsigned sent_number = 0, got_number = 1;
    ASSERT_EQ(::ioctl(pty.master.get(), TIOCGPTN, &sent_number), 0);
    ASSERT_EQ(::ioctl(received->fd.get(), TIOCGPTN, &got_number), 0);
    EXPECT_EQ(sent_number, got_number);
    EXPECT_EQ(received->name, "/dev/pts/" + std::to_string(sent_number));
  }
  auto missing = send_console(dir->path() + "/nobody.sock", 0);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nobody.sock"), std::string::npos);
}

TEST(Console, RelayCopiesBothWaysRawModeAndWindowSize) {
  Pty container = open_pty();
  Pty user = open_pty();  // user.slave stands in for our terminal stdin
  ASSERT_TRUE(container.slave && user.slave);
  make_raw(container.slave.get());
  set_window_size(user.master.get(), 33, 101);
  termios before{};
  ASSERT_EQ(::tcgetattr(user.slave.get(), &before), 0);
  auto [out_read, out_write] = make_pipe();

  // SIGWINCH must stay pending for the relay's signalfd, not be discarded by
  // a thread that does not block it: block it before the helper starts.
  sigset_t winch, old_mask;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &winch, &old_mask);

  std::atomic<int> step{0};
  bool was_raw = false;
  std::string typed;
  // Plays the user and the container; closing the slave (on every path) ends the relay.
  auto play = [&] {
    int slave = container.slave.get();
    if (!eventually([&] { return window_size(slave).ws_row == 33 && window_size(slave).ws_col == 101; })) return;
    step = 1;
    termios now{};
    ::tcgetattr(user.slave.get(), &now);
    was_raw = (now.c_lflag & ICANON) == 0;
    (void)!::write(user.master.get(), "hello", 5);
    typed = read_until(slave, "hello");
    step = 2;
    set_window_size(user.master.get(), 40, 120);
    ::kill(::getpid(), SIGWINCH);
    if (!eventually([&] { return window_size(slave).ws_row == 40 && window_size(slave).ws_col == 120; })) return;
    step = 3;
    (void)!::write(slave, "bye", 3);
  };
  std::thread helper([&] {
    play();
    container.slave.reset();  // the container exits
  });
  auto status = relay_pty(container.master.get(), user.slave.get(), out_write.get());
  helper.join();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(step, 3);
  EXPECT_TRUE(was_raw);
  EXPECT_EQ(typed, "hello");
  out_write.reset();
  EXPECT_EQ(*read_fd(out_read.get()), "bye");
  termios after{};
  ASSERT_EQ(::tcgetattr(user.slave.get(), &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_oflag, before.c_oflag);
}

TEST(Console, OutputKeepsFlowingAfterStdinEof) {
  Pty container = open_pty();
  ASSERT_TRUE(container.slave);
  make_raw(container.slave.get());
  auto [in_read, in_write] = make_pipe();
  ASSERT_EQ(::write(in_write.get(), "abc", 3), 3);
  in_write.reset();  // our stdin ends at once
  auto [out_read, out_write] = make_pipe();

  std::string typed;
  std::thread helper([&] {
    typed = read_until(container.slave.get(), "abc");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (void)!::write(container.slave.get(), "late output", 11);
    container.slave.reset();
  });
  auto status = relay_pty(container.master.get(), in_read.get(), out_write.get());
  helper.join();
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(typed, "abc");
  out_write.reset();
  EXPECT_EQ(*read_fd(out_read.get()), "late output");
}

TEST(Console, ClosedOutputDoesNotKillUsAndDrainsTheContainer) {
  Pty container = open_pty();
  ASSERT_TRUE(container.slave);
  make_raw(container.slave.get());
  auto [out_read, out_write] = make_pipe();
  out_read.reset();  // nobody reads our output: writes fail with EPIPE
  UniqueFd no_input(::open("/dev/null", O_RDONLY | O_CLOEXEC));

  std::atomic<bool> wrote_all{false};
  std::thread helper([&] {
    std::string chunk(4096, 'z');
    // More than the pty buffers: only a relay that keeps draining lets this finish.
    bool ok = true;
    for (int i = 0; i < 64 && ok; ++i) ok = ::write(container.slave.get(), chunk.data(), chunk.size()) > 0;
    wrote_all = ok;
    container.slave.reset();
  });
  auto status = relay_pty(container.master.get(), no_input.get(), out_write.get());
  helper.join();
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_TRUE(wrote_all);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}
