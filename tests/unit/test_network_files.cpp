// Unit tests of the container's /etc/hosts, /etc/resolv.conf and the DNS
// flags (cmd/network_files.h) from given host files and network modes, as
// podman 4.3 writes them.
#include <gtest/gtest.h>

#include "cmd/network_files.h"

namespace ctr::cmd {
namespace {

NetworkMode mode_of(NetworkMode::Kind kind, std::vector<std::string> options = {}, std::string target = "") {
  NetworkMode mode;
  mode.kind = kind;
  mode.options = std::move(options);
  mode.target = std::move(target);
  return mode;
}

HostNetwork sample_host() {
  HostNetwork host;
  host.hosts = "127.0.0.1 localhost\n127.0.0.1\tvm # the machine\n# comment\n10.9.8.7\n";
  host.resolv_conf =
      "# generated\nsearch corp.example lab.example\nnameserver 10.255.255.53\n"
      "nameserver 127.0.0.1\nnameserver fd00::53\noptions ndots:3\n";
  host.hostname = "vm";
  host.gateway4 = "192.0.2.1";
  host.address4 = "192.0.2.2";
  host.local_ip = "192.0.2.2";
  return host;
}

DnsConfig parsed(NetworkFlags flags) {
  auto dns = parse_dns_flags(flags);
  EXPECT_TRUE(dns.ok()) << dns.error().message;
  return dns ? *dns : DnsConfig{};
}

TEST(NetworkFiles, HostsForPastaMapsTheGatewayToTheHost) {
  NetworkFlags flags;
  flags.add_host = {"db.example:10.1.1.1", "v6:fd00::9"};
  std::string text = hosts_file(sample_host(), mode_of(NetworkMode::Kind::pasta), parsed(flags), "0123456789ab", "web");
  EXPECT_EQ(text,
            "10.1.1.1\tdb.example\n"
            "fd00::9\tv6\n"
            "127.0.0.1\tlocalhost\n"
            "127.0.0.1\tvm\n"
            "192.0.2.1\thost.containers.internal\n"
            "192.0.2.2\t0123456789ab web\n");
}

TEST(NetworkFiles, HostsAddsIpv6LocalhostWhenTheBaseLacksLocalhost) {
  HostNetwork host = sample_host();
  host.hosts = "";
  std::string text = hosts_file(host, mode_of(NetworkMode::Kind::none), DnsConfig{}, "h", "n");
  // podman 4.3 names the host's address for host.containers.internal even
  // without a network; the container's names sit on loopback.
  EXPECT_EQ(text,
            "127.0.0.1\tlocalhost\n"
            "::1\tlocalhost\n"
            "192.0.2.2\thost.containers.internal\n"
            "127.0.0.1\th n\n");
}

TEST(NetworkFiles, HostsForSlirp4netns) {
  HostNetwork host = sample_host();
  host.hosts = "";
  EXPECT_EQ(hosts_file(host, mode_of(NetworkMode::Kind::slirp4netns), DnsConfig{}, "h", "n"),
            "127.0.0.1\tlocalhost\n::1\tlocalhost\n192.0.2.2\thost.containers.internal\n10.0.2.100\th n\n");
  auto loopback = mode_of(NetworkMode::Kind::slirp4netns, {"allow_host_loopback=true", "cidr=10.0.5.0/24"});
  EXPECT_EQ(hosts_file(host, loopback, DnsConfig{}, "h", "n"),
            "127.0.0.1\tlocalhost\n::1\tlocalhost\n10.0.5.2\thost.containers.internal\n10.0.5.100\th n\n");
}

TEST(NetworkFiles, HostsForTheHostNetworkHasNoContainerEntry) {
  std::string text = hosts_file(sample_host(), mode_of(NetworkMode::Kind::host), DnsConfig{}, "vm", "n");
  // As podman 4.3 with --network host: the host's file and host.containers.internal.
  EXPECT_EQ(text, "127.0.0.1\tlocalhost\n127.0.0.1\tvm\n192.0.2.2\thost.containers.internal\n");
}

TEST(NetworkFiles, HostsUserEntriesWinOverSpecialNames) {
  NetworkFlags flags;
  flags.add_host = {"host.containers.internal:10.0.0.1", "web:10.0.0.2"};
  HostNetwork host = sample_host();
  host.hosts = "";
  std::string text = hosts_file(host, mode_of(NetworkMode::Kind::pasta), parsed(flags), "h", "web");
  EXPECT_EQ(text,
            "10.0.0.1\thost.containers.internal\n10.0.0.2\tweb\n127.0.0.1\tlocalhost\n::1\tlocalhost\n"
            "192.0.2.2\th\n");
}

TEST(NetworkFiles, PastaWithoutMappedGatewayHasNoHostEntry) {
  EXPECT_EQ(host_internal_address(sample_host(), mode_of(NetworkMode::Kind::pasta, {"--no-map-gw"})), "");
  EXPECT_EQ(host_internal_address(sample_host(), mode_of(NetworkMode::Kind::pasta)), "192.0.2.1");
}

TEST(NetworkFiles, ResolvConfForPastaDropsLoopbackServers) {
  auto text = resolv_conf_file(sample_host(), mode_of(NetworkMode::Kind::pasta), DnsConfig{});
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "search corp.example lab.example\nnameserver 10.255.255.53\nnameserver fd00::53\noptions ndots:3\n");
}

TEST(NetworkFiles, ResolvConfForPastaReachesALocalResolverThroughTheGateway) {
  HostNetwork host = sample_host();
  host.resolv_conf = "nameserver 127.0.0.1\nnameserver 192.0.2.2\n";  // the second is the host's own: copied by pasta
  auto text = resolv_conf_file(host, mode_of(NetworkMode::Kind::pasta), DnsConfig{});
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "nameserver 192.0.2.1\n");
  text = resolv_conf_file(host, mode_of(NetworkMode::Kind::pasta, {"--no-map-gw"}), DnsConfig{});
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "");
}

TEST(NetworkFiles, ResolvConfReadsTheUpstreamListBehindAStub) {
  HostNetwork host = sample_host();
  host.resolv_conf = "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n";
  host.upstream_resolv_conf = "nameserver 10.0.0.53\nsearch home.example\n";
  auto text = resolv_conf_file(host, mode_of(NetworkMode::Kind::pasta), DnsConfig{});
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "search home.example\nnameserver 10.0.0.53\n");
  // The host's own namespace reaches the stub itself.
  auto on_host = resolv_conf_file(host, mode_of(NetworkMode::Kind::host), DnsConfig{});
  ASSERT_TRUE(on_host);
  EXPECT_EQ(*on_host, "nameserver 127.0.0.53\noptions edns0 trust-ad\n");
}

TEST(NetworkFiles, ResolvConfForSlirp4netnsPutsItsForwarderFirst) {
  auto text = resolv_conf_file(sample_host(), mode_of(NetworkMode::Kind::slirp4netns), DnsConfig{});
  ASSERT_TRUE(text);
  EXPECT_EQ(*text,
            "search corp.example lab.example\nnameserver 10.0.2.3\nnameserver 10.255.255.53\n"
            "options ndots:3\n");
  auto v6 = resolv_conf_file(sample_host(), mode_of(NetworkMode::Kind::slirp4netns, {"enable_ipv6=true"}), DnsConfig{});
  ASSERT_TRUE(v6);
  EXPECT_NE(v6->find("nameserver fd00::53\n"), std::string::npos);
}

TEST(NetworkFiles, ResolvConfFlagsReplaceTheHostsValues) {
  NetworkFlags flags;
  flags.dns = {"1.1.1.1", "2001:db8::1"};
  flags.dns_search = {"a.example", "b.example"};
  flags.dns_option = {"ndots:2", "timeout:1"};
  auto text = resolv_conf_file(sample_host(), mode_of(NetworkMode::Kind::slirp4netns), parsed(flags));
  ASSERT_TRUE(text);
  EXPECT_EQ(*text,
            "search a.example b.example\nnameserver 1.1.1.1\nnameserver 2001:db8::1\n"
            "options ndots:2 timeout:1\n");
  flags.dns_search = {"."};
  text = resolv_conf_file(sample_host(), mode_of(NetworkMode::Kind::pasta), parsed(flags));
  ASSERT_TRUE(text);
  EXPECT_EQ(text->find("search"), std::string::npos);
}

TEST(NetworkFiles, NoResolvConfOfOursWithoutANetworkOrWithDnsNone) {
  EXPECT_FALSE(resolv_conf_file(sample_host(), mode_of(NetworkMode::Kind::none), DnsConfig{}));
  NetworkFlags flags;
  flags.dns = {"none"};
  EXPECT_FALSE(resolv_conf_file(sample_host(), mode_of(NetworkMode::Kind::pasta), parsed(flags)));
  EXPECT_FALSE(resolv_conf_file(sample_host(), mode_of(NetworkMode::Kind::container, {}, "abc"), DnsConfig{}));
}

TEST(NetworkFiles, BadFlagsSayWhatIsWrong) {
  auto error_of = [](NetworkFlags flags) {
    auto dns = parse_dns_flags(flags);
    return dns ? std::string() : dns.error().message;
  };
  NetworkFlags flags;
  flags.dns = {"1.2.3"};
  EXPECT_NE(error_of(flags).find("1.2.3 is not an ip address"), std::string::npos);
  flags.dns = {"1.2.3.4", "none"};
  EXPECT_NE(error_of(flags).find("none is not allowed to be specified with other DNS ip addresses"), std::string::npos);
  flags = {};
  flags.add_host = {"foo"};
  EXPECT_NE(error_of(flags).find("bad format for add-host: \"foo\""), std::string::npos);
  flags.add_host = {":1.2.3.4"};
  EXPECT_NE(error_of(flags).find("bad format for add-host"), std::string::npos);
  flags.add_host = {"foo:1.2.3"};
  EXPECT_NE(error_of(flags).find("invalid IP address in add-host: \"1.2.3\""), std::string::npos);
  flags.add_host = {"foo:[::1]"};
  EXPECT_NE(error_of(flags).find("invalid IP address"), std::string::npos);
  flags.add_host = {"a:1.2.3.4"};
  flags.no_hosts = true;
  EXPECT_EQ(error_of(flags), "--no-hosts and --add-host cannot be set together");
  flags = {};
  flags.dns_search = {"bad_domain!"};
  EXPECT_NE(error_of(flags).find("bad_domain! is not a valid domain"), std::string::npos);
  flags.dns_search = {".", "a.example"};
  EXPECT_NE(error_of(flags).find("cannot pass additional search domains"), std::string::npos);
  flags = {};
  flags.dns_option = {"ndots:1 rotate"};
  EXPECT_NE(error_of(flags).find("invalid --dns-option"), std::string::npos);
  flags = {};
  flags.add_host = {"fe:fd00::1"};  // split at the first colon: IPv6 works
  EXPECT_EQ(error_of(flags), "");
}

TEST(NetworkFiles, DnsFlagsConflictWithNoNetworkAndSharedNetworks) {
  NetworkFlags flags;
  flags.dns_search = {"a.example"};
  auto none = check_dns_mode(flags, mode_of(NetworkMode::Kind::none));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "conflicting options: dns and the network mode: none");
  EXPECT_FALSE(check_dns_mode(flags, mode_of(NetworkMode::Kind::container, {}, "abc")));
  EXPECT_TRUE(check_dns_mode(flags, mode_of(NetworkMode::Kind::host)));
  flags = {};
  flags.add_host = {"a:1.2.3.4"};
  EXPECT_FALSE(check_dns_mode(flags, mode_of(NetworkMode::Kind::container, {}, "abc")));
  EXPECT_TRUE(check_dns_mode(flags, mode_of(NetworkMode::Kind::none)));
}

TEST(NetworkFiles, DefaultRouteFromProcNetRoute) {
  std::string route =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
      "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
  EXPECT_EQ(default_route4(route), std::make_pair(std::string("eth0"), std::string("192.0.2.1")));
  EXPECT_EQ(default_route4("Iface\tDestination\n"), std::make_pair(std::string(), std::string()));
}

TEST(NetworkFiles, RecordKeepsTheFlagsAndReadsOldRecords) {
  ContainerRecord record;
  record.id = std::string(64, 'a');
  record.dns_servers = {"10.1.2.3"};
  record.dns_search = {"a.example"};
  record.dns_options = {"ndots:2"};
  record.extra_hosts = {"db:10.1.1.1"};
  auto back = record_from_json(record_to_json(record));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->dns_servers, record.dns_servers);
  EXPECT_EQ(back->dns_search, record.dns_search);
  EXPECT_EQ(back->dns_options, record.dns_options);
  EXPECT_EQ(back->extra_hosts, record.extra_hosts);
  auto old = record_from_json(R"({"id":")" + record.id + R"(","name":"x"})");
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_TRUE(old->dns_servers.empty() && old->extra_hosts.empty());
}

}  // namespace
}  // namespace ctr::cmd
