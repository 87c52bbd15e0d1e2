// Published ports: -p/--publish, -P/--publish-all and --expose of
// run/create, parsed as podman parses them, with the host port picked at
// create time when none is given, and checked free before the container
// starts. Published ports bind to 127.0.0.1 unless an address is given,
// never silently to another one (issue 7). The canonical form stored in
// the record and handed to the shim is shim/port_mapping.h's.
#pragma once

#include <string>
#include <vector>

#include "cmd/network_flags.h"
#include "runtime/base/result.h"
#include "shim/port_mapping.h"

namespace ctr::cmd {

inline constexpr const char* kDefaultHostIp = "127.0.0.1";

// One -p spec, `[IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]` (ranges
// `8080-8082:80-82`, IPv6 as `[::1]:8080:80`). host_port 0 = pick a free
// one at create. Errors name the spec.
Result<shim::PortMapping> parse_publish_spec(const std::string& spec);

// An exposed port: "80/tcp".
struct ExposedPort {
  uint16_t port = 0;
  std::string protocol = "tcp";  // tcp, udp or sctp (only exposing sctp is allowed)
  std::string text() const { return std::to_string(port) + "/" + protocol; }
  bool operator==(const ExposedPort&) const = default;
};
// --expose PORT[-LAST][/PROTO] -> each port.
Result<std::vector<ExposedPort>> parse_expose(const std::string& text);
// An image config's ExposedPorts key ("80/tcp", "53/udp", "80").
Result<ExposedPort> parse_image_exposed_port(const std::string& key);

// What create records: the published ports (canonical, host ports
// assigned) and the exposed ports (image's and --expose, "PORT/PROTO").
struct PortPlan {
  std::vector<shim::PortMapping> ports;
  std::vector<std::string> exposed;
};
// Parses -p, --expose and (-P) the image's exposed ports, refuses what
// cannot work (a network without a helper: none, host, container:, ns:;
// IPv6 with slirp4netns's own port_handler; sctp; the same host port
// twice), and picks free host ports for the specs without one. `network`
// is the record's mode (or --network as given; "" = the default), with its
// options (slirp4netns:port_handler=...) apart.
Result<PortPlan> plan_ports(const NetworkFlags& flags, const std::string& network,
                            const std::vector<std::string>& image_exposed,
                            const std::vector<std::string>& network_options = {});
// The parts of plan_ports that need no host: parsing and the checks
// (host ports still 0 where none was given).
Result<PortPlan> parse_ports(const NetworkFlags& flags, const std::string& network,
                             const std::vector<std::string>& image_exposed,
                             const std::vector<std::string>& network_options = {});
// Fills every host port 0 with a free one (a free run of ports for a
// range), bound and held while choosing so no two picks collide.
Status assign_host_ports(std::vector<shim::PortMapping>& ports);

// Before the shim starts: each host address:port/proto can be bound now
// (bound and closed again). The error names the port and `container`.
Status check_host_ports_free(const std::vector<std::string>& canonical_ports, const std::string& container);

// The image's ExposedPorts keys, from its config (none when unreadable).
std::vector<std::string> image_exposed_ports(const std::string& config_json);

// Showing them (ps, port, inspect), in podman's shapes. Unreadable
// entries in old or hand-edited records are skipped.
std::vector<shim::PortMapping> record_port_mappings(const std::vector<std::string>& canonical_ports);
// ps's PORTS: "127.0.0.1:8080->80/tcp, 127.0.0.1:9000-9001->90-91/udp"
// (tcp first, each protocol in container-port order, as podman).
std::string ports_summary(const std::vector<shim::PortMapping>& ports);
// `ctr port` lines: "80/tcp -> 127.0.0.1:8080", one per port of a range.
std::vector<std::string> port_lines(const std::vector<shim::PortMapping>& ports);
// The host "IP:PORT" of container port `port`/`protocol`, "" when not published.
std::string published_host_port(const std::vector<shim::PortMapping>& ports, unsigned port,
                                const std::string& protocol);

}  // namespace ctr::cmd
