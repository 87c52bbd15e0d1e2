// --network/--net: which network namespace a container gets and who
// connects it (podman's modes).
#pragma once

#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::cmd {

struct NetworkMode {
  enum class Kind {
    pasta,        // a new namespace connected by pasta (passt package)
    slirp4netns,  // a new namespace connected by slirp4netns
    none,         // a new namespace with loopback only
    host,         // the user's own network namespace
    container,    // another container's namespace (target: its ID)
    ns,           // the namespace at a path (target: the path)
  };
  Kind kind = Kind::none;
  std::vector<std::string> options;  // pasta:OPTS / slirp4netns:OPTS, split at commas
  std::string target;                // container ID or namespace path
};

// "" and "private" pick pasta when installed, else slirp4netns; an unknown
// mode or option is an error that lists what is supported. `container:`
// keeps the NAME|ID as given in target (the caller resolves it to an ID);
// `ns:PATH` must name an existing file. A helper that is not installed is
// an error naming the package.
Result<NetworkMode> parse_network_mode(const std::string& text);
// The record's form: "pasta", "slirp4netns", "none", "host",
// "container:ID", "ns:PATH" (options are kept apart, in network_options).
std::string network_mode_name(const NetworkMode& mode);
// The kind alone: "pasta", "slirp4netns", "none", "host", "container", "ns".
const char* network_kind_name(NetworkMode::Kind kind);
// The record's fields back to a mode ("" = none: records from before networking).
NetworkMode record_network_mode(const std::string& name, const std::vector<std::string>& options);

// True for the modes that run a user-mode helper (pasta, slirp4netns).
bool uses_network_helper(const NetworkMode& mode);
// The helper's binary: $CTR_PASTA_BIN / $CTR_SLIRP4NETNS_BIN, else `pasta`
// / `slirp4netns` in $PATH; "" when not found (an override that is not an
// executable file counts as not found).
std::string network_helper_binary(NetworkMode::Kind kind);
// The helper's own command-line options for the user's mode options
// (slirp4netns: podman's allow_host_loopback=, mtu=, cidr=, enable_ipv6=;
// its port_handler= is the shim's, not slirp4netns's; pasta: its own options, passed through), or an
// error naming the option and what is supported.
Result<std::vector<std::string>> network_helper_arguments(const NetworkMode& mode);

// slirp4netns's port_handler= ("" when not given: ctr's port proxy, as
// "rootlesskit"); "" for the other modes. The shim's --port-handler.
std::string slirp4netns_port_handler(const NetworkMode& mode);

// For `container:`: rewrites the network namespace entry of the bundle's
// config.json to `path` (the target's /proc/PID/ns/net, known only once
// the target runs).
Status set_spec_network_path(const std::string& bundle, const std::string& path);

}  // namespace ctr::cmd
