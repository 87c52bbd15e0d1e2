#include "cmd/network_files.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

constexpr const char* kHostInternal = "host.containers.internal";

bool is_ipv4(const std::string& text) {
  in_addr address{};
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1;
}

bool is_ipv6(const std::string& text) {
  in6_addr address{};
  return ::inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

bool is_ip(const std::string& text) {
  return is_ipv4(text) || is_ipv6(text);
}

std::string read_or_empty(const std::string& path) {
  auto text = read_file(path);
  return text ? *text : std::string();
}

bool is_loopback(const std::string& ip) {
  return starts_with(ip, "127.") || ip == "::1";
}

// Whitespace, '#' or control characters would break a hosts or resolv.conf line.
bool fits_in_line(const std::string& text) {
  return !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)) || c == '#';
  });
}

// podman's ValidateDomain: labels of letters, digits and inner hyphens, an
// optional final dot, and at least one letter somewhere.
bool valid_domain(std::string domain) {
  if (domain.size() >= 255 ||
      std::none_of(domain.begin(), domain.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
    return false;
  if (domain.back() == '.') domain.pop_back();
  for (const auto& label : split(domain, '.')) {
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

// The value of a KEY=VALUE option of the network helper ("" when absent).
std::string mode_option(const NetworkMode& mode, const std::string& key) {
  for (const auto& option : mode.options)
    if (starts_with(option, key + "=")) return option.substr(key.size() + 1);
  return "";
}

// Go's ParseBool spellings of true (podman's slirp4netns options).
bool is_true(const std::string& value) {
  return value == "true" || value == "1" || value == "t" || value == "T" || value == "TRUE" || value == "True";
}

bool has_mode_option(const NetworkMode& mode, const std::string& word) {
  return std::find(mode.options.begin(), mode.options.end(), word) != mode.options.end();
}

// slirp4netns's addresses: the network (cidr=, default 10.0.2.0/24) plus
// 2 (the host), 3 (its DNS) and 100 (the container).
std::string slirp_address(const NetworkMode& mode, uint32_t offset) {
  std::string cidr = mode_option(mode, "cidr");
  in_addr base{};
  if (cidr.empty() || ::inet_pton(AF_INET, cidr.substr(0, cidr.find('/')).c_str(), &base) != 1)
    ::inet_pton(AF_INET, "10.0.2.0", &base);
  in_addr address{};
  address.s_addr = htonl(ntohl(base.s_addr) + offset);
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &address, text, sizeof text);
  return text;
}

// resolv.conf lines without their # comments (as podman's getLines).
std::vector<std::string> resolv_lines(const std::string& text) {
  std::vector<std::string> lines;
  for (auto line : split(text, '\n')) lines.push_back(line.substr(0, line.find('#')));
  return lines;
}

// The words after `keyword` on its lines: every nameserver, or the last
// search / options line (later lines win, as in resolv.conf(5)).
std::vector<std::string> resolv_values(const std::string& text, const std::string& keyword, bool all) {
  std::vector<std::string> values;
  for (const auto& line : resolv_lines(text)) {
    std::vector<std::string> words;
    for (const auto& word : split(line, ' '))
      for (const auto& part : split(word, '\t'))
        if (!part.empty() && part != "\r") words.push_back(part);
    if (words.empty() || words[0] != keyword) continue;
    if (all) {
      if (words.size() == 2 && is_ip(words[1])) values.push_back(words[1]);
    } else {
      values.assign(words.begin() + 1, words.end());
    }
  }
  return values;
}

struct HostEntry {
  std::string ip;
  std::vector<std::string> names;
};

std::vector<HostEntry> parse_hosts(const std::string& text) {
  std::vector<HostEntry> entries;
  for (const auto& line : resolv_lines(text)) {
    std::vector<std::string> fields;
    for (const auto& word : split(line, ' '))
      for (const auto& part : split(word, '\t'))
        if (!part.empty() && part != "\r") fields.push_back(part);
    if (fields.size() < 2) continue;  // an address without names
    entries.push_back({fields[0], {fields.begin() + 1, fields.end()}});
  }
  return entries;
}

std::string hosts_line(const HostEntry& entry) {
  return entry.ip + "\t" + join(entry.names, " ") + "\n";
}

// podman's resolvconf build(): search, nameservers, options.
std::string build_resolv_conf(const std::vector<std::string>& servers, const std::vector<std::string>& search,
                              const std::vector<std::string>& options) {
  std::string out;
  if (!search.empty() && !(search.size() == 1 && search[0] == ".")) out += "search " + join(search, " ") + "\n";
  for (const auto& server : servers) out += "nameserver " + server + "\n";
  if (!options.empty()) out += "options " + join(options, " ") + "\n";
  return out;
}

// The host's nameservers a container in its own namespace can reach:
// loopback ones (a local stub or cache) and the host's own address (pasta
// gives it to the container) lead back into the container itself.
std::vector<std::string> reachable_servers(const std::vector<std::string>& servers, const std::string& own_address,
                                           bool ipv6) {
  std::vector<std::string> out;
  for (const auto& server : servers)
    if (!is_loopback(server) && server != own_address && (ipv6 || !is_ipv6(server))) out.push_back(server);
  return out;
}

// The container's own address and names for /etc/hosts ("" for no entry).
std::string container_address(const HostNetwork& host, const NetworkMode& mode) {
  switch (mode.kind) {
    case NetworkMode::Kind::pasta:
      return host.address4;  // pasta copies the host's addresses
    case NetworkMode::Kind::slirp4netns:
      return slirp_address(mode, 100);
    case NetworkMode::Kind::none:
      return "127.0.0.1";
    default:
      return "";
  }
}

Result<nlohmann::json> read_json(const std::string& path) {
  TRY_ASSIGN(text, read_file(path));
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception& error) {
    return make_error("cannot read `" + path + "`: " + error.what(), EINVAL);
  }
}

// Where the target container's /etc/hosts and /etc/resolv.conf come from
// (its config.json binds; "" when it has none, e.g. --no-hosts).
std::string target_bind(const nlohmann::json& spec, const std::string& destination) {
  if (!spec.contains("mounts") || !spec["mounts"].is_array()) return "";
  for (const auto& mount : spec["mounts"])
    if (mount.value("destination", "") == destination && mount.value("type", "") == "bind")
      return mount.value("source", "");
  return "";
}

// podman's etchosts.Add: the names not in the file yet, appended in place
// (the running target has the file bind-mounted: a rename would hide the
// change from it). The caller holds the store lock.
Status append_hosts_entry(const std::string& path, const HostEntry& entry) {
  TRY_ASSIGN(text, read_file(path));
  std::set<std::string> known;
  for (const auto& existing : parse_hosts(text)) known.insert(existing.names.begin(), existing.names.end());
  HostEntry missing{entry.ip, {}};
  for (const auto& name : entry.names)
    if (!known.count(name)) missing.names.push_back(name);
  if (missing.names.empty()) return {};
  TRY_ASSIGN(fd, open_fd(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
  return write_all(fd.get(), hosts_line(missing));
}

bool user_mounted(const ProcessFlags& process, const std::string& destination) {
  return std::any_of(process.mounts.begin(), process.mounts.end(),
                     [&](const SpecMount& m) { return m.destination == destination; });
}

void bind_file(ProcessFlags& process, const std::string& source, const std::string& destination, bool read_only) {
  if (source.empty() || user_mounted(process, destination)) return;  // the user's mount wins, as in podman
  std::vector<std::string> options = {"bind", "rprivate"};
  if (read_only) options.insert(options.end(), {"ro", "nosuid", "noexec", "nodev"});
  process.mounts.push_back({destination, "bind", source, options});
}

NetworkMode effective_mode(const NetworkFlags& flags, const ContainerRecord& record) {
  if (!record.network_mode.empty()) return record_network_mode(record.network_mode, record.network_options);
  auto parsed = parse_network_mode(flags.network);
  return parsed ? *parsed : NetworkMode{};
}

// --network container:ID: the target's files, with this container's names
// added to its /etc/hosts (podman: both share one network namespace).
Status bind_target_files(const image::Store& store, const NetworkMode& mode, const DnsConfig& dns,
                         const std::string& hostname, const std::string& name, bool read_only, ProcessFlags& process) {
  auto spec = read_json(container_dir(store, mode.target) + "/config.json");
  if (!spec) return spec.error().context("--network container:" + mode.target);
  std::string hosts = target_bind(*spec, "/etc/hosts");
  if (!dns.no_hosts && !hosts.empty() && !user_mounted(process, "/etc/hosts")) {
    TRY_CTX(append_hosts_entry(hosts, {"127.0.0.1", {hostname, name}}), "--network container:" + mode.target);
    bind_file(process, hosts, "/etc/hosts", read_only);
  }
  if (!dns.image_resolv_conf) bind_file(process, target_bind(*spec, "/etc/resolv.conf"), "/etc/resolv.conf", read_only);
  return {};
}

}  // namespace

void add_dns_flags(Cli& cli, CLI::App& sub, NetworkFlags& flags) {
  cli.value(sub, "--dns", flags.dns, "Set a DNS server (IPv4 or IPv6; none: keep the image's /etc/resolv.conf)",
            Completer::fixed, {"none"})
      ->delimiter(',');
  cli.value(sub, "--dns-search", flags.dns_search, "Set a DNS search domain (.: no search list)", Completer::fixed,
            {"."})
      ->delimiter(',');
  cli.value(sub, "--dns-option", flags.dns_option, "Set a DNS option (e.g. ndots:2, timeout:1)", Completer::fixed,
            {"ndots:", "timeout:", "attempts:", "rotate", "edns0", "single-request", "use-vc"})
      ->delimiter(',');
  cli.value(sub, "--add-host", flags.add_host, "Add a HOST:IP line to the container's /etc/hosts", Completer::none)
      ->delimiter(',');
  sub.add_flag("--no-hosts", flags.no_hosts, "Do not write /etc/hosts in the container: the image's file stays");
}

Result<DnsConfig> parse_dns_flags(const NetworkFlags& flags) {
  DnsConfig dns;
  dns.no_hosts = flags.no_hosts;
  for (const auto& server : flags.dns) {
    if (server == "none") {
      if (flags.dns.size() > 1)
        return make_error("none is not allowed to be specified with other DNS ip addresses", EINVAL);
      dns.image_resolv_conf = true;
      break;
    }
    if (!is_ip(server))
      return make_error(server + " is not an ip address: --dns takes an IPv4 or IPv6 address, or none", EINVAL);
    dns.servers.push_back(server);
  }
  for (const auto& domain : flags.dns_search) {
    if (domain == ".") {
      if (flags.dns_search.size() > 1)
        return make_error("cannot pass additional search domains when also specifying '.'", EINVAL);
      continue;
    }
    if (!valid_domain(domain)) return make_error(domain + " is not a valid domain (--dns-search)", EINVAL);
  }
  dns.search = flags.dns_search;
  for (const auto& option : flags.dns_option)
    if (!fits_in_line(option))
      return make_error("invalid --dns-option `" + option +
                            "`: one resolv.conf option, without spaces or #, "
                            "e.g. ndots:2",
                        EINVAL);
  dns.options = flags.dns_option;
  for (const auto& entry : flags.add_host) {
    auto colon = entry.find(':');
    if (colon == std::string::npos || colon == 0)
      return make_error("bad format for add-host: \"" + entry + "\": use HOST:IP", EINVAL);
    std::string host = entry.substr(0, colon), ip = entry.substr(colon + 1);
    if (!is_ip(ip)) return make_error("invalid IP address in add-host: \"" + ip + "\"", EINVAL);
    if (!fits_in_line(host))
      return make_error("bad format for add-host: \"" + entry +
                            "\": the host name has a space, # or control "
                            "character",
                        EINVAL);
    dns.add_hosts.push_back(entry);
  }
  if (flags.no_hosts && !flags.add_host.empty())
    return make_error("--no-hosts and --add-host cannot be set together", EINVAL);
  return dns;
}

Status check_dns_mode(const NetworkFlags& flags, const NetworkMode& mode) {
  bool dns_given = !flags.dns.empty() || !flags.dns_search.empty() || !flags.dns_option.empty();
  if (dns_given && (mode.kind == NetworkMode::Kind::none || mode.kind == NetworkMode::Kind::container))
    return make_error(std::string("conflicting options: dns and the network mode: ") + network_kind_name(mode.kind), EINVAL);
  if (!flags.add_host.empty() && mode.kind == NetworkMode::Kind::container)
    return make_error(
        "conflicting options: --add-host and the network mode: container (the container shares the "
        "/etc/hosts of " +
            mode.target + ": add the host there)",
        EINVAL);
  return {};
}

Status check_dns_flags(const NetworkFlags& flags) {
  TRY(parse_dns_flags(flags));
  // An unknown mode is --network's own error (network_mode.cpp).
  if (auto mode = parse_network_mode(flags.network); mode) TRY(check_dns_mode(flags, *mode));
  return {};
}

std::pair<std::string, std::string> default_route4(const std::string& proc_net_route) {
  for (const auto& line : split(proc_net_route, '\n')) {
    std::vector<std::string> fields;
    for (const auto& part : split(line, '\t'))
      if (!trim(part).empty()) fields.emplace_back(trim(part));
    // Iface Destination Gateway Flags ...; RTF_UP|RTF_GATEWAY = 0x3
    if (fields.size() < 4 || fields[1] != "00000000") continue;
    unsigned long flags = std::strtoul(fields[3].c_str(), nullptr, 16);
    if ((flags & 0x3) != 0x3) continue;
    in_addr gateway{};
    gateway.s_addr = static_cast<in_addr_t>(std::strtoul(fields[2].c_str(), nullptr, 16));  // network order as read
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &gateway, text, sizeof text);
    return {fields[0], text};
  }
  return {};
}

HostNetwork read_host_network() {
  HostNetwork host;
  host.hosts = read_or_empty("/etc/hosts");
  host.resolv_conf = read_or_empty("/etc/resolv.conf");
  // podman: a lone local stub is not reachable from the container's
  // namespace; its upstream list is (resolvconf getDefaultResolvConf).
  auto servers = resolv_values(host.resolv_conf, "nameserver", true);
  if (servers.size() == 1 && servers[0] == "127.0.0.53")
    host.upstream_resolv_conf = read_or_empty("/run/systemd/resolve/resolv.conf");
  if (servers.size() == 1 && servers[0] == "127.0.0.1")
    host.upstream_resolv_conf = read_or_empty("/run/NetworkManager/no-stub-resolv.conf");
  utsname uts{};
  if (::uname(&uts) == 0) host.hostname = uts.nodename;
  auto [interface, gateway] = default_route4(read_or_empty("/proc/net/route"));
  host.gateway4 = gateway;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return host;
  std::string local6;
  for (ifaddrs* at = list; at; at = at->ifa_next) {
    if (!at->ifa_addr || (at->ifa_flags & IFF_LOOPBACK)) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (at->ifa_addr->sa_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(at->ifa_addr);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      uint32_t value = ntohl(in->sin_addr.s_addr);
      bool global = (value >> 24) != 127 && (value >> 16) != 0xA9FE && (value >> 28) != 0xE && value != 0;
      if (host.address4.empty() && interface == at->ifa_name) host.address4 = text;
      if (host.local_ip.empty() && global) host.local_ip = text;
    } else if (at->ifa_addr->sa_family == AF_INET6 && local6.empty()) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(at->ifa_addr);
      if (!IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) && !IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) &&
          !IN6_IS_ADDR_MULTICAST(&in6->sin6_addr))
        local6 = ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text) ? text : "";
    }
  }
  ::freeifaddrs(list);
  if (host.local_ip.empty()) host.local_ip = local6;
  return host;
}

std::string host_internal_address(const HostNetwork& host, const NetworkMode& mode) {
  switch (mode.kind) {
    // pasta maps the default gateway's address to the host's loopback
    // (unless --no-map-gw): a server on the host's 127.0.0.1 is reachable.
    case NetworkMode::Kind::pasta:
      return has_mode_option(mode, "--no-map-gw") ? "" : host.gateway4;
    // slirp4netns's 10.0.2.2 is the host's loopback with
    // allow_host_loopback=true; otherwise the host's own address (podman).
    case NetworkMode::Kind::slirp4netns:
      return is_true(mode_option(mode, "allow_host_loopback")) ? slirp_address(mode, 2) : host.local_ip;
    case NetworkMode::Kind::container:
      return "";
    default:
      return host.local_ip;  // none, host, ns: podman 4.3's choice
  }
}

std::string hosts_file(const HostNetwork& host, const NetworkMode& mode, const DnsConfig& dns,
                       const std::string& hostname, const std::string& name) {
  // podman's etchosts.New: --add-host lines, then the host's /etc/hosts
  // (base_hosts_file's default), then the special entries for the names
  // not taken yet.
  std::vector<HostEntry> entries;
  for (const auto& text : dns.add_hosts) {
    auto colon = text.find(':');
    entries.push_back({text.substr(colon + 1), {text.substr(0, colon)}});
  }
  for (auto& entry : parse_hosts(host.hosts)) entries.push_back(std::move(entry));
  std::string out;
  std::set<std::string> taken;
  for (const auto& entry : entries) {
    taken.insert(entry.names.begin(), entry.names.end());
    out += hosts_line(entry);
  }
  std::vector<HostEntry> specials = {{"127.0.0.1", {"localhost"}}, {"::1", {"localhost"}}};
  if (auto address = host_internal_address(host, mode); !address.empty())
    specials.push_back({address, {kHostInternal}});
  if (auto address = container_address(host, mode); !address.empty()) specials.push_back({address, {hostname, name}});
  for (const auto& entry : specials) {
    HostEntry free{entry.ip, {}};
    for (const auto& entry_name : entry.names)
      if (!taken.count(entry_name)) free.names.push_back(entry_name);
    if (!free.names.empty()) out += hosts_line(free);
  }
  return out;
}

std::optional<std::string> resolv_conf_file(const HostNetwork& host, const NetworkMode& mode, const DnsConfig& dns) {
  if (dns.image_resolv_conf || mode.kind == NetworkMode::Kind::none || mode.kind == NetworkMode::Kind::container)
    return std::nullopt;
  // The host's namespace reaches the host's resolvers as they are.
  const std::string& base = mode.kind != NetworkMode::Kind::host && !host.upstream_resolv_conf.empty()
                                ? host.upstream_resolv_conf
                                : host.resolv_conf;
  std::vector<std::string> host_servers = resolv_values(base, "nameserver", true);
  std::vector<std::string> servers = dns.servers;
  if (servers.empty()) {
    switch (mode.kind) {
      case NetworkMode::Kind::host:
        servers = host_servers;
        break;
      case NetworkMode::Kind::slirp4netns:
        // slirp4netns's forwarder first, then the host's (podman).
        servers = {slirp_address(mode, 3)};
        for (const auto& server : reachable_servers(host_servers, "", is_true(mode_option(mode, "enable_ipv6"))))
          servers.push_back(server);
        break;
      case NetworkMode::Kind::pasta:
        servers = reachable_servers(host_servers, host.address4, true);
        // Only a resolver on the host's 127.0.0.1 (dnsmasq...): pasta maps
        // the gateway's address to the host's loopback, port 53 included
        // (tried with pasta 2023_03_09). 127.0.0.53 has no such path.
        if (servers.empty() && std::count(host_servers.begin(), host_servers.end(), "127.0.0.1") &&
            !host_internal_address(host, mode).empty())
          servers = {host.gateway4};
        break;
      default:
        servers = reachable_servers(host_servers, "", true);
        break;
    }
  }
  std::vector<std::string> search = dns.search.empty() ? resolv_values(base, "search", false) : dns.search;
  std::vector<std::string> options = dns.options.empty() ? resolv_values(base, "options", false) : dns.options;
  return build_resolv_conf(servers, search, options);
}

Status add_network_files(const image::Store& store, const NetworkFlags& flags, bool read_only, ContainerRecord& record,
                         ProcessFlags& process) {
  TRY_ASSIGN(dns, parse_dns_flags(flags));
  NetworkMode mode = effective_mode(flags, record);
  TRY(check_dns_mode(flags, mode));
  record.dns_servers = flags.dns;
  record.dns_search = flags.dns_search;
  record.dns_options = flags.dns_option;
  record.extra_hosts = flags.add_host;
  HostNetwork host = read_host_network();
  // podman: the host's network keeps the host's name unless --hostname.
  if (mode.kind == NetworkMode::Kind::host && !process.hostname && !host.hostname.empty())
    process.hostname = host.hostname;
  std::string hostname = process.hostname ? *process.hostname : record.id.substr(0, 12);
  std::string dir = container_dir(store, record.id);
  TRY_CTX(write_file_atomic(dir + "/hostname", hostname + "\n", 0644), "/etc/hostname");
  bind_file(process, dir + "/hostname", "/etc/hostname", read_only);
  if (mode.kind == NetworkMode::Kind::container)
    return bind_target_files(store, mode, dns, hostname, record.name, read_only, process);
  if (!dns.no_hosts) {
    TRY_CTX(write_file_atomic(dir + "/hosts", hosts_file(host, mode, dns, hostname, record.name), 0644), "/etc/hosts");
    bind_file(process, dir + "/hosts", "/etc/hosts", read_only);
  }
  if (auto resolv = resolv_conf_file(host, mode, dns)) {
    TRY_CTX(write_file_atomic(dir + "/resolv.conf", *resolv, 0644), "/etc/resolv.conf");
    bind_file(process, dir + "/resolv.conf", "/etc/resolv.conf", read_only);
  }
  return {};
}

}  // namespace ctr::cmd
