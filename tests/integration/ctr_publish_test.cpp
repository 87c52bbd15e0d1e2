// Published ports (-p, -P, --expose) end to end, as the unprivileged user:
// busybox httpd reached from the test at 127.0.0.1:PORT through pasta (the
// default) and slirp4netns (through ctr's port proxy, and through
// slirp4netns's own forwarding), UDP echoes, -P with --expose,
// `ctr port` / `ps` / inspect, and the errors (malformed specs, a network
// that cannot publish, a host port the test holds). Loopback only: the
// test talks to 127.0.0.1 and nothing else; host ports are picked free by
// binding port 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/base/unique_fd.h"
#include "tests/integration/ctr_container_fixture.h"
#include "tests/integration/test_env.h"

namespace ctr::itest {
namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A loopback socket bound to a port the kernel picked; the port in `port`.
UniqueFd bind_loopback(int type, uint16_t& port) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(0);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return {};
  socklen_t length = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &length);
  port = ntohs(a.sin_port);
  return fd;
}

// A port free for both tcp and udp right now (for the container to bind).
uint16_t free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    uint16_t port = 0;
    UniqueFd tcp = bind_loopback(SOCK_STREAM, port);
    UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = loopback(port);
    if (tcp && udp && ::bind(udp.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return port;
  }
  return 0;
}

void set_timeout(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// GET `path` from 127.0.0.1:port ([::1]:port with ipv6); the whole response
// ("" on any failure).
std::string http_get(uint16_t port, const std::string& path, bool ipv6 = false) {
  UniqueFd fd(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  set_timeout(fd.get(), 2000);
  sockaddr_in a = loopback(port);
  sockaddr_in6 a6{};
  a6.sin6_family = AF_INET6;
  a6.sin6_port = htons(port);
  a6.sin6_addr = in6addr_loopback;
  auto* to = ipv6 ? reinterpret_cast<sockaddr*>(&a6) : reinterpret_cast<sockaddr*>(&a);
  if (::connect(fd.get(), to, ipv6 ? sizeof a6 : sizeof a) != 0) return "";
  std::string request = "GET " + path + " HTTP/1.0\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return "";
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd.get(), buffer, sizeof buffer)) > 0;) response.append(buffer, static_cast<size_t>(n));
  return response;
}

// One datagram to 127.0.0.1:port and its answer ("" when none came).
std::string udp_exchange(uint16_t port, const std::string& message) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  set_timeout(fd.get(), 300);
  sockaddr_in a = loopback(port);
  ::sendto(fd.get(), message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  char buffer[512];
  ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

// Pids of ctr's port proxies (comm "ctr-port-proxy") whose parent, the
// shim, runs container `id`.
std::vector<pid_t> port_proxies_of(const std::string& id) {
  return processes_where([&](pid_t pid) {
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat || stat->find("(ctr-port-proxy)") == std::string::npos) return false;
    auto fields = split(stat->substr(stat->rfind(')') + 2), ' ');
    if (fields.size() < 2) return false;
    auto parent = read_file("/proc/" + fields[1] + "/cmdline");
    return parent && parent->find(id) != std::string::npos;
  });
}

bool has_ipv6_loopback() {
  auto interfaces = read_file("/proc/net/if_inet6");
  return interfaces && interfaces->find("00000000000000000000000000000001") != std::string::npos;
}

class CtrPublishTest : public CtrContainerTest {
 protected:
  void SetUp() override {
    CtrContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto written = write_file_atomic(path("index.html"), "hello through a published port\n", 0644);
    ASSERT_TRUE(written.ok()) << written.error().message;
  }

  bool networking_usable() {
    return have_tool("pasta") && have_tool("slirp4netns") && ::access("/dev/net/tun", R_OK | W_OK) == 0;
  }
#define REQUIRE_NETWORKING()                                                                                 \
  do {                                                                                                       \
    if (!networking_usable())                                                                                \
      GTEST_SKIP() << "pasta, slirp4netns and a usable /dev/net/tun are needed (run in a session with user " \
                      "devices; apt-get install passt slirp4netns)";                                         \
  } while (0)

  // httpd serving the test's dir at container port 80.
  std::vector<std::string> httpd(const std::string& name, const std::vector<std::string>& flags) {
    std::vector<std::string> args{"run", "-d", "--name", name};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"-v", dir_->path() + ":/www:ro", "busybox", "httpd", "-f", "-p", "80", "-h", "/www"});
    return args;
  }

  void expect_served(uint16_t port, bool ipv6 = false) {
    std::string response;
    EXPECT_TRUE(eventually([&] {
      response = http_get(port, "/index.html", ipv6);
      return response.find("hello through a published port") != std::string::npos;
    })) << "127.0.0.1:"
        << port << " answered: " << response;
  }

  std::string out_of(const std::vector<std::string>& args) {
    auto out = ctr(args);
    EXPECT_EQ(out.code, 0) << out.describe();
    return out.out;
  }
};

TEST_F(CtrPublishTest, HttpdReachableThroughPasta) {
  REQUIRE_NETWORKING();
  uint16_t port = free_port();
  ASSERT_NE(port, 0);
  std::string p = std::to_string(port);
  auto run = ctr(httpd("web", {"-p", "127.0.0.1:" + p + ":80", "--expose", "9000/udp"}));
  ASSERT_EQ(run.code, 0) << run.describe();
  expect_served(port);
  EXPECT_EQ(out_of({"port", "web"}), "80/tcp -> 127.0.0.1:" + p + "\n");
  EXPECT_EQ(out_of({"container", "port", "web", "80/tcp"}), "127.0.0.1:" + p + "\n");
  EXPECT_EQ(out_of({"ps", "--format", "{{.Names}} {{.Ports}}"}), "web 127.0.0.1:" + p + "->80/tcp\n");
  EXPECT_NE(out_of({"ps"}).find("127.0.0.1:" + p + "->80/tcp"), std::string::npos);
  EXPECT_NE(out_of({"ps", "--format", "json"}).find("\"host_port\": " + p), std::string::npos);
  EXPECT_EQ(out_of({"inspect", "--format", "{{json .NetworkSettings.Ports}}", "web"}),
            "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"" + p + "\"}],\"9000/udp\":null}\n");
  EXPECT_EQ(out_of({"inspect", "--format", "{{json .HostConfig.PortBindings}}", "web"}),
            "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"" + p + "\"}],\"9000/udp\":null}\n");
  auto missing = ctr({"port", "web", "81"});
  EXPECT_EQ(missing.code, 125);
  EXPECT_NE(missing.err.find("failed to find published port \"81\""), std::string::npos) << missing.err;
  auto udp = ctr({"port", "web", "80/udp"});
  EXPECT_EQ(udp.code, 125);
  // A second container cannot have the same host port while the first runs:
  // the error names the port, and that container stays created.
  auto busy = ctr(httpd("web2", {"-p", "127.0.0.1:" + p + ":80"}));
  EXPECT_EQ(busy.code, 125) << busy.describe();
  EXPECT_NE(busy.err.find("127.0.0.1:" + p + "/tcp is already in use"), std::string::npos) << busy.err;
  EXPECT_TRUE(has_state("web2", "created"));
  // Stopped, web's port is free again for web2.
  ASSERT_EQ(ctr({"rm", "-f", "web"}).code, 0);
  auto started = ctr({"start", "web2"});
  ASSERT_EQ(started.code, 0) << started.describe();
  expect_served(port);
}

// ctr's port proxy (slirp4netns's default port handler, as podman's
// rootlessport): the server sees the container's own address as the client.
TEST_F(CtrPublishTest, HttpdReachableThroughSlirp4netnsAndThePortProxy) {
  REQUIRE_NETWORKING();
  uint16_t port = free_port(), port6 = free_port();
  ASSERT_NE(port, 0);
  std::vector<std::string> flags{"--network", "slirp4netns", "-p", std::to_string(port) + ":80"};
  if (has_ipv6_loopback()) flags.insert(flags.end(), {"-p", "[::1]:" + std::to_string(port6) + ":80"});
  std::vector<std::string> args{"run", "-d", "--name", "web"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), {"-v", dir_->path() + ":/www:ro", "busybox", "httpd", "-f", "-v", "-p", "80", "-h", "/www"});
  auto run = ctr(args);
  ASSERT_EQ(run.code, 0) << run.describe();
  expect_served(port);
  if (has_ipv6_loopback()) expect_served(port6, /*ipv6=*/true);
  EXPECT_NE(out_of({"port", "web"}).find("80/tcp -> 127.0.0.1:" + std::to_string(port) + "\n"), std::string::npos);
  std::string logs;
  // httpd listens on IPv6 too, so the address comes v4-mapped.
  EXPECT_TRUE(eventually([&] { return (logs = ctr({"logs", "web"}).err).find("10.0.2.100]:") != std::string::npos; }))
      << "httpd's log: " << logs;
  std::string id = std::string(trim(out_of({"inspect", "--format", "{{.Id}}", "web"})));
  EXPECT_EQ(port_proxies_of(id).size(), 1u);
  ASSERT_EQ(ctr({"rm", "-f", "web"}).code, 0);
  EXPECT_TRUE(port_proxies_of(id).empty()) << "a port proxy outlived its container";
  EXPECT_EQ(http_get(port, "/index.html"), "") << "the port is still served";
}

TEST_F(CtrPublishTest, HttpdReachableThroughSlirp4netnsOwnForwarding) {
  REQUIRE_NETWORKING();
  uint16_t port = free_port();
  ASSERT_NE(port, 0);
  auto run = ctr(httpd("web", {"--network", "slirp4netns:port_handler=slirp4netns", "-p", std::to_string(port) + ":80"}));
  ASSERT_EQ(run.code, 0) << run.describe();
  expect_served(port);
  std::string id = std::string(trim(out_of({"inspect", "--format", "{{.Id}}", "web"})));
  EXPECT_TRUE(port_proxies_of(id).empty()) << "slirp4netns forwards, no proxy";
}

// The proxy watches a pipe only the shim holds: a SIGKILLed shim takes it along.
TEST_F(CtrPublishTest, ThePortProxyEndsWithAKilledShim) {
  REQUIRE_NETWORKING();
  uint16_t port = free_port();
  ASSERT_NE(port, 0);
  auto run = ctr(httpd("web", {"--network", "slirp4netns", "-p", std::to_string(port) + ":80"}));
  ASSERT_EQ(run.code, 0) << run.describe();
  std::string id = std::string(trim(out_of({"inspect", "--format", "{{.Id}}", "web"})));
  auto proxies = port_proxies_of(id);
  ASSERT_EQ(proxies.size(), 1u);
  auto stat = read_file("/proc/" + std::to_string(proxies[0]) + "/stat");
  ASSERT_TRUE(stat);
  auto shim = parse_u64(split(stat->substr(stat->rfind(')') + 2), ' ')[1]);
  ASSERT_TRUE(shim);
  ASSERT_EQ(::kill(static_cast<pid_t>(*shim), SIGKILL), 0);
  EXPECT_TRUE(eventually([&] { return ::kill(proxies[0], 0) != 0; })) << "the proxy outlived its shim";
  (void)ctr({"rm", "-f", "web"});
}

// busybox's nc has no UDP here, so the echo server is the host's python3,
// bind-mounted with its libraries.
class CtrPublishUdpTest : public CtrPublishTest {
 protected:
  // Runs the echo on container port `container_port`, published on `host_port`.
  void run_echo(const std::vector<std::string>& flags, uint16_t host_port, uint16_t container_port) {
    if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "/usr/bin/python3 is needed as the UDP echo server";
    std::string script = "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('0.0.0.0', " +
                         std::to_string(container_port) +
                         "))\nwhile True:\n  data, peer = s.recvfrom(2048)\n  s.sendto(b'echo:' + data, peer)\n";
    std::vector<std::string> args{"run", "-d", "--name", "echo"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(),
                {"-p", "127.0.0.1:" + std::to_string(host_port) + ":" + std::to_string(container_port) + "/udp", "-v",
                 "/usr:/usr:ro", "-v", "/usr/lib:/lib:ro", "-v", "/usr/lib64:/lib64:ro", "busybox", "/usr/bin/python3",
                 "-c", script});
    auto run = ctr(args);
    ASSERT_EQ(run.code, 0) << run.describe();
    std::string answer;
    EXPECT_TRUE(eventually([&] { return (answer = udp_exchange(host_port, "ping")) == "echo:ping"; })) << answer;
  }
};

// pasta 2023-03 answers loopback UDP only when the host and container ports
// are the same (replies to a remapped port are lost), so they match here.
TEST_F(CtrPublishUdpTest, UdpEchoThroughPasta) {
  REQUIRE_NETWORKING();
  uint16_t port = free_port();
  ASSERT_NE(port, 0);
  run_echo({}, port, port);
  std::string p = std::to_string(port);
  EXPECT_EQ(out_of({"port", "echo"}), p + "/udp -> 127.0.0.1:" + p + "\n");
  EXPECT_EQ(out_of({"ps", "--format", "{{.Ports}}"}), "127.0.0.1:" + p + "->" + p + "/udp\n");
}

// Through ctr's port proxy: the datagrams stay inside the container's
// namespace, so the host's loopback need not be reachable from it.
TEST_F(CtrPublishUdpTest, UdpEchoThroughSlirp4netnsAndThePortProxy) {
  REQUIRE_NETWORKING();
  uint16_t port = free_port();
  ASSERT_NE(port, 0);
  run_echo({"--network", "slirp4netns"}, port, 5353);
  EXPECT_EQ(out_of({"port", "echo", "5353/udp"}), "127.0.0.1:" + std::to_string(port) + "\n");
}

// slirp4netns's own forwarding drops UDP replies to the host's loopback when
// the container may not reach it (--disable-host-loopback, the default;
// podman#4586), so this needs allow_host_loopback=true.
TEST_F(CtrPublishUdpTest, UdpEchoThroughSlirp4netnsOwnForwarding) {
  REQUIRE_NETWORKING();
  uint16_t port = free_port();
  ASSERT_NE(port, 0);
  run_echo({"--network", "slirp4netns:allow_host_loopback=true,port_handler=slirp4netns"}, port, 5353);
}

TEST_F(CtrPublishTest, PublishAllPublishesExposedPortsOnFreeLoopbackPorts) {
  REQUIRE_NETWORKING();
  auto run = ctr(httpd("web", {"-P", "--expose", "80", "--expose", "7000-7001/udp"}));
  ASSERT_EQ(run.code, 0) << run.describe();
  auto lines = split(std::string(trim(out_of({"port", "web"}))), '\n');
  ASSERT_EQ(lines.size(), 3u) << out_of({"port", "web"});
  EXPECT_TRUE(starts_with(lines[0], "80/tcp -> 127.0.0.1:")) << lines[0];
  EXPECT_TRUE(starts_with(lines[1], "7000/udp -> 127.0.0.1:")) << lines[1];
  EXPECT_TRUE(starts_with(lines[2], "7001/udp -> 127.0.0.1:")) << lines[2];
  auto port = parse_u64(lines[0].substr(lines[0].rfind(':') + 1));
  ASSERT_TRUE(port.has_value()) << lines[0];
  expect_served(static_cast<uint16_t>(*port));
  EXPECT_EQ(out_of({"inspect", "--format", "{{.HostConfig.PublishAllPorts}}", "web"}), "true\n");
  // `port -a` prefixes the short ID.
  std::string id = std::string(trim(out_of({"inspect", "--format", "{{.Id}}", "web"})));
  EXPECT_TRUE(starts_with(out_of({"port", "-a"}), id.substr(0, 12) + "\t80/tcp -> 127.0.0.1:"));
}

TEST_F(CtrPublishTest, HostPortHeldByTheTestIsAClearErrorAndTheContainerStaysCreated) {
  uint16_t port = 0;
  UniqueFd held = bind_loopback(SOCK_STREAM, port);
  ASSERT_TRUE(held);
  ASSERT_EQ(::listen(held.get(), 1), 0);
  std::string p = std::to_string(port);
  auto run = ctr({"run", "-d", "--name", "held", "-p", p + ":80", "busybox", "sleep", "60"});
  EXPECT_EQ(run.code, 125) << run.describe();
  EXPECT_NE(run.err.find("127.0.0.1:" + p + "/tcp is already in use: bind: Address already in use"), std::string::npos)
      << run.err;
  EXPECT_TRUE(has_state("held", "created"));
  auto start = ctr({"start", "held"});
  EXPECT_EQ(start.code, 125) << start.describe();
  EXPECT_NE(start.err.find("is already in use"), std::string::npos) << start.err;
  EXPECT_TRUE(has_state("held", "created"));
  // A created container publishes nothing yet: port lists nothing (podman),
  // and asking for one port says why.
  EXPECT_EQ(out_of({"port", "held"}), "");
  auto one = ctr({"port", "held", "80"});
  EXPECT_EQ(one.code, 125);
  EXPECT_NE(one.err.find("container held is not running"), std::string::npos) << one.err;
  // ps shows the ports it will publish.
  EXPECT_EQ(out_of({"ps", "-a", "--format", "{{.Ports}}"}), "127.0.0.1:" + p + "->80/tcp\n");

  uint16_t udp_port = 0;
  UniqueFd udp = bind_loopback(SOCK_DGRAM, udp_port);
  ASSERT_TRUE(udp);
  auto run_udp = ctr({"create", "--name", "held-udp", "-p", "127.0.0.1:" + std::to_string(udp_port) + ":53/udp",
                      "busybox", "sleep", "60"});
  ASSERT_EQ(run_udp.code, 0) << run_udp.describe();
  auto start_udp = ctr({"start", "held-udp"});
  EXPECT_EQ(start_udp.code, 125);
  EXPECT_NE(start_udp.err.find("127.0.0.1:" + std::to_string(udp_port) + "/udp is already in use"), std::string::npos)
      << start_udp.err;
}

TEST_F(CtrPublishTest, BadSpecsAndNetworksAreErrorsAndMakeNothing) {
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"-p", "70000"}, "--publish 70000: parsing container port: port numbers must be between 1 and 65535"},
      {{"-p", "8080-8081:80"}, "host and container port ranges have different lengths: 2 vs 1"},
      {{"-p", "80/sctp"}, "--publish 80/sctp: sctp cannot be published"},
      {{"-p", "x:80"}, "--publish x:80: parsing host port: invalid port number \"x\""},
      {{"-p", "1.2.3:80:80"}, "cannot parse \"1.2.3\" as an IP address"},
      {{"-p", "18080:80", "-p", "18080:81"}, "host port 18080/tcp is already published by 127.0.0.1:18080:80/tcp"},
      {{"--expose", "0"}, "--expose 0: port numbers must be between 1 and 65535"},
      {{"--network", "none", "-p", "8080:80"}, "-p/--publish cannot be used with --network none"},
      {{"--network", "host", "-p", "8080:80"}, "-p/--publish cannot be used with --network host"},
      {{"--network", "host", "-P"}, "-P/--publish-all cannot be used with --network host"},
      {{"--network", "slirp4netns:port_handler=slirp4netns", "-p", "[::1]:8080:80"},
       "slirp4netns forwards IPv4 host addresses only"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"create"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    args.insert(args.end(), {"busybox", "true"});
    auto out = ctr(args);
    EXPECT_EQ(out.code, 125) << join(c.flags, " ") << ": " << out.describe();
    EXPECT_NE(out.err.find(c.message), std::string::npos) << join(c.flags, " ") << ": " << out.err;
  }
  EXPECT_EQ(out_of({"ps", "-a", "-q"}), "");
  auto unknown = ctr({"port", "nosuch"});
  EXPECT_EQ(unknown.code, 125);
  EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << unknown.err;
  auto both = ctr({"port", "-a", "nosuch"});
  EXPECT_EQ(both.code, 125);
  EXPECT_NE(both.err.find("no arguments are needed with --all"), std::string::npos) << both.err;
  auto none = ctr({"port"});
  EXPECT_EQ(none.code, 125);
  EXPECT_NE(none.err.find("you must supply a running container name or id"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace ctr::itest
