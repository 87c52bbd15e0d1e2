// UnixAddress (runtime/base/unix_address.h): socket paths longer than
// sun_path reached through their directory's fd, and the callers built on it.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "runtime/base/files.h"
#include "runtime/base/unique_fd.h"
#include "runtime/base/unix_address.h"
#include "runtime/console.h"
#include "shim/attach_proto.h"

namespace ctr {
namespace {

// A directory under `root` whose path is longer than sun_path (108 bytes).
std::string deep_directory(const std::string& root) {
  std::string dir = root;
  while (dir.size() <= 140) dir += "/a-directory-level-of-some-length";
  EXPECT_TRUE(mkdir_p(dir, 0700));
  return dir;
}

UniqueFd stream_socket() { return UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)); }

TEST(BaseUnixAddress, ShortPathIsUsedAsIs) {
  auto address = UnixAddress::for_path("/run/short.sock");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_FALSE(address->via_directory());
  auto* un = reinterpret_cast<const sockaddr_un*>(address->get());
  EXPECT_STREQ(un->sun_path, "/run/short.sock");
  EXPECT_EQ(un->sun_family, AF_UNIX);
}

TEST(BaseUnixAddress, LongPathBindsAndConnectsThroughItsDirectory) {
  auto made = TempDir::create("ctr-unix-address-");
  ASSERT_TRUE(made);
  std::string path = deep_directory(made->path()) + "/server.sock";
  ASSERT_GT(path.size(), sizeof(sockaddr_un::sun_path));

  UniqueFd server = stream_socket();
  {
    auto address = UnixAddress::for_path(path);
    ASSERT_TRUE(address) << address.error().message;
    EXPECT_TRUE(address->via_directory());
    ASSERT_EQ(::bind(server.get(), address->get(), address->size()), 0) << std::strerror(errno);
  }  // the directory fd is closed here; the socket stays at its real path
  ASSERT_EQ(::listen(server.get(), 1), 0);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0) << "bound at the long path itself";
  EXPECT_TRUE(S_ISSOCK(st.st_mode));

  UniqueFd client = stream_socket();
  auto address = UnixAddress::for_path(path);
  ASSERT_TRUE(address) << address.error().message;
  ASSERT_EQ(::connect(client.get(), address->get(), address->size()), 0) << std::strerror(errno);
  UniqueFd accepted(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted);
  ASSERT_EQ(::write(client.get(), "x", 1), 1);
  char byte = 0;
  ASSERT_EQ(::read(accepted.get(), &byte, 1), 1);
  EXPECT_EQ(byte, 'x');
}

TEST(BaseUnixAddress, MovedAddressKeepsItsDirectoryOpen) {
  auto made = TempDir::create("ctr-unix-address-");
  ASSERT_TRUE(made);
  std::string path = deep_directory(made->path()) + "/moved.sock";
  UniqueFd server = stream_socket();
  UnixAddress kept;
  {
    auto address = UnixAddress::for_path(path);
    ASSERT_TRUE(address);
    kept = std::move(*address);
  }
  ASSERT_EQ(::bind(server.get(), kept.get(), kept.size()), 0) << std::strerror(errno);
  EXPECT_TRUE(path_exists(path));
}

TEST(BaseUnixAddress, NameTooLongEvenThroughTheDirectoryIsAClearError) {
  std::string path = "/tmp/" + std::string(120, 'n') + ".sock";
  auto address = UnixAddress::for_path(path);
  ASSERT_FALSE(address);
  EXPECT_EQ(address.error().code, ENAMETOOLONG);
  EXPECT_NE(address.error().message.find(path), std::string::npos) << address.error().message;
  EXPECT_NE(address.error().message.find("too long"), std::string::npos) << address.error().message;
}

TEST(BaseUnixAddress, MissingDirectoryAndEmptyPathAreErrors) {
  std::string missing = "/nonexistent-ctr-dir/" + std::string(110, 'd') + "/s.sock";
  auto address = UnixAddress::for_path(missing);
  ASSERT_FALSE(address);
  EXPECT_EQ(address.error().code, ENOENT) << address.error().message;
  EXPECT_EQ(UnixAddress::for_path("").error().code, EINVAL);
  EXPECT_EQ(UnixAddress::abstract("").error().code, EINVAL);
  EXPECT_EQ(UnixAddress::abstract(std::string(200, 'x')).error().code, ENAMETOOLONG);
}

TEST(BaseUnixAddress, AbstractNamesBindAndConnect) {
  std::string name = "ctr-unix-address-test-" + std::to_string(::getpid());
  auto address = UnixAddress::abstract(name);
  ASSERT_TRUE(address) << address.error().message;
  UniqueFd server = stream_socket();
  ASSERT_EQ(::bind(server.get(), address->get(), address->size()), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(server.get(), 1), 0);
  UniqueFd client = stream_socket();
  ASSERT_EQ(::connect(client.get(), address->get(), address->size()), 0) << std::strerror(errno);
}

// The callers: the attach socket and the console socket under a long path.
TEST(BaseUnixAddress, AttachSocketWorksUnderALongPath) {
  auto made = TempDir::create("ctr-unix-address-");
  ASSERT_TRUE(made);
  std::string path = deep_directory(made->path()) + "/attach";
  auto listener = shim::listen_seqpacket(path);
  ASSERT_TRUE(listener) << listener.error().message;
  auto client = shim::connect_seqpacket(path);
  ASSERT_TRUE(client) << client.error().message;
  auto too_long = shim::connect_seqpacket(made->path() + "/" + std::string(120, 'n'));
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, ENAMETOOLONG);
}

TEST(BaseUnixAddress, ConsoleSocketWorksUnderALongPath) {
  auto made = TempDir::create("ctr-unix-address-");
  ASSERT_TRUE(made);
  std::string path = deep_directory(made->path()) + "/console.sock";
  auto listener = shim::listen_stream(path);
  ASSERT_TRUE(listener) << listener.error().message;
  UniqueFd sent(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(send_console(path, sent.get())) << "the pty master is any fd here";
  UniqueFd accepted(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted);
  auto received = receive_fd(accepted.get());
  ASSERT_TRUE(received) << received.error().message;
  EXPECT_TRUE(*received);
  auto failed = send_console(made->path() + "/" + std::string(120, 'n'), sent.get());
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ENAMETOOLONG);
  EXPECT_EQ(failed.error().message.rfind("console socket: ", 0), 0u) << failed.error().message;
}

}  // namespace
}  // namespace ctr
