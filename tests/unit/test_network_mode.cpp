// --network: parsing the modes and their options, the helper's command
// line, and the network namespace entry of the spec.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "cmd/network_mode.h"
#include "runtime/base/files.h"
#include "shim/network_helper.h"
#include "shim/options.h"

using namespace ctr;
using namespace ctr::cmd;

namespace {

// Sets (or unsets, with nullptr) an environment variable for one test.
class EnvOverride {
 public:
  EnvOverride(const char* name, const char* value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~EnvOverride() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Both helpers "installed": /bin/true stands in for them.
struct FakeHelpers {
  EnvOverride pasta{"CTR_PASTA_BIN", "/bin/true"};
  EnvOverride slirp{"CTR_SLIRP4NETNS_BIN", "/bin/true"};
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST(NetworkMode, DefaultAndPrivatePickPastaThenSlirp) {
  FakeHelpers helpers;
  for (const char* text : {"", "private"}) {
    auto mode = parse_network_mode(text);
    ASSERT_TRUE(mode) << mode.error().message;
    EXPECT_EQ(mode->kind, NetworkMode::Kind::pasta);
    EXPECT_EQ(network_mode_name(*mode), "pasta");
  }
  EnvOverride no_pasta("CTR_PASTA_BIN", "/nonexistent/pasta");
  auto mode = parse_network_mode("");
  ASSERT_TRUE(mode) << mode.error().message;
  EXPECT_EQ(mode->kind, NetworkMode::Kind::slirp4netns);
}

TEST(NetworkMode, NoHelperInstalledNamesThePackages) {
  EnvOverride pasta("CTR_PASTA_BIN", "/nonexistent/pasta");
  EnvOverride slirp("CTR_SLIRP4NETNS_BIN", "/nonexistent/slirp4netns");
  auto mode = parse_network_mode("");
  ASSERT_FALSE(mode);
  EXPECT_NE(mode.error().message.find("install the passt package (pasta) or slirp4netns"), std::string::npos);
  auto explicit_pasta = parse_network_mode("pasta");
  ASSERT_FALSE(explicit_pasta);
  EXPECT_NE(explicit_pasta.error().message.find("passt package"), std::string::npos);
  auto explicit_slirp = parse_network_mode("slirp4netns");
  ASSERT_FALSE(explicit_slirp);
  EXPECT_NE(explicit_slirp.error().message.find("slirp4netns package"), std::string::npos);
  // Modes without a helper need none.
  EXPECT_TRUE(parse_network_mode("none"));
  EXPECT_TRUE(parse_network_mode("host"));
}

TEST(NetworkMode, SimpleModes) {
  auto none = parse_network_mode("none");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->kind, NetworkMode::Kind::none);
  auto host = parse_network_mode("host");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->kind, NetworkMode::Kind::host);
  EXPECT_EQ(network_mode_name(*host), "host");
  auto container = parse_network_mode("container:web");
  ASSERT_TRUE(container);
  EXPECT_EQ(container->kind, NetworkMode::Kind::container);
  EXPECT_EQ(container->target, "web");
  EXPECT_EQ(network_mode_name(*container), "container:web");
  auto ns = parse_network_mode("ns:/proc/self/ns/net");
  ASSERT_TRUE(ns) << ns.error().message;
  EXPECT_EQ(ns->kind, NetworkMode::Kind::ns);
  EXPECT_EQ(network_mode_name(*ns), "ns:/proc/self/ns/net");
}

TEST(NetworkMode, BadModesSayWhatIsSupported) {
  for (const char* text : {"bridge", "bogus", "container:", "ns:", "ns:relative", "none:x", "host:y"}) {
    auto mode = parse_network_mode(text);
    ASSERT_FALSE(mode) << text;
  }
  auto bridge = parse_network_mode("bridge");
  EXPECT_NE(bridge.error().message.find("rootless ctr has no bridge networks"), std::string::npos);
  EXPECT_NE(bridge.error().message.find("pasta"), std::string::npos);
  auto bogus = parse_network_mode("bogus");
  EXPECT_NE(bogus.error().message.find("unknown network mode"), std::string::npos);
  EXPECT_NE(bogus.error().message.find("container:NAME|ID"), std::string::npos);
  auto missing = parse_network_mode("ns:/nonexistent/netns");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no such network namespace file"), std::string::npos);
}

TEST(NetworkMode, Slirp4netnsOptionsMapToItsFlags) {
  FakeHelpers helpers;
  auto plain = parse_network_mode("slirp4netns");
  ASSERT_TRUE(plain);
  auto args = network_helper_arguments(*plain);
  ASSERT_TRUE(args);
  EXPECT_EQ(*args, (std::vector<std::string>{"--mtu=65520", "--disable-host-loopback"}));

  auto mode = parse_network_mode("slirp4netns:allow_host_loopback=true,mtu=1500,cidr=10.5.0.0/24,enable_ipv6=true,"
                                 "port_handler=slirp4netns");
  ASSERT_TRUE(mode) << mode.error().message;
  EXPECT_EQ(mode->options.size(), 5u);
  args = network_helper_arguments(*mode);
  ASSERT_TRUE(args);
  EXPECT_EQ(*args, (std::vector<std::string>{"--mtu=1500", "--enable-ipv6", "--cidr=10.5.0.0/24"}));

  for (const char* bad : {"slirp4netns:allow_host_loopback=maybe", "slirp4netns:mtu=10", "slirp4netns:mtu=x",
                          "slirp4netns:cidr=10.0.0.1", "slirp4netns:outbound_addr=eth0", "slirp4netns:mtu",
                          "slirp4netns:port_handler=other"})
    EXPECT_FALSE(parse_network_mode(bad)) << bad;
  auto rootlessport = parse_network_mode("slirp4netns:port_handler=rootlessport");
  ASSERT_FALSE(rootlessport);
  EXPECT_NE(rootlessport.error().message.find("use rootlesskit (ctr's port proxy, the default) or slirp4netns"),
            std::string::npos);
}

TEST(NetworkMode, PortHandlerGoesToTheShimNotToSlirp4netns) {
  FakeHelpers helpers;
  auto plain = parse_network_mode("slirp4netns");
  ASSERT_TRUE(plain);
  EXPECT_EQ(slirp4netns_port_handler(*plain), "");
  auto own = parse_network_mode("slirp4netns:port_handler=slirp4netns");
  ASSERT_TRUE(own);
  EXPECT_EQ(slirp4netns_port_handler(*own), "slirp4netns");
  EXPECT_EQ(*network_helper_arguments(*own), (std::vector<std::string>{"--mtu=65520", "--disable-host-loopback"}));
  auto kit = parse_network_mode("slirp4netns:port_handler=rootlesskit");
  ASSERT_TRUE(kit);
  EXPECT_EQ(slirp4netns_port_handler(*kit), "rootlesskit");
  auto pasta = parse_network_mode("pasta");
  ASSERT_TRUE(pasta);
  EXPECT_EQ(slirp4netns_port_handler(*pasta), "");
}

TEST(NetworkMode, PastaOptionsPassThroughButNotOurs) {
  FakeHelpers helpers;
  auto mode = parse_network_mode("pasta:--mtu,1500,--map-gw");
  ASSERT_TRUE(mode) << mode.error().message;
  auto args = network_helper_arguments(*mode);
  ASSERT_TRUE(args);
  EXPECT_EQ(*args, (std::vector<std::string>{"--mtu", "1500"}));
  for (const char* bad : {"pasta:--netns,/x", "pasta:-f", "pasta:--pid=/tmp/x", "pasta:--userns,/x"}) {
    auto refused = parse_network_mode(bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().message.find("ctr-shim sets it"), std::string::npos);
  }
}

TEST(NetworkMode, RecordRoundTrip) {
  for (const char* name : {"pasta", "slirp4netns", "none", "host", "container:abc", "ns:/run/netns/x"})
    EXPECT_EQ(network_mode_name(record_network_mode(name, {})), name);
  EXPECT_EQ(record_network_mode("", {}).kind, NetworkMode::Kind::none);  // from before networking
  EXPECT_EQ(record_network_mode("slirp4netns", {"mtu=1500"}).options, std::vector<std::string>{"mtu=1500"});
}

TEST(NetworkMode, SetSpecNetworkPathRewritesTheEntry) {
  char dir[] = "/tmp/ctr-netmode-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string bundle = dir;
  ASSERT_TRUE(write_file_atomic(bundle + "/config.json",
                                R"({"linux":{"namespaces":[{"type":"pid"},{"type":"network"}]}})"));
  ASSERT_TRUE(set_spec_network_path(bundle, "/proc/42/ns/net"));
  auto spec = nlohmann::json::parse(*read_file(bundle + "/config.json"));
  EXPECT_EQ(spec["linux"]["namespaces"][1]["path"], "/proc/42/ns/net");
  EXPECT_FALSE(spec["linux"]["namespaces"][0].contains("path"));
  (void)remove_tree(bundle);
}

TEST(NetworkHelperArgv, PastaForwardsNothingUnlessAsked) {
  shim::NetworkHelperConfig config;
  config.kind = "pasta";
  config.binary = "/usr/bin/pasta";
  auto argv = shim::pasta_argv(config, "/run/x/pasta.pid", 3);
  EXPECT_EQ(argv.front(), "/usr/bin/pasta");
  EXPECT_EQ(argv[1], "--config-net");
  for (const char* flag : {"-t", "-u", "-T", "-U"}) {
    auto it = std::find(argv.begin(), argv.end(), flag);
    ASSERT_NE(it, argv.end()) << flag;
    EXPECT_EQ(*(it + 1), "none");
  }
  EXPECT_TRUE(contains(argv, "--quiet"));
  EXPECT_EQ(argv[argv.size() - 2], "--netns");
  EXPECT_EQ(argv.back(), "/proc/self/fd/3");
  EXPECT_FALSE(contains(argv, "--no-map-gw"));  // the gateway reaches the host (host.containers.internal)
  EXPECT_FALSE(contains(argv, "--runas"));
  config.real_root = true;  // pasta would drop to nobody, who cannot enter root's namespace
  argv = shim::pasta_argv(config, "/run/x/pasta.pid", 3);
  auto runas = std::find(argv.begin(), argv.end(), "--runas");
  ASSERT_NE(runas, argv.end());
  EXPECT_EQ(*(runas + 1), "0:0");
  config.real_root = false;

  config.args = {"-T", "8080"};
  argv = shim::pasta_argv(config, "/run/x/pasta.pid", 3);
  auto t_ns = std::find(argv.begin(), argv.end(), "-T");
  ASSERT_NE(t_ns, argv.end());
  EXPECT_EQ(*(t_ns + 1), "8080");
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "-T"), 1);
}

TEST(NetworkHelperArgv, Slirp4netns) {
  shim::NetworkHelperConfig config;
  config.kind = "slirp4netns";
  config.binary = "/usr/bin/slirp4netns";
  config.state_dir = "/run/x";
  config.args = {"--mtu=65520", "--disable-host-loopback"};
  auto argv = shim::slirp4netns_argv(config, 3, 4, 5);
  for (const char* flag : {"--configure", "--ready-fd=4", "--exit-fd=5", "--mtu=65520", "--disable-host-loopback",
                           "--enable-sandbox", "--netns-type=path"})
    EXPECT_TRUE(contains(argv, flag)) << flag;
  auto api = std::find(argv.begin(), argv.end(), "--api-socket");
  ASSERT_NE(api, argv.end());
  EXPECT_EQ(*(api + 1), "slirp4netns.sock");  // relative: it runs in the state directory
  EXPECT_EQ(argv[argv.size() - 2], "/proc/self/fd/3");
  EXPECT_EQ(argv.back(), "tap0");
}

TEST(NetworkHelperShimOptions, ParsedAndValidated) {
  char dir[] = "/tmp/ctr-netopt-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string state = dir;
  ASSERT_TRUE(write_file_atomic(state + "/config.json", "{}"));
  std::vector<std::string> base{"--id", "c1", "--bundle", state, "--state-dir", state, "--runtime", "/bin/true",
                                "--log-driver", "none"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return shim::parse_options(args, "/bin/ctr-shim");
  };
  auto ok = with({"--network-helper", "pasta", "--network-helper-bin", "/bin/true", "--network-helper-arg", "-T",
                  "--network-helper-arg", "8080"});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->network_helper, "pasta");
  EXPECT_EQ(ok->network_helper_args, (std::vector<std::string>{"-T", "8080"}));
  EXPECT_FALSE(with({"--network-helper", "vde"}));
  EXPECT_FALSE(with({"--network-helper", "pasta", "--network-helper-bin", "/nonexistent"}));
  EXPECT_FALSE(with({"--network-helper-arg", "-T"}));  // without a helper
  auto slirp = with({"--network-helper", "slirp4netns", "--network-helper-bin", "/bin/true", "--port-handler",
                     "slirp4netns"});
  ASSERT_TRUE(slirp) << slirp.error().message;
  EXPECT_EQ(slirp->port_handler, "slirp4netns");
  EXPECT_TRUE(with({"--network-helper", "slirp4netns", "--network-helper-bin", "/bin/true", "--port-handler",
                    "rootlesskit"}));
  auto unknown = with({"--network-helper", "slirp4netns", "--network-helper-bin", "/bin/true", "--port-handler", "x"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown --port-handler \"x\""), std::string::npos);
  auto pasta = with({"--network-helper", "pasta", "--network-helper-bin", "/bin/true", "--port-handler", "slirp4netns"});
  ASSERT_FALSE(pasta);
  EXPECT_NE(pasta.error().message.find("pasta forwards its ports itself"), std::string::npos);
  EXPECT_FALSE(with({"--port-handler", "slirp4netns"}));  // without a helper
  (void)remove_tree(state);
}
