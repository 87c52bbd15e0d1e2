// -p/--publish, -P/--publish-all and --expose: podman's spec grammar and
// messages (pkg/specgenutil CreatePortBindings, 4.3), each error naming the
// spec; the checks podman leaves to start time or only warns about (a
// network that cannot publish, sctp, one host port twice) are errors here,
// before anything is made.
#include "cmd/publish.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>

#include "runtime/base/strings.h"
#include "runtime/base/unique_fd.h"

namespace ctr::cmd {
namespace {

using shim::PortMapping;

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

Result<uint16_t> parse_port_number(const std::string& text) {
  auto number = parse_u64(text);
  if (!number) return make_error("invalid port number \"" + text + "\"", EINVAL);
  if (*number < 1 || *number > 65535)
    return make_error("port numbers must be between 1 and 65535 (inclusive), got " + text, EINVAL);
  return static_cast<uint16_t>(*number);
}

struct PortRange {
  uint16_t first = 0, count = 1;
};

// podman's parseAndValidateRange: "80" or "80-82".
Result<PortRange> parse_port_range(const std::string& text) {
  auto parts = split(text, '-');
  if (parts.size() > 2)
    return make_error("invalid port format - port ranges are formatted as startPort-stopPort", EINVAL);
  if (parts[0].empty()) return make_error("port numbers cannot be negative", EINVAL);
  TRY_ASSIGN(first, parse_port_number(parts[0]));
  PortRange range{first, 1};
  if (parts.size() == 2) {
    if (parts[1].empty()) return make_error("must provide ending number for port range", EINVAL);
    TRY_ASSIGN(last, parse_port_number(parts[1]));
    if (last <= first)
      return make_error("the end port of a range must be higher than the start port - " + std::to_string(last) +
                            " is not higher than " + std::to_string(first),
                        EINVAL);
    range.count = static_cast<uint16_t>(last - first + 1);
  }
  return range;
}

Result<std::string> parse_protocol(const std::string& text, bool allow_sctp) {
  std::string protocol = lower(text);
  if (protocol == "tcp" || protocol == "udp") return protocol;
  if (protocol == "sctp") {
    if (allow_sctp) return protocol;
    return make_error("sctp cannot be published: pasta and slirp4netns forward tcp and udp only", ENOTSUP);
  }
  return make_error("unknown protocol \"" + text + "\": use tcp or udp", EINVAL);
}

// The address in the canonical spelling (podman: net.ParseIP().String()).
Result<std::string> parse_host_ip(const std::string& text) {
  unsigned char buffer[16];
  char out[INET6_ADDRSTRLEN];
  int family = text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (::inet_pton(family, text.c_str(), buffer) != 1 || !::inet_ntop(family, buffer, out, sizeof out))
    return make_error("cannot parse \"" + text + "\" as an IP address", EINVAL);
  return std::string(out);
}

// The body of parse_publish_spec; its errors get the spec in front.
Result<PortMapping> parse_spec(const std::string& spec) {
  PortMapping m;
  m.host_ip = kDefaultHostIp;
  auto by_proto = split(spec, '/');
  if (by_proto.size() > 2) return make_error("invalid port format - protocol can only be specified once", EINVAL);
  if (by_proto.size() == 2) {
    if (by_proto[1].empty()) return make_error("must provide a non-empty protocol to publish", EINVAL);
    TRY_ASSIGN(protocol, parse_protocol(by_proto[1], false));
    m.protocol = protocol;
  }
  std::string rest = by_proto[0];
  std::optional<std::string> host_ip, host_port;
  bool v6 = false;
  auto by_bracket = split(rest, ']');
  if (by_bracket.size() > 2)
    return make_error("invalid port format - at most one IPv6 address can be specified in a --publish", EINVAL);
  if (by_bracket.size() == 2) {
    v6 = true;
    if (!starts_with(by_bracket[0], "["))
      return make_error("invalid port format - IPv6 addresses must be enclosed by []", EINVAL);
    if (!starts_with(by_bracket[1], ":"))
      return make_error("invalid port format - IPv6 address must be followed by a colon (':')", EINVAL);
    host_ip = by_bracket[0].substr(1);
    rest = by_bracket[1].substr(1);
  }
  auto parts = split(rest, ':');
  std::string container_port;
  if (parts.size() == 1) {
    if (v6)
      return make_error("invalid port format - must provide host and destination port if specifying an IP", EINVAL);
    container_port = parts[0];
  } else if (parts.size() == 2) {
    host_port = parts[0], container_port = parts[1];
  } else if (parts.size() == 3 && !v6) {
    host_ip = parts[0], host_port = parts[1], container_port = parts[2];
  } else if (parts.size() == 3) {
    return make_error("invalid port format - when v6 address specified, must be [ipv6]:hostPort:ctrPort", EINVAL);
  } else {
    return make_error("invalid port format - format is [[hostIP:]hostPort:]containerPort", EINVAL);
  }
  if (container_port.empty()) return make_error("must provide a non-empty container port to publish", EINVAL);
  auto container = parse_port_range(container_port);
  if (!container) return std::move(container).error().context("parsing container port");
  m.container_port = container->first, m.range = container->count;
  if (host_ip) {
    if (host_ip->empty()) return make_error("must provide a non-empty container host IP to publish", EINVAL);
    TRY_ASSIGN(ip, parse_host_ip(*host_ip));
    m.host_ip = ip;
  }
  if (host_port && !host_port->empty()) {
    auto host = parse_port_range(*host_port);
    if (!host) return std::move(host).error().context("parsing host port");
    if (host->count != container->count)
      return make_error("host and container port ranges have different lengths: " + std::to_string(host->count) +
                            " vs " + std::to_string(container->count),
                        EINVAL);
    m.host_port = host->first;
  }
  if (m.container_last() > 65535 || m.host_last() > 65535) return make_error("the port range goes past 65535", EINVAL);
  return m;
}

bool overlap(unsigned a_first, unsigned a_last, unsigned b_first, unsigned b_last) {
  return a_first <= b_last && b_first <= a_last;
}

// Host ports of one protocol are one space for pasta, whatever the address
// (it refuses "overlapping port specifier"), so the same port twice is an
// error even on two addresses.
Status check_no_duplicates(const std::vector<PortMapping>& ports) {
  for (size_t i = 0; i < ports.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      const auto &a = ports[i], &b = ports[j];
      if (a.protocol != b.protocol || !a.host_port || !b.host_port) continue;
      if (overlap(a.host_port, a.host_last(), b.host_port, b.host_last()))
        return make_error("--publish " + shim::format_port_mapping(a) + ": host port " +
                              std::to_string(std::max<unsigned>(a.host_port, b.host_port)) + "/" + a.protocol +
                              " is already published by " + shim::format_port_mapping(b) +
                              ": each host port can be published once",
                          EINVAL);
    }
  return {};
}

// The modes whose namespace ctr does not connect through a helper.
Status check_network(const std::string& network, const std::vector<std::string>& options,
                     const std::vector<PortMapping>& ports, bool publish_all) {
  std::string mode = network.substr(0, network.find(':'));
  std::string why;
  if (mode == "none") why = "the container has no network but its loopback";
  if (mode == "host") why = "the container uses the host's network, so its ports are the host's already";
  if (mode == "container") why = "the container uses another container's network: publish the ports on that one";
  if (mode == "ns") why = "the container joins a network namespace that ctr does not connect to the host";
  if (!why.empty() && (!ports.empty() || publish_all))
    return make_error(std::string(publish_all && ports.empty() ? "-P/--publish-all" : "-p/--publish") +
                          " cannot be used with --network " + network + ": " + why,
                      EINVAL);
  // ctr's port proxy (slirp4netns's default port_handler) takes IPv6 host addresses.
  bool slirp_forwards = std::find(options.begin(), options.end(), "port_handler=slirp4netns") != options.end();
  if (mode == "slirp4netns" && slirp_forwards)
    for (const auto& m : ports)
      if (m.ipv6())
        return make_error("--publish " + shim::format_port_mapping(m) +
                              ": slirp4netns forwards IPv4 host addresses only: use port_handler=rootlesskit (the "
                              "default) or --network pasta for IPv6",
                          EAFNOSUPPORT);
  return {};
}

unsigned bound_port(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return 0;
  if (storage.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
}

std::string port_text(const PortMapping& m, unsigned offset) {
  return m.host_address() + ":" + std::to_string(m.host_port + offset) + "/" + m.protocol;
}

// Why `bind` refused a published port, and what to do.
Error port_unusable(const PortMapping& m, unsigned offset, const Error& bind_error, const std::string& container) {
  std::string port = port_text(m, offset);
  std::string of = container.empty() ? "" : " (container " + container + ")";
  if (bind_error.code == EADDRINUSE)
    return make_error(
        port + " is already in use: " + bind_error.message + of + ": stop what holds it, or publish another host port",
        EADDRINUSE);
  if (bind_error.code == EACCES)
    return make_error("cannot publish " + port + of + ": " + bind_error.message +
                          ": host ports below net.ipv4.ip_unprivileged_port_start (usually 1024) need privileges; "
                          "publish a higher host port",
                      EACCES);
  if (bind_error.code == EADDRNOTAVAIL)
    return make_error("cannot publish " + port + of + ": " + bind_error.message + ": " + m.host_ip +
                          " is not an address of this host",
                      EADDRNOTAVAIL);
  return bind_error.context("cannot publish " + port + of);
}

// A free run of `m.range` ports on m's address, not overlapping `taken`
// (the explicit host ports of the same container); the sockets are held.
Status pick_free_range(PortMapping& m, const std::vector<PortMapping>& taken, std::vector<UniqueFd>& held) {
  Error last_error = make_error("no free port found", EADDRINUSE);
  for (int attempt = 0; attempt < 64; ++attempt) {
    auto first = shim::bind_host_port(m.host_ip, 0, m.protocol, false);
    if (!first) return port_unusable(m, 0, first.error(), "");
    unsigned port = bound_port(first->get());
    if (port == 0 || port + m.range - 1 > 65535) continue;
    bool clash = false;
    for (const auto& other : taken)
      if (other.protocol == m.protocol && other.host_port &&
          overlap(port, port + m.range - 1, other.host_port, other.host_last()))
        clash = true;
    std::vector<UniqueFd> run;
    run.push_back(std::move(*first));
    for (unsigned next = port + 1; !clash && next < port + m.range; ++next) {
      auto fd = shim::bind_host_port(m.host_ip, next, m.protocol, false);
      if (!fd) {
        last_error = fd.error();
        clash = true;
        break;
      }
      run.push_back(std::move(*fd));
    }
    if (clash) continue;
    m.host_port = static_cast<uint16_t>(port);
    for (auto& fd : run) held.push_back(std::move(fd));
    return {};
  }
  return last_error.context("--publish " + shim::format_port_mapping(m) + ": no free host port range of " +
                            std::to_string(m.range) + " found");
}

bool has_mapping_for(const std::vector<PortMapping>& ports, unsigned port, const std::string& protocol) {
  for (const auto& m : ports)
    if (m.protocol == protocol && port >= m.container_port && port <= m.container_last()) return true;
  return false;
}

// Sorted as podman shows them: tcp first, then by container and host port.
std::vector<PortMapping> sorted(std::vector<PortMapping> ports) {
  std::stable_sort(ports.begin(), ports.end(), [](const PortMapping& a, const PortMapping& b) {
    return std::tie(a.protocol, a.container_port, a.host_port) < std::tie(b.protocol, b.container_port, b.host_port);
  });
  return ports;
}

}  // namespace

void add_publish_flags(Cli& cli, CLI::App& sub, NetworkFlags& flags) {
  cli.value(sub, "-p,--publish", flags.publish,
            "Publish a container's port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp] (ranges with -; "
            "the host address defaults to 127.0.0.1, a missing host port is picked free)",
            Completer::none);
  sub.add_flag("-P,--publish-all", flags.publish_all,
               "Publish every exposed port (the image's and --expose) on free host ports of 127.0.0.1");
  cli.value(sub, "--expose", flags.expose, "Expose a port or a range of ports: PORT[-LAST][/tcp|/udp]",
            Completer::none);
}

Result<PortMapping> parse_publish_spec(const std::string& spec) {
  auto parsed = parse_spec(spec);
  if (!parsed) return std::move(parsed).error().context("--publish " + spec);
  return parsed;
}

Result<std::vector<ExposedPort>> parse_expose(const std::string& text) {
  auto by_proto = split(text, '/');
  auto bad = [&](const Error& error) { return error.context("--expose " + text); };
  if (by_proto.size() > 2 || by_proto[0].empty())
    return bad(make_error("invalid format: use PORT[-LAST][/PROTOCOL]", EINVAL));
  std::string protocol = "tcp";
  if (by_proto.size() == 2) {
    auto parsed = parse_protocol(by_proto[1], true);
    if (!parsed) return bad(parsed.error());
    protocol = *parsed;
  }
  auto range = parse_port_range(by_proto[0]);
  if (!range) return bad(range.error());
  std::vector<ExposedPort> out;
  for (unsigned i = 0; i < range->count; ++i)
    out.push_back(ExposedPort{static_cast<uint16_t>(range->first + i), protocol});
  return out;
}

Result<ExposedPort> parse_image_exposed_port(const std::string& key) {
  auto by_proto = split(key, '/');
  std::string protocol = by_proto.size() == 2 ? lower(by_proto[1]) : "tcp";
  auto bad = make_error("the image exposes port \"" + key + "\", which is not PORT[/tcp|/udp|/sctp]", EINVAL);
  if (by_proto.size() > 2 || (protocol != "tcp" && protocol != "udp" && protocol != "sctp")) return bad;
  auto number = parse_port_number(by_proto[0]);
  if (!number) return bad;
  return ExposedPort{*number, protocol};
}

std::vector<std::string> image_exposed_ports(const std::string& config_json) {
  std::vector<std::string> keys;
  try {
    auto doc = nlohmann::json::parse(config_json);
    auto config = doc.find("config");
    if (config == doc.end() || !config->is_object()) return keys;
    auto exposed = config->find("ExposedPorts");
    if (exposed == config->end() || !exposed->is_object()) return keys;
    for (const auto& item : exposed->items()) keys.push_back(item.key());
  } catch (const std::exception&) {
  }
  return keys;
}

Result<PortPlan> parse_ports(const NetworkFlags& flags, const std::string& network,
                             const std::vector<std::string>& image_exposed,
                             const std::vector<std::string>& network_options) {
  PortPlan plan;
  for (const auto& spec : flags.publish) {
    TRY_ASSIGN(mapping, parse_publish_spec(spec));
    plan.ports.push_back(std::move(mapping));
  }
  std::vector<ExposedPort> exposed;
  auto add_exposed = [&](const ExposedPort& port) {
    if (std::find(exposed.begin(), exposed.end(), port) == exposed.end()) exposed.push_back(port);
  };
  for (const auto& key : image_exposed) {
    auto port = parse_image_exposed_port(key);
    if (port)
      add_exposed(*port);
    else if (flags.publish_all)
      return std::move(port).error().context("-P/--publish-all");
  }
  for (const auto& text : flags.expose) {
    TRY_ASSIGN(ports, parse_expose(text));
    for (const auto& port : ports) add_exposed(port);
  }
  for (const auto& port : exposed) plan.exposed.push_back(port.text());
  if (flags.publish_all)
    for (const auto& port : exposed) {
      if (has_mapping_for(plan.ports, port.port, port.protocol)) continue;
      if (port.protocol == "sctp")
        return make_error("-P/--publish-all: exposed port " + port.text() +
                              " cannot be published: pasta and slirp4netns forward tcp and udp only",
                          ENOTSUP);
      PortMapping m;
      m.host_ip = kDefaultHostIp, m.container_port = port.port, m.protocol = port.protocol;
      plan.ports.push_back(std::move(m));
    }
  TRY(check_network(network, network_options, plan.ports, flags.publish_all));
  TRY(check_no_duplicates(plan.ports));
  return plan;
}

Status assign_host_ports(std::vector<PortMapping>& ports) {
  std::vector<UniqueFd> held;  // closed together at the end: no two picks can be the same port
  for (auto& m : ports)
    if (m.host_port == 0) TRY(pick_free_range(m, ports, held));
  return {};
}

Result<PortPlan> plan_ports(const NetworkFlags& flags, const std::string& network,
                            const std::vector<std::string>& image_exposed,
                            const std::vector<std::string>& network_options) {
  TRY_ASSIGN(plan, parse_ports(flags, network, image_exposed, network_options));
  TRY(assign_host_ports(plan.ports));
  return plan;
}

Status check_host_ports_free(const std::vector<std::string>& canonical_ports, const std::string& container) {
  TRY_ASSIGN(ports, shim::parse_canonical_port_mappings(canonical_ports));
  for (const auto& m : ports)
    for (unsigned offset = 0; offset < m.range; ++offset) {
      // SO_REUSEADDR for tcp, as the helpers bind: a connection of an earlier
      // run left in TIME_WAIT does not block the port, a listener does.
      auto fd = shim::bind_host_port(m.host_ip, m.host_port + offset, m.protocol, m.protocol == "tcp");
      if (!fd) return port_unusable(m, offset, fd.error(), container);
    }
  return {};
}

std::vector<PortMapping> record_port_mappings(const std::vector<std::string>& canonical_ports) {
  std::vector<PortMapping> out;
  for (const auto& text : canonical_ports)
    if (auto m = shim::parse_canonical_port_mapping(text); m) out.push_back(std::move(*m));
  return out;
}

std::string ports_summary(const std::vector<PortMapping>& ports) {
  std::vector<std::string> parts;
  for (const auto& m : sorted(ports)) {
    // podman 4.3 writes IPv6 addresses without brackets here ("::1:8080->80/tcp").
    std::string text = m.host_ip + ":" + std::to_string(m.host_port);
    if (m.range > 1) text += "-" + std::to_string(m.host_last());
    text += "->" + std::to_string(m.container_port);
    if (m.range > 1) text += "-" + std::to_string(m.container_last());
    parts.push_back(text + "/" + m.protocol);
  }
  return join(parts, ", ");
}

std::vector<std::string> port_lines(const std::vector<PortMapping>& ports) {
  std::vector<std::string> lines;
  for (const auto& m : sorted(ports))
    for (unsigned i = 0; i < m.range; ++i)
      lines.push_back(std::to_string(m.container_port + i) + "/" + m.protocol + " -> " + m.host_ip + ":" +
                      std::to_string(m.host_port + i));
  return lines;
}

std::string published_host_port(const std::vector<PortMapping>& ports, unsigned port, const std::string& protocol) {
  for (const auto& m : sorted(ports))
    if (m.protocol == protocol && port >= m.container_port && port <= m.container_last())
      return m.host_ip + ":" + std::to_string(m.host_port + (port - m.container_port));
  return {};
}

}  // namespace ctr::cmd
