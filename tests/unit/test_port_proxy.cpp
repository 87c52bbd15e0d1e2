// The port proxy's forwarders (shim/proxy_loop.h), run in-process on
// loopback: no namespace is needed to check that bytes, half-closes,
// refusals and UDP flows go through whole. That it enters the container's
// namespace is checked by the integration tests (ctr_publish_test.cpp).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "shim/port_mapping.h"
#include "shim/port_proxy.h"
#include "shim/proxy_loop.h"

namespace ctr::shim {
namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

uint16_t port_of(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

UniqueFd bound(const char* protocol, bool listening) {
  auto fd = bind_host_port("127.0.0.1", 0, protocol, false);
  if (!fd) return UniqueFd();
  if (listening) ::listen(fd->get(), 16);
  return std::move(*fd);
}

bool readable_within(int fd, int ms) {
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, ms) == 1;
}

// The proxy's loop on its own thread; stopped by closing the exit pipe.
class ProxyThread {
 public:
  ProxyThread() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    exit_read_.reset(fds[0]);
    exit_write_.reset(fds[1]);
    auto made = proxy::Loop::make();
    EXPECT_TRUE(made);
    if (made) loop_ = std::move(*made);
  }
  ~ProxyThread() {
    exit_write_.reset();
    if (thread_.joinable()) thread_.join();
  }
  proxy::Loop& loop() { return *loop_; }
  void start() {
    thread_ = std::thread([this] { exit_code_ = loop_->run(exit_read_.get()); });
  }

 private:
  UniqueFd exit_read_, exit_write_;
  std::unique_ptr<proxy::Loop> loop_;
  std::thread thread_;
  int exit_code_ = -1;
};

// Echoes one connection until its EOF, then closes it.
std::thread tcp_echo_once(int listener) {
  return std::thread([listener] {
    UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    char buffer[65536];
    for (ssize_t n; (n = ::read(conn.get(), buffer, sizeof buffer)) > 0;)
      for (ssize_t sent = 0; sent < n;) {
        ssize_t m = ::write(conn.get(), buffer + sent, static_cast<size_t>(n - sent));
        if (m <= 0) return;
        sent += m;
      }
  });
}

TEST(PortProxy, TcpBytesAndTheHalfCloseGoThroughWhole) {
  UniqueFd server = bound("tcp", true), listener = bound("tcp", true);
  ASSERT_TRUE(server && listener);
  ProxyThread proxy;
  ASSERT_TRUE(proxy::add_tcp_forwarder(proxy.loop(), UniqueFd(::dup(listener.get())), loopback(port_of(server.get()))));
  ::fcntl(listener.get(), F_SETFL, O_NONBLOCK);
  proxy.start();
  std::thread echo = tcp_echo_once(server.get());

  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in to = loopback(port_of(listener.get()));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  // More than the pipes and socket buffers hold, written while reading.
  std::string sent(8 * 1024 * 1024, '\0');
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 7 + i / 4096);
  std::thread writer([&] {
    for (size_t done = 0; done < sent.size();) {
      ssize_t n = ::write(client.get(), sent.data() + done, sent.size() - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
    ::shutdown(client.get(), SHUT_WR);  // the echo ends when this EOF arrives
  });
  std::string received;
  char buffer[65536];
  while (readable_within(client.get(), 10000)) {
    ssize_t n = ::read(client.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  writer.join();
  echo.join();
  EXPECT_EQ(received.size(), sent.size());
  EXPECT_TRUE(received == sent) << "the bytes came back changed";
}

TEST(PortProxy, ARefusedTargetResetsTheClient) {
  UniqueFd listener = bound("tcp", true);
  // A port nobody listens on: bound and closed again.
  uint16_t closed_port = port_of(bound("tcp", false).get());
  ASSERT_TRUE(listener);
  ProxyThread proxy;
  ASSERT_TRUE(proxy::add_tcp_forwarder(proxy.loop(), UniqueFd(::dup(listener.get())), loopback(closed_port)));
  ::fcntl(listener.get(), F_SETFL, O_NONBLOCK);
  proxy.start();
  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in to = loopback(port_of(listener.get()));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  ASSERT_TRUE(readable_within(client.get(), 10000)) << "the connection stayed open";
  char byte;
  errno = 0;
  EXPECT_EQ(::read(client.get(), &byte, 1), -1);
  EXPECT_EQ(errno, ECONNRESET);
}

TEST(PortProxy, UdpRepliesGoBackToEachClient) {
  UniqueFd server = bound("udp", false), front = bound("udp", false);
  ASSERT_TRUE(server && front);
  // Echo: "echo:" + the datagram, to whoever sent it.
  std::thread echo([fd = server.get()] {
    for (int i = 0; i < 4; ++i) {
      char buffer[2048];
      sockaddr_in peer{};
      socklen_t length = sizeof peer;
      if (!readable_within(fd, 10000)) return;
      ssize_t n = ::recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&peer), &length);
      std::string reply = "echo:" + std::string(buffer, static_cast<size_t>(n > 0 ? n : 0));
      ::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer), length);
    }
  });
  ProxyThread proxy;
  ASSERT_TRUE(proxy::add_udp_forwarder(proxy.loop(), UniqueFd(::dup(front.get())), loopback(port_of(server.get()))));
  ::fcntl(front.get(), F_SETFL, O_NONBLOCK);
  proxy.start();
  sockaddr_in to = loopback(port_of(front.get()));
  UniqueFd a(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)), b(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto exchange = [&](int fd, const std::string& text) {
    ::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    if (!readable_within(fd, 10000)) return std::string("(no reply)");
    char buffer[2048];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    return std::string(buffer, static_cast<size_t>(n > 0 ? n : 0));
  };
  EXPECT_EQ(exchange(a.get(), "one"), "echo:one");
  EXPECT_EQ(exchange(b.get(), "two"), "echo:two");
  EXPECT_EQ(exchange(a.get(), "three"), "echo:three");
  EXPECT_EQ(exchange(b.get(), "four"), "echo:four");
  echo.join();
}

TEST(PortProxy, BindsEveryPortOfARangeAndNamesOneInUse) {
  PortMapping mapping;
  mapping.host_ip = "127.0.0.1";
  UniqueFd held = bound("tcp", true);
  mapping.host_port = port_of(held.get());
  mapping.container_port = 80;
  auto busy = bind_proxied_ports({mapping});
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, EADDRINUSE);
  EXPECT_NE(busy.error().message.find("publish 127.0.0.1:" + std::to_string(mapping.host_port) + "/tcp"),
            std::string::npos)
      << busy.error().message;

  held.reset();
  mapping.protocol = "udp";
  mapping.range = 2;
  auto ports = bind_proxied_ports({mapping});
  if (!ports) GTEST_SKIP() << "port " << mapping.host_port + 1 << " taken: " << ports.error().message;
  ASSERT_EQ(ports->size(), 2u);
  EXPECT_EQ(port_proxy_arguments(*ports), (std::vector<std::string>{"udp:80", "udp:81"}));
  EXPECT_EQ((*ports)[1].host, "127.0.0.1:" + std::to_string(mapping.host_port + 1) + "/udp");
}

}  // namespace
}  // namespace ctr::shim
