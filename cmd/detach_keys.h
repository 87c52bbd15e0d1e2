// --detach-keys and --sig-proxy, shared by run, start, attach and exec:
// podman's syntax ("ctrl-p,ctrl-q" by default, "" disables detaching),
// validated when the command runs so a bad value is a ctr error (125) that
// names the flag.
#pragma once

#include <string>

#include "cmd/app.h"
#include "runtime/base/result.h"

namespace ctr::cmd {

inline constexpr const char* kDefaultDetachKeys = "ctrl-p,ctrl-q";

// Registers --detach-keys on `sub`, its value in `spec` (default above).
CLI::Option* add_detach_keys_option(Cli& cli, CLI::App& sub, std::string& spec);
// Registers --sig-proxy[=false] (default true).
CLI::Option* add_sig_proxy_flag(CLI::App& sub, bool& sig_proxy);

// The byte sequence `spec` stands for ("" for no detaching); an error that
// names --detach-keys and the accepted syntax.
Result<std::string> detach_key_bytes(const std::string& spec);

}  // namespace ctr::cmd
