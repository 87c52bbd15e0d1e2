#include "cmd/detach_keys.h"

#include "shim/client.h"

namespace ctr::cmd {

CLI::Option* add_detach_keys_option(Cli& cli, CLI::App& sub, std::string& spec) {
  spec = kDefaultDetachKeys;
  return cli.value(sub, "--detach-keys", spec,
                   "Key sequence that detaches from the container (e.g. ctrl-p,ctrl-q; \"\" disables it)",
                   Completer::none);
}

CLI::Option* add_sig_proxy_flag(CLI::App& sub, bool& sig_proxy) {
  sig_proxy = true;
  return sub.add_flag("--sig-proxy{true}", sig_proxy,
                      "Forward received signals to the container (default true; --sig-proxy=false to disable)");
}

Result<std::string> detach_key_bytes(const std::string& spec) {
  auto keys = shim::parse_detach_keys(spec);
  if (!keys) return std::move(keys).error().context("invalid --detach-keys value");
  return keys;
}

}  // namespace ctr::cmd
