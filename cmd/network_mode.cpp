#include "cmd/network_mode.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cmd/network_flags.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

constexpr const char* kModes =
    "pasta[:OPTIONS], slirp4netns[:OPTIONS], private (pasta, else slirp4netns), none, host, container:NAME|ID or "
    "ns:PATH";
constexpr const char* kInstall = "install the passt package (pasta) or slirp4netns, or use --network=none";

Error bad(const std::string& message) {
  return make_error(message, EINVAL);
}

bool executable_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

Result<bool> boolean(const std::string& key, const std::string& value) {
  if (value == "true") return true;
  if (value == "false") return false;
  return bad("--network slirp4netns: " + key + "=`" + value + "`: use true or false");
}

// podman's slirp4netns options, as slirp4netns flags (podman's defaults:
// host loopback not reachable, MTU 65520, no IPv6).
Result<std::vector<std::string>> slirp4netns_arguments(const std::vector<std::string>& options) {
  bool allow_loopback = false, ipv6 = false;
  std::string mtu = "65520", cidr;
  for (const auto& option : options) {
    auto eq = option.find('=');
    std::string key = option.substr(0, eq), value = eq == std::string::npos ? "" : option.substr(eq + 1);
    if (eq == std::string::npos || value.empty())
      return bad("--network slirp4netns: option `" + option + "` needs a value (KEY=VALUE)");
    if (key == "allow_host_loopback") {
      TRY_ASSIGN(b, boolean(key, value));
      allow_loopback = b;
    } else if (key == "enable_ipv6") {
      TRY_ASSIGN(b, boolean(key, value));
      ipv6 = b;
    } else if (key == "mtu") {
      auto n = parse_u64(value);
      if (!n || *n < 68 || *n > 65521) return bad("--network slirp4netns: mtu=`" + value + "`: use 68 to 65521");
      mtu = value;
    } else if (key == "cidr") {
      auto slash = value.find('/');
      auto bits = slash == std::string::npos ? std::nullopt : parse_u64(value.substr(slash + 1));
      if (!bits || *bits > 30 || value.find(':') != std::string::npos)
        return bad("--network slirp4netns: cidr=`" + value + "`: use an IPv4 range like 10.0.2.0/24");
      cidr = value;
    } else if (key == "port_handler") {
      if (value != "rootlesskit" && value != "slirp4netns")
        return bad("--network slirp4netns: port_handler=`" + value +
                   "`: use rootlesskit (ctr's port proxy, the default) or slirp4netns");
    } else {
      return bad("--network slirp4netns: unsupported option `" + key +
                 "`: ctr supports allow_host_loopback=, enable_ipv6=, mtu=, cidr= and port_handler=");
    }
  }
  std::vector<std::string> args{"--mtu=" + mtu};
  if (!allow_loopback) args.push_back("--disable-host-loopback");
  if (ipv6) args.push_back("--enable-ipv6");
  if (!cidr.empty()) args.push_back("--cidr=" + cidr);
  return args;
}

// pasta's own options pass through, except those with which the shim
// runs it (which namespace, where its pid goes, that it daemonizes).
Result<std::vector<std::string>> pasta_arguments(const std::vector<std::string>& options) {
  static const char* const kOurs[] = {"--netns", "--userns", "--netns-only", "-P", "--pid", "-f", "--foreground",
                                      "--no-netns-quit", "-h", "--help", "--version"};
  std::vector<std::string> args;
  for (const auto& option : options) {
    std::string name = option.substr(0, option.find('='));
    for (const char* ours : kOurs)
      if (name == ours)
        return bad("--network pasta: option `" + option + "` cannot be given: ctr-shim sets it when it runs pasta");
    if (option == "--map-gw") continue;  // podman's spelling of pasta's default (ctr keeps the gateway mapped)
    args.push_back(option);
  }
  return args;
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path && *path ? path : "/usr/local/bin:/usr/bin:/bin", ':'))
    if (!dir.empty() && executable_file(dir + "/" + name)) return dir + "/" + name;
  return {};
}

Status require_helper(NetworkMode::Kind kind) {
  if (!network_helper_binary(kind).empty()) return {};
  bool pasta = kind == NetworkMode::Kind::pasta;
  const char* env = pasta ? "CTR_PASTA_BIN" : "CTR_SLIRP4NETNS_BIN";
  const char* value = std::getenv(env);
  std::string where = value && *value ? std::string("$") + env + " names `" + value + "`, which is not an executable"
                                      : std::string("not found in $PATH");
  return make_error(std::string("--network ") + (pasta ? "pasta" : "slirp4netns") + ": " +
                        (pasta ? "pasta" : "slirp4netns") + " is " + where + ": " +
                        (pasta ? "install the passt package (pasta), or use --network=slirp4netns or none"
                               : "install the slirp4netns package, or use --network=pasta or none"),
                    ENOENT);
}

}  // namespace

std::string network_helper_binary(NetworkMode::Kind kind) {
  bool pasta = kind == NetworkMode::Kind::pasta;
  if (const char* value = std::getenv(pasta ? "CTR_PASTA_BIN" : "CTR_SLIRP4NETNS_BIN"); value && *value)
    return executable_file(value) ? value : "";
  if (kind != NetworkMode::Kind::pasta && kind != NetworkMode::Kind::slirp4netns) return {};
  return find_in_path(pasta ? "pasta" : "slirp4netns");
}

bool uses_network_helper(const NetworkMode& mode) {
  return mode.kind == NetworkMode::Kind::pasta || mode.kind == NetworkMode::Kind::slirp4netns;
}

std::string slirp4netns_port_handler(const NetworkMode& mode) {
  if (mode.kind != NetworkMode::Kind::slirp4netns) return {};
  std::string handler;
  for (const auto& option : mode.options)
    if (starts_with(option, "port_handler=")) handler = option.substr(13);
  return handler;
}

Result<std::vector<std::string>> network_helper_arguments(const NetworkMode& mode) {
  if (mode.kind == NetworkMode::Kind::slirp4netns) return slirp4netns_arguments(mode.options);
  if (mode.kind == NetworkMode::Kind::pasta) return pasta_arguments(mode.options);
  return std::vector<std::string>{};
}

Result<NetworkMode> parse_network_mode(const std::string& text) {
  NetworkMode mode;
  auto colon = text.find(':');
  std::string name = text.substr(0, colon), rest = colon == std::string::npos ? "" : text.substr(colon + 1);
  bool has_rest = colon != std::string::npos;
  if (name.empty() || name == "private") {
    if (has_rest) return bad("--network " + text + ": " + (name.empty() ? "a mode" : name) + " takes no options");
    if (!network_helper_binary(NetworkMode::Kind::pasta).empty())
      mode.kind = NetworkMode::Kind::pasta;
    else if (!network_helper_binary(NetworkMode::Kind::slirp4netns).empty())
      mode.kind = NetworkMode::Kind::slirp4netns;
    else
      return make_error("a private network needs a user-mode network helper and neither pasta nor slirp4netns is "
                        "installed: " + std::string(kInstall),
                        ENOENT);
    return mode;
  }
  if (name == "pasta" || name == "slirp4netns") {
    mode.kind = name == "pasta" ? NetworkMode::Kind::pasta : NetworkMode::Kind::slirp4netns;
    if (has_rest) {
      for (auto& option : split(rest, ',')) {
        if (option.empty()) return bad("--network " + text + ": empty option");
        mode.options.push_back(option);
      }
    }
    TRY(network_helper_arguments(mode));
    TRY(require_helper(mode.kind));
    return mode;
  }
  if (name == "none" || name == "host") {
    if (has_rest) return bad("--network " + text + ": " + name + " takes no options");
    mode.kind = name == "none" ? NetworkMode::Kind::none : NetworkMode::Kind::host;
    return mode;
  }
  if (name == "container") {
    if (rest.empty()) return bad("--network container: needs a container: container:NAME|ID");
    mode.kind = NetworkMode::Kind::container;
    mode.target = rest;
    return mode;
  }
  if (name == "ns") {
    if (rest.empty() || rest[0] != '/') return bad("--network ns: needs an absolute path: ns:PATH");
    if (!path_exists(rest))
      return make_error("--network ns:" + rest + ": no such network namespace file: give the path of an existing one",
                        ENOENT);
    mode.kind = NetworkMode::Kind::ns;
    mode.target = rest;
    return mode;
  }
  if (name == "bridge" || name == "slirp" || name == "default")
    return bad("--network " + text + ": rootless ctr has no bridge networks: use " + kModes);
  return bad("--network " + text + ": unknown network mode: use " + kModes);
}

const char* network_kind_name(NetworkMode::Kind kind) {
  switch (kind) {
    case NetworkMode::Kind::pasta:
      return "pasta";
    case NetworkMode::Kind::slirp4netns:
      return "slirp4netns";
    case NetworkMode::Kind::none:
      return "none";
    case NetworkMode::Kind::host:
      return "host";
    case NetworkMode::Kind::container:
      return "container";
    case NetworkMode::Kind::ns:
      return "ns";
  }
  return "none";
}

std::string network_mode_name(const NetworkMode& mode) {
  std::string name = network_kind_name(mode.kind);
  if (mode.kind == NetworkMode::Kind::container || mode.kind == NetworkMode::Kind::ns) name += ":" + mode.target;
  return name;
}

NetworkMode record_network_mode(const std::string& name, const std::vector<std::string>& options) {
  NetworkMode mode;
  mode.options = options;
  if (name == "pasta") mode.kind = NetworkMode::Kind::pasta;
  if (name == "slirp4netns") mode.kind = NetworkMode::Kind::slirp4netns;
  if (name == "host") mode.kind = NetworkMode::Kind::host;
  if (starts_with(name, "container:")) {
    mode.kind = NetworkMode::Kind::container;
    mode.target = name.substr(10);
  }
  if (starts_with(name, "ns:")) {
    mode.kind = NetworkMode::Kind::ns;
    mode.target = name.substr(3);
  }
  return mode;
}

Status set_spec_network_path(const std::string& bundle, const std::string& path) {
  std::string file = bundle + "/config.json";
  TRY_ASSIGN(text, read_file(file));
  try {
    auto spec = nlohmann::ordered_json::parse(text);
    bool found = false;
    for (auto& ns : spec.at("linux").at("namespaces"))
      if (ns.value("type", "") == "network") {
        ns["path"] = path;
        found = true;
      }
    if (!found) spec["linux"]["namespaces"].push_back({{"type", "network"}, {"path", path}});
    return write_file_atomic(file, spec.dump(2) + "\n", 0600);
  } catch (const std::exception& error) {
    return make_error("`" + file + "`: " + error.what(), EINVAL);
  }
}

void add_network_mode_flags(Cli& cli, CLI::App& sub, NetworkFlags& flags) {
  cli.value(sub, "--network,--net", flags.network,
            "Network: pasta[:OPTIONS] or slirp4netns[:OPTIONS] (a private namespace; private, the default, picks "
            "pasta, else slirp4netns), none (loopback only), host, container:NAME|ID, ns:PATH",
            Completer::fixed, {"pasta", "slirp4netns", "private", "none", "host", "container:", "ns:"});
}

}  // namespace ctr::cmd
