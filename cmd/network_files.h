// The /etc/hosts, /etc/resolv.conf and /etc/hostname of a container, as
// podman 4.3 writes them (containers/common libnetwork/etchosts and
// resolvconf): written into the container's directory, never into the image,
// and bind-mounted over the image's files. --dns, --dns-search,
// --dns-option, --add-host and --no-hosts shape them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cmd/container_record.h"
#include "cmd/container_spec.h"
#include "cmd/network_flags.h"
#include "cmd/network_mode.h"
#include "image/store.h"
#include "runtime/base/result.h"

namespace ctr::cmd {

// The checked DNS and hosts flags.
struct DnsConfig {
  std::vector<std::string> servers;    // --dns, validated addresses
  bool image_resolv_conf = false;      // --dns none: the image's resolv.conf stays
  std::vector<std::string> search;     // --dns-search; {"."} = no search list
  std::vector<std::string> options;    // --dns-option
  std::vector<std::string> add_hosts;  // --add-host HOST:IP
  bool no_hosts = false;               // --no-hosts: the image's /etc/hosts stays
};
// Podman's messages: "bogus is not an ip address", "bad format for
// add-host: ...", "--no-hosts and --add-host cannot be set together".
Result<DnsConfig> parse_dns_flags(const NetworkFlags& flags);
// --dns* cannot go with --network none or container: (podman); --add-host
// cannot go with container: (the target's /etc/hosts is shared).
Status check_dns_mode(const NetworkFlags& flags, const NetworkMode& mode);
// Both, from the flags alone: run before anything is made.
Status check_dns_flags(const NetworkFlags& flags);

// What the host says, read once (passed in so the contents are testable).
struct HostNetwork {
  std::string hosts;        // /etc/hosts
  std::string resolv_conf;  // /etc/resolv.conf
  // The real upstream list when /etc/resolv.conf only names a local stub
  // (systemd-resolved's 127.0.0.53, NetworkManager's 127.0.0.1), "" else.
  std::string upstream_resolv_conf;
  std::string hostname;  // the host's name (uname)
  std::string gateway4;  // the default IPv4 gateway, "" for none
  std::string address4;  // the IPv4 address of the default route's interface
  std::string local_ip;  // the first global unicast address, IPv4 first (podman's getLocalIP)
};
HostNetwork read_host_network();

// /proc/net/route -> the default route's {interface, gateway} ("" when none).
std::pair<std::string, std::string> default_route4(const std::string& proc_net_route);

// The file contents; `hostname` and `name` are the container's.
std::string hosts_file(const HostNetwork& host, const NetworkMode& mode, const DnsConfig& dns,
                       const std::string& hostname, const std::string& name);
// nullopt: no resolv.conf of ours (--dns none, --network none: the image's stays).
std::optional<std::string> resolv_conf_file(const HostNetwork& host, const NetworkMode& mode, const DnsConfig& dns);
// host.containers.internal's address in `mode` ("" for none).
std::string host_internal_address(const HostNetwork& host, const NetworkMode& mode);

// Called by make_container (under the store lock, after the user's mounts
// are in process.mounts, before build_spec): writes the files into the
// container's directory, binds them at /etc/hosts, /etc/resolv.conf and
// /etc/hostname unless the user mounted something there, binds the target's
// files for --network container:ID, sets the host's name in --network host,
// and keeps the flags in the record (inspect's HostConfig.Dns...).
Status add_network_files(const image::Store& store, const NetworkFlags& flags, bool read_only, ContainerRecord& record,
                         ProcessFlags& process);

}  // namespace ctr::cmd
