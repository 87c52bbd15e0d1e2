// process.terminal: the runtime allocates a pty in the container and sends
// its master over --console-socket (SCM_RIGHTS); the container's process has
// the slave as its controlling terminal, sized from process.consoleSize.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <thread>

#include "tests/integration/runtime_fixture.h"

namespace ctr::itest {
namespace {

class Terminal : public RuntimeTest {};

UniqueFd listen_unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (!fd || path.size() >= sizeof addr.sun_path) return UniqueFd();
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
  if (::listen(fd.get(), 4) != 0) return UniqueFd();
  return fd;
}

// Accepts one connection and receives one fd over it (SCM_RIGHTS).
UniqueFd receive_fd(int listener, std::chrono::milliseconds timeout, std::string* error) {
  pollfd pfd{listener, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) {
    *error = "nobody connected to the console socket";
    return UniqueFd();
  }
  UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) {
    *error = std::string("accept: ") + std::strerror(errno);
    return UniqueFd();
  }
  char data[256];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  pfd = {conn.get(), POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1 || ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC) < 0) {
    *error = "no message on the console socket";
    return UniqueFd();
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return UniqueFd(fd);
    }
  }
  *error = "the console socket message carries no fd (SCM_RIGHTS)";
  return UniqueFd();
}

// Reads the pty master until `done(output)` or the slave side closes (EIO).
std::string read_pty(int master, std::chrono::milliseconds timeout,
                     const std::function<bool(const std::string&)>& done) {
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(output)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{master, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[1024];
    ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buffer, static_cast<size_t>(n));
  }
  output.erase(std::remove(output.begin(), output.end(), '\r'), output.end());
  return output;
}

TEST_F(Terminal, PtyMasterArrivesOverTheConsoleSocket) {
  std::string socket_path = work() + "/console.sock";
  UniqueFd listener = listen_unix(socket_path);
  ASSERT_TRUE(listener) << "cannot listen on " << socket_path << ": " << std::strerror(errno);
  auto bundle = make_bundle();
  bundle.terminal(true, std::make_pair(33u, 111u))
      .shell("tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; read line; echo \"got:$line\"");
  std::string id = new_id();
  auto create = runtime().start({"create", "--bundle", bundle.write(), "--console-socket", socket_path, id});
  std::string error;
  UniqueFd master = receive_fd(listener.get(), 5s, &error);
  auto created = create.finish();
  ASSERT_TRUE(created.ok()) << created.describe();
  ASSERT_TRUE(master) << error;
  EXPECT_TRUE(::isatty(master.get())) << "the fd received is not a terminal";

  ASSERT_TRUE(rt({"start", id}).ok());
  auto first =
      read_pty(master.get(), 3s, [](const std::string& out) { return out.find("all-tty") != std::string::npos; });
  ASSERT_TRUE(write_all(master.get(), std::string("typed-input\n")));
  auto rest = read_pty(master.get(), 3s, [](const std::string& out) {
    return out.find("got:") != std::string::npos && out.back() == '\n';
  });
  std::string output = first + rest;
  auto out = lines(first);
  ASSERT_GE(out.size(), 3u) << output;
  EXPECT_EQ(out[0], "/dev/pts/0");
  EXPECT_EQ(out[1], "33 111") << "consoleSize not applied";
  EXPECT_EQ(out[2], "all-tty");
  EXPECT_NE(rest.find("got:typed-input\n"), std::string::npos) << "input through the master did not arrive:\n"
                                                               << output;
  EXPECT_TRUE(wait_for_status(id, "stopped"));
}

TEST_F(Terminal, PtyIsTheControllingTerminal) {
  std::string socket_path = work() + "/console.sock";
  UniqueFd listener = listen_unix(socket_path);
  ASSERT_TRUE(listener);
  auto bundle = make_bundle();
  // Opening /dev/tty works only with a controlling terminal; the session
  // leader is the container's process.
  bundle.terminal(true).shell("echo via-dev-tty > /dev/tty && cat /proc/self/stat | cut -d' ' -f6,7");
  std::string id = new_id();
  auto create = runtime().start({"run", "--bundle", bundle.write(), "--console-socket", socket_path, "--detach", id});
  std::string error;
  UniqueFd master = receive_fd(listener.get(), 5s, &error);
  auto created = create.finish();
  ASSERT_TRUE(created.ok()) << created.describe();
  ASSERT_TRUE(master) << error;
  auto output =
      read_pty(master.get(), 3s, [](const std::string& out) { return std::count(out.begin(), out.end(), '\n') >= 2; });
  auto out = lines(output);
  ASSERT_EQ(out.size(), 2u) << output;
  EXPECT_EQ(out[0], "via-dev-tty");
  // /proc/self/stat field 6 is the session id, 7 the tty (136 << 8 | 0 =
  // 34816 for /dev/pts/0): cat runs in the session of PID 1 with the pty.
  auto fields = words(out[1]);
  ASSERT_EQ(fields.size(), 2u) << out[1];
  EXPECT_EQ(fields[0], "1") << "the container's process is not the session leader";
  EXPECT_EQ(fields[1], "34816") << "the pty is not the controlling terminal";
}

}  // namespace
}  // namespace ctr::itest
