// The container's /etc/hosts, /etc/resolv.conf and /etc/hostname for real,
// as the unprivileged user: --dns, --dns-search, --dns-option, --add-host,
// --hostname, --no-hosts, --network none/host/container:, bad values, and
// a server on the host's 127.0.0.1 reached through host.containers.internal
// (pasta maps its gateway address to the host's loopback). Loopback only:
// nothing here sends traffic anywhere else (DNS servers are only written).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/base/unique_fd.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

using CtrDnsTest = CtrContainerTest;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The host's nameserver lines as the container in the host's network sees them.
std::string host_nameservers() {
  auto text = read_file("/etc/resolv.conf");
  std::string out;
  if (!text) return out;
  for (const auto& line : split(*text, '\n')) {
    std::string clean = line.substr(0, line.find('#'));
    if (starts_with(clean, "nameserver ")) out += "nameserver " + std::string(trim(clean.substr(11))) + "\n";
  }
  return out;
}

TEST_F(CtrDnsTest, DnsFlagsMakeTheResolvConf) {
  auto run = ctr({"run", "--rm", "--network", "host", "--dns", "10.1.2.3", "--dns", "fd00::53,10.1.2.4", "--dns-search",
                  "a.example", "--dns-search", "b.example", "--dns-option", "ndots:2", "--dns-option", "timeout:1",
                  "busybox", "cat", "/etc/resolv.conf"});
  ASSERT_EQ(run.code, 0) << run.describe();
  EXPECT_EQ(run.out,
            "search a.example b.example\nnameserver 10.1.2.3\nnameserver fd00::53\nnameserver 10.1.2.4\n"
            "options ndots:2 timeout:1\n");
  auto dot = ctr({"run", "--rm", "--network", "host", "--dns-search", ".", "--dns", "10.1.2.3", "busybox", "cat",
                  "/etc/resolv.conf"});
  ASSERT_EQ(dot.code, 0) << dot.describe();
  EXPECT_FALSE(contains(dot.out, "search")) << dot.out;
  EXPECT_TRUE(contains(dot.out, "nameserver 10.1.2.3\n")) << dot.out;
}

TEST_F(CtrDnsTest, AddHostAndHostnameWithoutANetwork) {
  auto run = ctr({"run", "--rm", "--network", "none", "--hostname", "myhost", "--name", "dnsbox", "--add-host",
                  "db.example:10.1.1.1", "--add-host", "v6.example:fd00::9", "busybox", "sh", "-c",
                  "cat /etc/hosts; echo ---; cat /etc/hostname; hostname; ls -ln /etc/hosts /etc/hostname; "
                  "test -e /etc/resolv.conf && echo has-resolv || echo no-resolv"});
  ASSERT_EQ(run.code, 0) << run.describe();
  EXPECT_EQ(run.out.find("10.1.1.1\tdb.example\nfd00::9\tv6.example\n"), 0u) << run.out;
  EXPECT_TRUE(contains(run.out, "127.0.0.1\tlocalhost\n")) << run.out;
  EXPECT_TRUE(contains(run.out, "127.0.0.1\tmyhost dnsbox\n")) << run.out;
  EXPECT_TRUE(contains(run.out, "---\nmyhost\nmyhost\n")) << run.out;
  EXPECT_TRUE(contains(run.out, "-rw-r--r--")) << run.out;  // 0644, owned by the container's root
  EXPECT_TRUE(contains(run.out, " 0        0 ") || contains(run.out, " 0 0 ")) << run.out;
  // --network none: no resolv.conf of ours (podman), the image has none.
  EXPECT_TRUE(contains(run.out, "no-resolv")) << run.out;
  // Nothing written into the image.
  auto image = ctr({"run", "--rm", "--network", "none", "--no-hosts", "busybox", "sh", "-c",
                    "test -e /etc/hosts && echo has-hosts || echo no-hosts"});
  ASSERT_EQ(image.code, 0) << image.describe();
  EXPECT_EQ(image.out, "no-hosts\n");
}

TEST_F(CtrDnsTest, InspectShowsTheFlagsAndTheFiles) {
  auto made = ctr({"create", "--name", "insp", "--dns", "10.1.2.3", "--dns-search", "a.example", "--dns-option",
                   "ndots:2", "--add-host", "db:10.1.1.1", "busybox", "true"});
  ASSERT_EQ(made.code, 0) << made.describe();
  auto inspected = ctr({"inspect", "insp"});
  ASSERT_EQ(inspected.code, 0) << inspected.describe();
  auto doc = nlohmann::json::parse(inspected.out)[0];
  EXPECT_EQ(doc["HostConfig"]["Dns"], nlohmann::json({"10.1.2.3"}));
  EXPECT_EQ(doc["HostConfig"]["DnsSearch"], nlohmann::json({"a.example"}));
  EXPECT_EQ(doc["HostConfig"]["DnsOptions"], nlohmann::json({"ndots:2"}));
  EXPECT_EQ(doc["HostConfig"]["ExtraHosts"], nlohmann::json({"db:10.1.1.1"}));
  std::string dir = doc["StaticDir"];
  EXPECT_EQ(doc["HostsPath"], dir + "/hosts");
  EXPECT_EQ(doc["ResolvConfPath"], dir + "/resolv.conf");
  EXPECT_EQ(doc["HostnamePath"], dir + "/hostname");
  auto hosts = read_file(dir + "/hosts");
  ASSERT_TRUE(hosts.ok());
  EXPECT_TRUE(contains(*hosts, "10.1.1.1\tdb\n")) << *hosts;
  auto plain = ctr({"create", "--name", "plain", "busybox", "true"});
  ASSERT_EQ(plain.code, 0) << plain.describe();
  auto plain_doc = nlohmann::json::parse(ctr({"inspect", "plain"}).out)[0];
  EXPECT_EQ(plain_doc["HostConfig"]["Dns"], nlohmann::json::array());
  EXPECT_EQ(plain_doc["HostConfig"]["ExtraHosts"], nlohmann::json::array());
}

TEST_F(CtrDnsTest, HostNetworkUsesTheHostsNameAndResolvers) {
  utsname uts{};
  ASSERT_EQ(::uname(&uts), 0);
  auto run = ctr({"run", "--rm", "--network", "host", "busybox", "sh", "-c",
                  "cat /etc/hostname; hostname; echo ---; cat /etc/resolv.conf; echo ---; cat /etc/hosts"});
  ASSERT_EQ(run.code, 0) << run.describe();
  std::string name = uts.nodename;
  EXPECT_EQ(run.out.find(name + "\n" + name + "\n---\n"), 0u) << run.out;
  EXPECT_TRUE(contains(run.out, host_nameservers())) << run.out;
  EXPECT_TRUE(contains(run.out, "\thost.containers.internal\n")) << run.out;
  auto named = ctr({"run", "--rm", "--network", "host", "--hostname", "other", "busybox", "cat", "/etc/hostname"});
  EXPECT_EQ(named.out, "other\n") << named.describe();
}

TEST_F(CtrDnsTest, UserMountsAndReadOnlyRootWin) {
  std::string mine = path("myhosts");
  ASSERT_TRUE(write_file_atomic(mine, "10.9.9.9\tmine\n", 0644).ok());
  auto run = ctr({"run", "--rm", "--network", "none", "-v", mine + ":/etc/hosts:ro", "busybox", "cat", "/etc/hosts"});
  ASSERT_EQ(run.code, 0) << run.describe();
  EXPECT_EQ(run.out, "10.9.9.9\tmine\n");
  auto ro = ctr({"run", "--rm", "--network", "none", "--read-only", "busybox", "sh", "-c",
                 "echo 1.1.1.1 x >> /etc/hosts && echo wrote || echo refused"});
  ASSERT_EQ(ro.code, 0) << ro.describe();
  EXPECT_TRUE(contains(ro.out, "refused")) << ro.describe();
}

TEST_F(CtrDnsTest, BadValuesAreErrorsAndMakeNothing) {
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--dns", "bogus"}, "bogus is not an ip address"},
      {{"--dns", "1.2.3"}, "1.2.3 is not an ip address"},
      {{"--dns", "1.2.3.4", "--dns", "none"}, "none is not allowed to be specified with other DNS ip addresses"},
      {{"--add-host", "foo"}, "bad format for add-host: \"foo\""},
      {{"--add-host", "foo:1.2.3"}, "invalid IP address in add-host: \"1.2.3\""},
      {{"--no-hosts", "--add-host", "a:1.2.3.4"}, "--no-hosts and --add-host cannot be set together"},
      {{"--dns-search", "bad_domain!"}, "bad_domain! is not a valid domain"},
      {{"--network", "none", "--dns", "1.1.1.1"}, "conflicting options: dns and the network mode: none"},
      {{"--network", "none", "--dns-option", "ndots:1"}, "conflicting options: dns and the network mode: none"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"run", "--rm", "--name", "bad"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    args.insert(args.end(), {"busybox", "true"});
    auto run = ctr(args);
    EXPECT_EQ(run.code, 125) << join(c.flags, " ") << ": " << run.describe();
    EXPECT_TRUE(contains(run.err, c.message)) << join(c.flags, " ") << ": " << run.describe();
  }
  auto listed = ctr({"ps", "-a", "-q"});
  EXPECT_EQ(listed.out, "") << listed.describe();
  std::vector<std::string> left;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(root_ + "/containers", ignored))
    left.push_back(entry.path().filename());
  EXPECT_TRUE(left.empty()) << join(left, " ");
}

TEST_F(CtrDnsTest, SharedNetworkSharesTheTargetsFiles) {
  auto target = ctr(
      {"run", "-d", "--name", "target", "--network", "none", "--add-host", "db:10.1.1.1", "busybox", "sleep", "60"});
  ASSERT_EQ(target.code, 0) << target.describe();
  auto joined = ctr({"run", "--rm", "--name", "joiner", "--hostname", "jhost", "--network", "container:target",
                     "busybox", "sh", "-c", "cat /etc/hosts; echo ---; cat /etc/hostname"});
  ASSERT_EQ(joined.code, 0) << joined.describe();
  EXPECT_TRUE(contains(joined.out, "10.1.1.1\tdb\n")) << joined.out;
  EXPECT_TRUE(contains(joined.out, "127.0.0.1\tjhost joiner\n")) << joined.out;
  EXPECT_TRUE(contains(joined.out, "---\njhost\n")) << joined.out;
  // The running target sees the joiner's names too: one file, bind-mounted
  // in both (read on the host side, where it lives).
  auto hosts_path = ctr({"inspect", "--format", "{{.HostsPath}}", "target"});
  ASSERT_EQ(hosts_path.code, 0) << hosts_path.describe();
  auto seen = read_file(std::string(trim(hosts_path.out)));
  ASSERT_TRUE(seen) << hosts_path.out;
  EXPECT_TRUE(contains(*seen, "127.0.0.1\tjhost joiner\n")) << *seen;
  auto dns = ctr({"run", "--rm", "--network", "container:target", "--dns", "1.1.1.1", "busybox", "true"});
  EXPECT_EQ(dns.code, 125) << dns.describe();
  EXPECT_TRUE(contains(dns.err, "conflicting options: dns and the network mode: container")) << dns.describe();
  (void)ctr({"rm", "-f", "target"});
}

// A one-shot TCP server on the host's 127.0.0.1 (port chosen by the kernel).
class LoopbackServer {
 public:
  LoopbackServer() {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd_.get(), 4) != 0 ||
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
      return;
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      pollfd wait{fd_.get(), POLLIN, 0};
      if (::poll(&wait, 1, 30000) != 1) return;
      UniqueFd client(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!client) return;
      accepted_ = true;  // before the reply: the test checks it once the container has the reply
      const char reply[] = "hello-from-the-host\n";
      (void)!::write(client.get(), reply, sizeof reply - 1);
    });
  }
  ~LoopbackServer() {
    if (thread_.joinable()) {
      ::shutdown(fd_.get(), SHUT_RDWR);
      thread_.join();
    }
  }
  int port() const { return port_; }
  bool accepted() const { return accepted_; }

 private:
  UniqueFd fd_;
  int port_ = 0;
  std::atomic<bool> accepted_{false};
  std::thread thread_;
};

TEST_F(CtrDnsTest, ContainerReachesTheHostThroughHostContainersInternal) {
  if (!path_exists("/usr/bin/pasta")) GTEST_SKIP() << "pasta (package passt) is not installed";
  LoopbackServer server;
  ASSERT_NE(server.port(), 0);
  // The reply is awaited, not the connection's end: pasta 2023_03_09 may
  // leave the container's side in FIN-WAIT-2 when the host's server closes
  // right after writing (seen with this server, not with Python's).
  std::string script = "grep host.containers.internal /etc/hosts; nc -w 5 host.containers.internal " +
                       std::to_string(server.port()) +
                       " </dev/null >/tmp/reply & "
                       "for i in $(seq 100); do grep -q hello /tmp/reply && break; sleep 0.1; done; "
                       "kill $! 2>/dev/null; cat /tmp/reply";
  auto run = ctr({"run", "--rm", "--network", "pasta", "busybox", "sh", "-c", script}, 60);
  ASSERT_EQ(run.code, 0) << run.describe();
  EXPECT_TRUE(contains(run.out, "\thost.containers.internal\n")) << run.describe();
  EXPECT_TRUE(contains(run.out, "hello-from-the-host\n")) << run.describe();
  EXPECT_TRUE(server.accepted());
}

}  // namespace
}  // namespace ctr::itest
