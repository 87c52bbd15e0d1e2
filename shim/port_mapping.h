// A published port (-p): parsed by ctr, stored in the container's record
// and handed to ctr-shim (--publish) in one canonical text form, and turned
// by the shim into the network helper's own port forwarding (pasta's -t/-u
// options, slirp4netns's API `add_hostfwd`).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr::shim {

struct PortMapping {
  std::string host_ip;           // "127.0.0.1" unless given; IPv6 without brackets
  uint16_t host_port = 0;        // first port of the range on the host
  uint16_t container_port = 0;   // first port of the range in the container
  uint16_t range = 1;            // how many consecutive ports
  std::string protocol = "tcp";  // "tcp" or "udp"

  bool ipv6() const { return host_ip.find(':') != std::string::npos; }
  // The host address as written before ":PORT" ("[::1]" for IPv6).
  std::string host_address() const { return ipv6() ? "[" + host_ip + "]" : host_ip; }
  // Last port of the range on each side.
  unsigned host_last() const { return host_port + range - 1u; }
  unsigned container_last() const { return container_port + range - 1u; }
  bool operator==(const PortMapping&) const = default;
};

// Canonical text: HOSTIP:HOSTPORT:CONTAINERPORT/PROTO, with `-LAST` after
// each port for a range ("127.0.0.1:8080-8081:80-81/tcp"); IPv6 in brackets.
std::string format_port_mapping(const PortMapping& mapping);
// Reads the canonical form back (the shim's --publish); anything else is an error.
Result<PortMapping> parse_canonical_port_mapping(const std::string& text);
// Every mapping of a record / the shim's options, in order; the first bad one is an error.
Result<std::vector<PortMapping>> parse_canonical_port_mappings(const std::vector<std::string>& texts);

// pasta's (passt 2023-03) options for these mappings: one `-t` (tcp) or `-u`
// (udp) per mapping, `ADDR/HOST[-LAST]:CONTAINER[-LAST]`
// ("-t 127.0.0.1/8080-8081:80-81", "-u ::1/5353:53"). A protocol without any
// mapping gets `-t none` / `-u none`: pasta's default for both is `auto`
// (forward every port the container binds), which would publish ports
// nobody asked for. So the caller adds no -t/-u of its own; -T/-U
// (container -> host loopback forwarding) are left to it.
std::vector<std::string> pasta_port_arguments(const std::vector<PortMapping>& mappings);

// Asks a running slirp4netns (its --api-socket) to forward every port of
// `mapping`; the error says which port and slirp4netns's reason. One
// request per port, as slirp4netns wants it (a connection per request,
// shut down for writing after it). guest_addr is left to slirp4netns (the
// address its --configure gave the container, 10.0.2.100 by default).
// slirp4netns forwards IPv4 only: an IPv6 host address is an error.
Status slirp4netns_add_forward(const std::string& api_socket, const PortMapping& mapping,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));
// The JSON request for one port (exposed for tests).
std::string slirp4netns_hostfwd_request(const PortMapping& mapping, unsigned offset);

// A socket of `protocol` ("tcp"/"udp") bound to ip:port in the caller's
// network namespace (port 0: the kernel picks); IPv6 sockets are v6-only.
// `reuse`: SO_REUSEADDR, so a connection of an earlier run left in
// TIME_WAIT does not block the port (a listener still does). The error is
// bind's, its code kept (EADDRINUSE, EACCES) for the caller's message.
Result<UniqueFd> bind_host_port(const std::string& ip, unsigned port, const std::string& protocol, bool reuse);

}  // namespace ctr::shim
