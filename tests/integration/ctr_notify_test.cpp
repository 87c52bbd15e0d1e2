// --sdnotify=container through the shim's relay (shim/notify_relay.h),
// without systemd: the test listens where systemd would (NOTIFY_SOCKET) and
// checks what arrives and who sent it. The payload is perl from the Debian
// fixture (busybox cannot send a datagram to a unix socket).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "runtime/base/strings.h"
#include "runtime/base/unique_fd.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

struct Datagram {
  std::string text;
  pid_t sender = 0;
};

// A datagram socket at `name` (a path or "@abstract") that learns senders' pids.
UniqueFd listen_notify(const std::string& name) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  int on = 1;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  name.copy(address.sun_path, name.size());
  if (name[0] == '@') address.sun_path[0] = '\0';
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) return UniqueFd();
  return fd;
}

// The next datagram, or nullopt after `timeout`.
std::optional<Datagram> receive(int fd, std::chrono::seconds timeout) {
  pollfd pfd{fd, POLLIN, 0};
  int ready;
  do ready = ::poll(&pfd, 1, static_cast<int>(timeout.count() * 1000));
  while (ready < 0 && errno == EINTR);
  if (ready <= 0) return std::nullopt;
  char buffer[4096];
  char control[CMSG_SPACE(sizeof(ucred))];
  iovec iov{buffer, sizeof buffer};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(fd, &msg, 0);
  if (n < 0) return std::nullopt;
  Datagram d{std::string(buffer, static_cast<size_t>(n)), 0};
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) d.sender = reinterpret_cast<ucred*>(CMSG_DATA(c))->pid;
  return d;
}

class CtrNotifyTest : public CtrContainerTest {
 protected:
  // `ctr ARGS` with NOTIFY_SOCKET=socket, as systemd starts it.
  CommandOutput ctr_notified(const std::string& socket, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"env", "NOTIFY_SOCKET=" + socket, ctr_binary(), "--root", root_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_tracked(argv, 90);
  }
  pid_t shim_pid(const std::string& name) {
    auto out = ctr({"inspect", "--format", "{{.State.ConmonPid}}", name});
    return static_cast<pid_t>(std::atoi(std::string(trim(out.out)).c_str()));
  }
};

// The payload says READY=1 (with a MAINPID of its own pid namespace, which
// must not reach systemd) and a STATUS; then it sleeps.
std::vector<std::string> perl_notifier(const std::string& image, const std::string& tail) {
  return {image, "perl", "-MSocket", "-MIO::Socket::UNIX", "-e",
          "my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Peer => $ENV{NOTIFY_SOCKET}) or die \"connect: $!\"; "
          "$s->send(qq{MAINPID=1\\nREADY=1\\nSTATUS=serving}) or die \"send: $!\"; " + tail};
}

TEST_F(CtrNotifyTest, DetachedRelayForwardsReadyWithTheShimAsMainPid) {
  std::string image = load_debian_image();
  if (image.empty()) GTEST_SKIP() << "NO-DEBIAN-FIXTURE: $CTR_FIXTURES/debian/debian.docker.tar is missing";
  std::string socket = path("systemd-notify");
  UniqueFd listener = listen_notify(socket);
  ASSERT_TRUE(listener) << "bind " << socket;
  std::vector<std::string> args{"run", "-d", "--name", "relayed", "--sdnotify=container"};
  for (auto& a : perl_notifier(image, "sleep 1000")) args.push_back(a);
  auto run = ctr_notified(socket, args);
  ASSERT_EQ(run.code, 0) << run.describe();
  pid_t shim = shim_pid("relayed");
  ASSERT_GT(shim, 0);
  // ctr's own MAINPID=<shim> (it exits) and the relayed READY=1, in either order.
  bool ready = false, main_pid_from_ctr = false;
  for (int i = 0; i < 2; ++i) {
    auto got = receive(listener.get(), std::chrono::seconds(30));
    ASSERT_TRUE(got) << "no notification " << i << "; logs: " << ctr({"logs", "relayed"}).describe();
    if (got->text == "MAINPID=" + std::to_string(shim)) {
      main_pid_from_ctr = true;
      continue;
    }
    EXPECT_EQ(got->text, "MAINPID=" + std::to_string(shim) + "\nREADY=1\nSTATUS=serving");
    EXPECT_EQ(got->sender, shim) << "the shim relays it (it stays in the unit's cgroup)";
    ready = true;
  }
  EXPECT_TRUE(ready && main_pid_from_ctr);
  auto mounted = ctr({"exec", "relayed", "sh", "-c", "test -S /run/notify/notify && echo $NOTIFY_SOCKET"});
  EXPECT_EQ(trim(mounted.out), "/run/notify/notify") << mounted.describe();
  auto removed = ctr({"rm", "-f", "relayed"});
  EXPECT_EQ(removed.code, 0) << removed.describe();
}

// Foreground: ctr stays the unit's main process (no MAINPID), and an
// abstract NOTIFY_SOCKET works, since the shim sends from the host's
// network namespace.
TEST_F(CtrNotifyTest, ForegroundRelayReachesAnAbstractSocket) {
  std::string image = load_debian_image();
  if (image.empty()) GTEST_SKIP() << "NO-DEBIAN-FIXTURE: $CTR_FIXTURES/debian/debian.docker.tar is missing";
  std::string socket = "@ctr-notify-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand());
  UniqueFd listener = listen_notify(socket);
  ASSERT_TRUE(listener) << "bind " << socket;
  std::vector<std::string> args{"run", "--rm", "--sdnotify=container"};
  for (auto& a : perl_notifier(image, "exit 0")) args.push_back(a);
  auto run = ctr_notified(socket, args);
  ASSERT_EQ(run.code, 0) << run.describe();
  auto got = receive(listener.get(), std::chrono::seconds(5));
  ASSERT_TRUE(got) << "nothing relayed";
  EXPECT_EQ(got->text, "READY=1\nSTATUS=serving");
}

TEST_F(CtrNotifyTest, RelaySocketPathsAreChecked) {
  auto bad = ctr_notified("relative/socket", {"run", "--rm", "--sdnotify=container", "busybox", "true"});
  EXPECT_EQ(bad.code, 125) << bad.describe();
  EXPECT_NE(bad.err.find("NOTIFY_SOCKET `relative/socket` is neither a socket path nor an @abstract name"),
            std::string::npos)
      << bad.describe();
}

}  // namespace
}  // namespace ctr::itest
