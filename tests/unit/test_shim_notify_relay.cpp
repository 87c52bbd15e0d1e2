// The shim's sd_notify relay (shim/notify_relay.h) and its options.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/base/files.h"
#include "runtime/base/unique_fd.h"
#include "shim/client.h"
#include "shim/notify_relay.h"
#include "shim/options.h"

namespace ctr::shim {
namespace {

TEST(ShimNotifyRelay, MessagesLoseTheContainersMainPid) {
  EXPECT_EQ(relay_message("READY=1", 0), "READY=1");
  EXPECT_EQ(relay_message("READY=1\nSTATUS=up\n", 42), "MAINPID=42\nREADY=1\nSTATUS=up");
  EXPECT_EQ(relay_message("MAINPID=1\nREADY=1", 0), "READY=1");
  EXPECT_EQ(relay_message("STATUS=loading", 42), "STATUS=loading") << "MAINPID only with READY=1";
  EXPECT_EQ(relay_message("MAINPID=7", 42), "");
  EXPECT_EQ(relay_message("", 42), "");
}

UniqueFd bound_datagram_socket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, path.size());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return UniqueFd();
  return fd;
}

Status send_to(const std::string& path, const std::string& text) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, path.size());
  if (::sendto(fd.get(), text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
    return sys_error("sendto");
  return {};
}

TEST(ShimNotifyRelay, ForwardsDatagramsToTheRealSocket) {
  auto made = TempDir::create("ctr-relay-unit-");
  ASSERT_TRUE(made);
  std::string systemd = made->path() + "/systemd", relay_path = made->path() + "/notify.sock";
  UniqueFd server = bound_datagram_socket(systemd);
  ASSERT_TRUE(server);
  auto relay = NotifyRelay::open(relay_path, systemd, 4242);
  ASSERT_TRUE(relay) << relay.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(relay_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u);
  ASSERT_TRUE(send_to(relay_path, "MAINPID=1\nREADY=1"));
  ASSERT_TRUE(send_to(relay_path, "STATUS=serving"));
  EXPECT_EQ(relay->forward(), 2u);
  EXPECT_EQ(relay->forward(), 0u) << "drained; never blocks";
  char buffer[128] = {};
  ASSERT_EQ(::recv(server.get(), buffer, sizeof buffer - 1, MSG_DONTWAIT), 20);
  EXPECT_EQ(std::string(buffer), "MAINPID=4242\nREADY=1");
  ssize_t n = ::recv(server.get(), buffer, sizeof buffer - 1, MSG_DONTWAIT);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(n)), "STATUS=serving");
  // systemd gone: datagrams are dropped, the shim goes on.
  server.reset();
  (void)::unlink(systemd.c_str());
  ASSERT_TRUE(send_to(relay_path, "READY=1"));
  EXPECT_EQ(relay->forward(), 0u);
}

TEST(ShimNotifyRelay, BadTargetsAreErrors) {
  auto made = TempDir::create("ctr-relay-unit-");
  ASSERT_TRUE(made);
  auto relay = NotifyRelay::open(made->path() + "/notify.sock", "relative", 0);
  ASSERT_FALSE(relay);
  EXPECT_NE(relay.error().message.find("not an absolute path or @abstract name"), std::string::npos);
}

TEST(ShimNotifyRelay, OptionsRoundTripAndAreChecked) {
  auto made = TempDir::create("ctr-relay-unit-");
  ASSERT_TRUE(made);
  std::string dir = made->path();
  ASSERT_TRUE(mkdir_p(dir + "/bundle"));
  ASSERT_TRUE(write_file_atomic(dir + "/bundle/config.json", "{}"));
  ShimOptions o;
  o.id = "c3";
  o.bundle = dir + "/bundle";
  o.state_dir = dir;
  o.runtime = "/bin/true";
  o.log_driver = LogDriver::none;
  o.notify_socket = "@/org/freedesktop/systemd1/notify";
  o.notify_main_pid = true;
  auto parsed = parse_options(shim_arguments(o), "/x/ctr-shim");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->notify_socket, o.notify_socket);
  EXPECT_TRUE(parsed->notify_main_pid);
  o.notify_socket = "relative";
  auto bad = parse_options(shim_arguments(o), "/x/ctr-shim");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--notify-socket"), std::string::npos);
  o.notify_socket.clear();
  auto lone = parse_options(shim_arguments(o), "/x/ctr-shim");
  ASSERT_FALSE(lone);
  EXPECT_NE(lone.error().message.find("--notify-main-pid given without --notify-socket"), std::string::npos);
}

}  // namespace
}  // namespace ctr::shim
