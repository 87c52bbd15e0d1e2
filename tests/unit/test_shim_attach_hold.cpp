// AttachServer holding output for its first client (shim/attach_server.h):
// an exec session's output must wait for the `ctr exec` that started it.
#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <optional>

#include "runtime/base/files.h"
#include "runtime/base/unique_fd.h"
#include "shim/attach_server.h"

namespace ctr::shim {
namespace {

using namespace std::chrono_literals;

struct Server {
  std::optional<TempDir> dir;
  UniqueFd epoll;
  AttachServer server;
  std::string socket;
};

void make_server(Server& s) {
  auto dir = TempDir::create("ctr-attach-hold-");
  ASSERT_TRUE(dir);
  s.dir.emplace(std::move(*dir));
  s.socket = s.dir->path() + "/attach";
  s.epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  ASSERT_TRUE(s.epoll);
  auto server = AttachServer::listen(s.socket, s.epoll.get(), AttachHandlers{});
  ASSERT_TRUE(server) << server.error().message;
  s.server = std::move(*server);
}

TEST(ShimAttachHold, OutputWaitsUntilTheFirstClientConnects) {
  Server s;
  ASSERT_NO_FATAL_FAILURE(make_server(s));
  EXPECT_FALSE(s.server.congested());
  s.server.hold_output_for_first_client(1h);
  EXPECT_TRUE(s.server.holding_for_first_client());
  EXPECT_TRUE(s.server.congested()) << "output must not be read while nobody can see it";
  auto wake = s.server.drop_stuck_clients();
  ASSERT_TRUE(wake) << "the hold's deadline wakes the loop";
  EXPECT_GT(*wake, 59min);
  auto client = connect_seqpacket(s.socket);
  ASSERT_TRUE(client) << client.error().message;
  s.server.accept_clients();
  EXPECT_FALSE(s.server.holding_for_first_client());
  EXPECT_FALSE(s.server.congested());
  EXPECT_FALSE(s.server.drop_stuck_clients());
}

TEST(ShimAttachHold, AClientAlreadyWaitingToBeAcceptedMeansNoHold) {
  Server s;
  ASSERT_NO_FATAL_FAILURE(make_server(s));
  auto client = connect_seqpacket(s.socket);  // connected, not yet accepted
  ASSERT_TRUE(client) << client.error().message;
  s.server.hold_output_for_first_client(1h);
  EXPECT_FALSE(s.server.holding_for_first_client());
  EXPECT_FALSE(s.server.congested());
}

TEST(ShimAttachHold, TheHoldEndsWhenNobodyComes) {
  Server s;
  ASSERT_NO_FATAL_FAILURE(make_server(s));
  s.server.hold_output_for_first_client(0ms);
  EXPECT_TRUE(s.server.holding_for_first_client());
  EXPECT_FALSE(s.server.drop_stuck_clients()) << "an expired hold pauses nothing";
  EXPECT_FALSE(s.server.holding_for_first_client());
  EXPECT_FALSE(s.server.congested());
}

TEST(ShimAttachHold, FinishEndsTheHold) {
  Server s;
  ASSERT_NO_FATAL_FAILURE(make_server(s));
  s.server.hold_output_for_first_client(1h);
  s.server.finish("{}");
  EXPECT_FALSE(s.server.holding_for_first_client());
}

}  // namespace
}  // namespace ctr::shim
