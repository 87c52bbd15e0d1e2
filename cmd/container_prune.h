// What `ctr container prune` and `ctr system prune` share.
#pragma once

#include <string>
#include <vector>

#include "cmd/app.h"
#include "runtime/base/result.h"

namespace ctr::cmd {

// Removes every container that is not running (created or exited, as
// podman's prune); returns their IDs, oldest first.
Result<std::vector<std::string>> prune_containers(Context& ctx);

// podman's prune prompt: prints `warning`, asks "Are you sure you want to
// continue? [y/N]" and reads the answer. Without a terminal on stdin it
// does not ask: an error tells to use -f.
Result<bool> confirm_prune(const std::string& warning);

}  // namespace ctr::cmd
