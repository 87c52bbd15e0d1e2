// Unit tests of published ports: podman's -p grammar and messages,
// --expose and -P, the checks before anything is made, the canonical form
// the record and the shim share, pasta's options, slirp4netns's API (a fake
// API server here; the real one runs in the integration tests), host port
// picking and the in-use check on loopback, and ps/port's text.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <thread>

#include "cmd/publish.h"
#include "runtime/base/files.h"
#include "runtime/base/unique_fd.h"
#include "shim/port_mapping.h"

namespace ctr::cmd {
namespace {

using shim::PortMapping;

std::string error_of(const std::string& spec) {
  auto parsed = parse_publish_spec(spec);
  return parsed ? "" : parsed.error().message;
}

TEST(PortMapping, ParsesPodmansSpecs) {
  auto bare = parse_publish_spec("80");
  ASSERT_TRUE(bare.ok()) << bare.error().message;
  EXPECT_EQ(*bare, (PortMapping{"127.0.0.1", 0, 80, 1, "tcp"}));
  auto both = parse_publish_spec("8080:80/udp");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(*both, (PortMapping{"127.0.0.1", 8080, 80, 1, "udp"}));
  auto ip = parse_publish_spec("0.0.0.0:8080:80/TCP");
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(*ip, (PortMapping{"0.0.0.0", 8080, 80, 1, "tcp"}));
  auto pick = parse_publish_spec("127.0.0.2::80");
  ASSERT_TRUE(pick.ok());
  EXPECT_EQ(*pick, (PortMapping{"127.0.0.2", 0, 80, 1, "tcp"}));
  auto range = parse_publish_spec("8080-8082:80-82");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, (PortMapping{"127.0.0.1", 8080, 80, 3, "tcp"}));
  auto v6 = parse_publish_spec("[::0001]:8080:80");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(*v6, (PortMapping{"::1", 8080, 80, 1, "tcp"}));
  auto v6_pick = parse_publish_spec("[::1]::80-81");
  ASSERT_TRUE(v6_pick.ok());
  EXPECT_EQ(*v6_pick, (PortMapping{"::1", 0, 80, 2, "tcp"}));
}

TEST(PortMapping, RefusesMalformedSpecsNamingThem) {
  EXPECT_EQ(error_of("0"),
            "--publish 0: parsing container port: port numbers must be between 1 and 65535 (inclusive), got 0");
  EXPECT_EQ(error_of("70000"),
            "--publish 70000: parsing container port: port numbers must be between 1 and 65535 (inclusive), got 70000");
  EXPECT_EQ(error_of("8080-8081:80"),
            "--publish 8080-8081:80: host and container port ranges have different lengths: 2 vs 1");
  EXPECT_EQ(error_of("8081-8080:80-81"),
            "--publish 8081-8080:80-81: parsing host port: the end port of a range must be "
            "higher than the start port - 8080 is not higher than 8081");
  EXPECT_EQ(error_of("a:80"), "--publish a:80: parsing host port: invalid port number \"a\"");
  EXPECT_EQ(error_of("[::1]:80"),
            "--publish [::1]:80: invalid port format - must provide host and destination port if specifying an IP");
  EXPECT_EQ(error_of("1.2.3:80:80"), "--publish 1.2.3:80:80: cannot parse \"1.2.3\" as an IP address");
  EXPECT_EQ(error_of("80/tcp/udp"), "--publish 80/tcp/udp: invalid port format - protocol can only be specified once");
  EXPECT_EQ(error_of("8080:80/"), "--publish 8080:80/: must provide a non-empty protocol to publish");
  EXPECT_EQ(error_of("::80"), "--publish ::80: must provide a non-empty container host IP to publish");
  EXPECT_EQ(error_of("80-"), "--publish 80-: parsing container port: must provide ending number for port range");
  EXPECT_EQ(error_of(""), "--publish : must provide a non-empty container port to publish");
  EXPECT_EQ(error_of("1:2:3:4"),
            "--publish 1:2:3:4: invalid port format - format is [[hostIP:]hostPort:]containerPort");
  EXPECT_EQ(error_of("80/sctp"),
            "--publish 80/sctp: sctp cannot be published: pasta and slirp4netns forward tcp and udp only");
  EXPECT_EQ(error_of("80/foo"), "--publish 80/foo: unknown protocol \"foo\": use tcp or udp");
  EXPECT_EQ(error_of("65535-65536:80-81"),
            "--publish 65535-65536:80-81: parsing host port: port numbers must be between 1 "
            "and 65535 (inclusive), got 65536");
  EXPECT_EQ(error_of("::1:8080:80"),
            "--publish ::1:8080:80: invalid port format - format is [[hostIP:]hostPort:]containerPort");
  EXPECT_NE(error_of("[::1:8080:80"), "");
}

TEST(PortMapping, CanonicalFormRoundTrips) {
  for (const auto& m : {PortMapping{"127.0.0.1", 8080, 80, 1, "tcp"}, PortMapping{"0.0.0.0", 9000, 90, 3, "udp"},
                        PortMapping{"::1", 8080, 80, 2, "tcp"}}) {
    std::string text = shim::format_port_mapping(m);
    auto back = shim::parse_canonical_port_mapping(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.error().message;
    EXPECT_EQ(*back, m) << text;
  }
  EXPECT_EQ(shim::format_port_mapping({"127.0.0.1", 8080, 80, 2, "tcp"}), "127.0.0.1:8080-8081:80-81/tcp");
  EXPECT_EQ(shim::format_port_mapping({"::1", 5353, 53, 1, "udp"}), "[::1]:5353:53/udp");
  for (const char* bad : {"8080:80/tcp", "127.0.0.1:8080:80", "127.0.0.1:8080-8081:80/tcp", "127.0.0.1:0:80/tcp",
                          "::1:8080:80/tcp", "[127.0.0.1]:8080:80/tcp", "127.0.0.1:8080:80/sctp", "x:1:2/tcp", ""})
    EXPECT_FALSE(shim::parse_canonical_port_mapping(bad).ok()) << bad;
}

TEST(PortMapping, PastaArguments) {
  using V = std::vector<std::string>;
  EXPECT_EQ(shim::pasta_port_arguments({}), (V{"-t", "none", "-u", "none"}));
  EXPECT_EQ(shim::pasta_port_arguments({{"127.0.0.1", 8080, 80, 1, "tcp"}, {"127.0.0.1", 8080, 80, 3, "udp"}}),
            (V{"-t", "127.0.0.1/8080:80", "-u", "127.0.0.1/8080-8082:80-82"}));
  EXPECT_EQ(shim::pasta_port_arguments({{"::1", 8080, 80, 1, "tcp"}, {"0.0.0.0", 9000, 9000, 2, "tcp"}}),
            (V{"-t", "::1/8080:80", "-t", "0.0.0.0/9000-9001:9000-9001", "-u", "none"}));
}

TEST(PortMapping, ExposeAndImageExposedPorts) {
  auto one = parse_expose("80");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, (std::vector<ExposedPort>{{80, "tcp"}}));
  auto range = parse_expose("100-101/udp");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, (std::vector<ExposedPort>{{100, "udp"}, {101, "udp"}}));
  EXPECT_TRUE(parse_expose("132/sctp").ok());  // exposing is metadata; publishing sctp is refused
  EXPECT_EQ(parse_expose("80-x").error().message, "--expose 80-x: invalid port number \"x\"");
  EXPECT_EQ(parse_expose("0").error().message,
            "--expose 0: port numbers must be between 1 and 65535 (inclusive), got 0");
  EXPECT_FALSE(parse_expose("80/foo").ok());
  EXPECT_EQ(image_exposed_ports(R"({"config":{"ExposedPorts":{"80/tcp":{},"53/udp":{}}}})"),
            (std::vector<std::string>{"53/udp", "80/tcp"}));
  EXPECT_TRUE(image_exposed_ports("{}").empty());
  EXPECT_TRUE(image_exposed_ports("not json").empty());
  EXPECT_EQ(parse_image_exposed_port("8080")->text(), "8080/tcp");
  EXPECT_FALSE(parse_image_exposed_port("80/tcp/x").ok());
}

TEST(PortMapping, PublishAllAddsExposedPortsNotPublishedAlready) {
  NetworkFlags flags;
  flags.publish = {"127.0.0.1:8080:80"};
  flags.publish_all = true;
  flags.expose = {"90", "100-101/udp"};
  auto plan = parse_ports(flags, "", {"80/tcp", "53/udp"});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->exposed, (std::vector<std::string>{"80/tcp", "53/udp", "90/tcp", "100/udp", "101/udp"}));
  ASSERT_EQ(plan->ports.size(), 5u);
  EXPECT_EQ(plan->ports[0], (PortMapping{"127.0.0.1", 8080, 80, 1, "tcp"}));
  EXPECT_EQ(plan->ports[1], (PortMapping{"127.0.0.1", 0, 53, 1, "udp"}));
  EXPECT_EQ(plan->ports[4], (PortMapping{"127.0.0.1", 0, 101, 1, "udp"}));

  flags.publish_all = false;  // --expose alone publishes nothing, so any network will do
  flags.publish.clear();
  auto exposed_only = parse_ports(flags, "host", {});
  ASSERT_TRUE(exposed_only.ok()) << exposed_only.error().message;
  EXPECT_TRUE(exposed_only->ports.empty());
}

TEST(PortMapping, RefusesWhatCannotWork) {
  NetworkFlags flags;
  flags.publish = {"8080:80"};
  for (const char* network : {"none", "host", "container:abc", "ns:/run/netns/x"}) {
    auto plan = parse_ports(flags, network, {});
    ASSERT_FALSE(plan.ok()) << network;
    EXPECT_NE(plan.error().message.find("-p/--publish cannot be used with --network " + std::string(network)),
              std::string::npos)
        << plan.error().message;
  }
  for (const char* network : {"", "private", "pasta", "pasta:--mtu,1500", "slirp4netns"})
    EXPECT_TRUE(parse_ports(flags, network, {}).ok()) << network;
  NetworkFlags all;
  all.publish_all = true;
  EXPECT_EQ(parse_ports(all, "host", {}).error().message,
            "-P/--publish-all cannot be used with --network host: the container uses the host's network, so its "
            "ports are the host's already");
  flags.publish = {"[::1]:8080:80"};
  EXPECT_TRUE(parse_ports(flags, "pasta", {}).ok());
  // ctr's port proxy (slirp4netns's default port handler) takes IPv6; slirp4netns's own does not.
  EXPECT_TRUE(parse_ports(flags, "slirp4netns", {}).ok());
  EXPECT_TRUE(parse_ports(flags, "slirp4netns", {}, {"port_handler=rootlesskit"}).ok());
  EXPECT_NE(parse_ports(flags, "slirp4netns", {}, {"port_handler=slirp4netns"}).error().message.find(
                "IPv4 host addresses only"),
            std::string::npos);
  flags.publish = {"8080:80", "127.0.0.2:8079-8080:81-82"};
  EXPECT_EQ(parse_ports(flags, "", {}).error().message,
            "--publish 127.0.0.2:8079-8080:81-82/tcp: host port 8080/tcp is already published by "
            "127.0.0.1:8080:80/tcp: each host port can be published once");
  flags.publish = {"8080:80", "8080:80/udp"};  // tcp and udp are apart
  EXPECT_TRUE(parse_ports(flags, "", {}).ok());
  all.expose = {"132/sctp"};
  EXPECT_NE(parse_ports(all, "", {}).error().message.find("exposed port 132/sctp cannot be published"),
            std::string::npos);
}

// A loopback socket bound to port 0 (the kernel picks), held by the test.
UniqueFd hold_port(int type, uint16_t& port) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  if (type == SOCK_STREAM) {
    EXPECT_EQ(::listen(fd.get(), 1), 0);
  }
  socklen_t length = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &length);
  port = ntohs(a.sin_port);
  return fd;
}

TEST(PortMapping, PicksDistinctFreeHostPorts) {
  std::vector<PortMapping> ports{
      {"127.0.0.1", 0, 80, 1, "tcp"}, {"127.0.0.1", 0, 81, 3, "tcp"}, {"127.0.0.1", 0, 53, 1, "udp"}};
  ASSERT_TRUE(assign_host_ports(ports).ok());
  EXPECT_NE(ports[0].host_port, 0);
  EXPECT_NE(ports[2].host_port, 0);
  EXPECT_FALSE(ports[0].host_port >= ports[1].host_port && ports[0].host_port <= ports[1].host_last());
  std::vector<std::string> canonical;
  for (const auto& m : ports) canonical.push_back(shim::format_port_mapping(m));
  EXPECT_TRUE(check_host_ports_free(canonical, "web").ok());
}

TEST(PortMapping, PortInUseIsAClearError) {
  uint16_t tcp_port = 0, udp_port = 0;
  UniqueFd tcp = hold_port(SOCK_STREAM, tcp_port);
  UniqueFd udp = hold_port(SOCK_DGRAM, udp_port);
  std::string tcp_text = "127.0.0.1:" + std::to_string(tcp_port) + "/tcp";
  auto busy = check_host_ports_free({"127.0.0.1:" + std::to_string(tcp_port) + ":80/tcp"}, "web");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().message, tcp_text +
                                      " is already in use: bind: Address already in use (container web): stop "
                                      "what holds it, or publish another host port");
  EXPECT_FALSE(check_host_ports_free({"0.0.0.0:" + std::to_string(udp_port) + ":53/udp"}, "web").ok());
  // The same port numbers on the other protocol are free (unless someone else holds them).
  (void)check_host_ports_free({"127.0.0.1:" + std::to_string(udp_port) + ":80/tcp"}, "web");
  auto foreign = check_host_ports_free({"192.0.2.1:8080:80/tcp"}, "web");
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("192.0.2.1 is not an address of this host"), std::string::npos);
}

TEST(PortMapping, PsAndPortText) {
  std::vector<PortMapping> ports{{"127.0.0.1", 9000, 90, 2, "udp"},
                                 {"0.0.0.0", 8081, 81, 1, "tcp"},
                                 {"127.0.0.1", 8080, 80, 1, "tcp"},
                                 {"::1", 8443, 443, 1, "tcp"}};
  EXPECT_EQ(ports_summary(ports),
            "127.0.0.1:8080->80/tcp, 0.0.0.0:8081->81/tcp, ::1:8443->443/tcp, 127.0.0.1:9000-9001->90-91/udp");
  EXPECT_EQ(port_lines(ports),
            (std::vector<std::string>{"80/tcp -> 127.0.0.1:8080", "81/tcp -> 0.0.0.0:8081", "443/tcp -> ::1:8443",
                                      "90/udp -> 127.0.0.1:9000", "91/udp -> 127.0.0.1:9001"}));
  EXPECT_EQ(published_host_port(ports, 91, "udp"), "127.0.0.1:9001");
  EXPECT_EQ(published_host_port(ports, 91, "tcp"), "");
  EXPECT_EQ(ports_summary({}), "");
  EXPECT_EQ(record_port_mappings({"127.0.0.1:8080:80/tcp", "junk"}).size(), 1u);
}

// A fake slirp4netns API server: answers each connection with the next
// reply once the client shut down its side, and keeps the requests.
class FakeSlirpApi {
 public:
  FakeSlirpApi(const std::string& path, std::vector<std::string> replies) : replies_(std::move(replies)) {
    listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::string short_path = path;
    UniqueFd dir;
    if (path.size() >= sizeof a.sun_path) {  // bound through its directory's fd
      dir = UniqueFd(::open(path.substr(0, path.rfind('/')).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      short_path = "/proc/self/fd/" + std::to_string(dir.get()) + path.substr(path.rfind('/'));
    }
    short_path.copy(a.sun_path, short_path.size());
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listener_.get(), 8), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeSlirpApi() { join(); }
  // Waits until every reply was given (or the listener was shut down).
  const std::vector<std::string>& join() {
    if (thread_.joinable()) {
      ::shutdown(listener_.get(), SHUT_RDWR);  // a client that stopped early must not hang the test
      thread_.join();
    }
    return requests_;
  }
  void wait_served() {
    if (thread_.joinable()) thread_.join();
  }
  const std::vector<std::string>& requests() const { return requests_; }

 private:
  void serve() {
    for (const auto& reply : replies_) {
      UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!client) return;
      std::string request;
      char buffer[512];
      for (ssize_t n; (n = ::read(client.get(), buffer, sizeof buffer)) > 0;) request.append(buffer, size_t(n));
      requests_.push_back(request);
      if (!reply.empty()) (void)!::write(client.get(), reply.data(), reply.size());
    }
  }
  std::vector<std::string> replies_, requests_;
  UniqueFd listener_;
  std::thread thread_;
};

TEST(PortMapping, Slirp4netnsOneRequestPerPort) {
  auto dir = TempDir::create("slirp-api");
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/api.sock";
  FakeSlirpApi api(path, {R"({"return": {"id": 1}})", R"({"return": {"id": 2}})"});
  auto added = shim::slirp4netns_add_forward(path, {"127.0.0.1", 8080, 80, 2, "udp"});
  EXPECT_TRUE(added.ok()) << added.error().message;
  api.wait_served();
  EXPECT_EQ(
      api.requests(),
      (std::vector<std::string>{
          R"({"execute": "add_hostfwd", "arguments": {"proto": "udp", "host_addr": "127.0.0.1", "host_port": 8080, "guest_port": 80}})",
          R"({"execute": "add_hostfwd", "arguments": {"proto": "udp", "host_addr": "127.0.0.1", "host_port": 8081, "guest_port": 81}})"}));
}

TEST(PortMapping, Slirp4netnsApiSocketPathLongerThanSunPath) {
  auto dir = TempDir::create("slirp-api");
  ASSERT_TRUE(dir.ok());
  std::string deep = dir->path() + "/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  ASSERT_TRUE(mkdir_p(deep, 0700).ok());
  std::string path = deep + "/slirp4netns.sock";
  ASSERT_GE(path.size(), sizeof(sockaddr_un::sun_path));
  FakeSlirpApi api(path, {R"({"return": {"id": 7}})"});
  auto added = shim::slirp4netns_add_forward(path, {"127.0.0.1", 8080, 80, 1, "tcp"});
  EXPECT_TRUE(added.ok()) << added.error().message;
  api.wait_served();
  EXPECT_EQ(api.requests().size(), 1u);
}

TEST(PortMapping, Slirp4netnsErrorsSayWhichPortAndWhy) {
  auto dir = TempDir::create("slirp-api");
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/api.sock";
  FakeSlirpApi api(path, {R"({"return": {"id": 1}})",
                          R"({"error": {"desc": "bad request: add_hostfwd: slirp_add_hostfwd failed"}})"});
  auto added = shim::slirp4netns_add_forward(path, {"0.0.0.0", 8080, 80, 3, "tcp"});
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().message,
            "publish 0.0.0.0:8081/tcp (container port 81) through slirp4netns: bad request: "
            "add_hostfwd: slirp_add_hostfwd failed");
  api.wait_served();
  EXPECT_EQ(api.requests().size(), 2u);  // stopped at the failing port

  auto v6 = shim::slirp4netns_add_forward(path, {"::1", 8080, 80, 1, "tcp"});
  ASSERT_FALSE(v6.ok());
  EXPECT_NE(v6.error().message.find("IPv4 host addresses only"), std::string::npos);
  auto missing = shim::slirp4netns_add_forward(dir->path() + "/none.sock", {"127.0.0.1", 8080, 80, 1, "tcp"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("connect to slirp4netns's API socket"), std::string::npos);
}

TEST(PortMapping, Slirp4netnsSilenceTimesOut) {
  auto dir = TempDir::create("slirp-api");
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/api.sock";
  // Accepts but never answers: a listener nobody serves.
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  path.copy(a.sun_path, path.size());
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  auto added = shim::slirp4netns_add_forward(path, {"127.0.0.1", 8080, 80, 1, "tcp"}, std::chrono::milliseconds(100));
  ASSERT_FALSE(added.ok());
  EXPECT_NE(added.error().message.find("did not answer within 100 ms"), std::string::npos) << added.error().message;
}

}  // namespace
}  // namespace ctr::cmd
