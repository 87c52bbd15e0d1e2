// The network flags of run/create: which network the container gets
// (network_mode.h), its published ports (publish.h) and the /etc/hosts,
// /etc/resolv.conf and /etc/hostname written for it (network_files.h).
#pragma once

#include <string>
#include <vector>

#include "cmd/app.h"

namespace ctr::cmd {

struct NetworkFlags {
  std::string network;               // --network/--net; "" = the default (private)
  std::vector<std::string> publish;  // -p/--publish [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]
  bool publish_all = false;          // -P/--publish-all
  std::vector<std::string> expose;   // --expose PORT[/PROTO]
  std::vector<std::string> dns, dns_search, dns_option, add_host;
  bool no_hosts = false;
};

// Each registers its own flags on run/create.
void add_network_mode_flags(Cli& cli, CLI::App& sub, NetworkFlags& flags);  // network_mode.cpp
void add_publish_flags(Cli& cli, CLI::App& sub, NetworkFlags& flags);       // publish.cpp
void add_dns_flags(Cli& cli, CLI::App& sub, NetworkFlags& flags);           // network_files.cpp

}  // namespace ctr::cmd
