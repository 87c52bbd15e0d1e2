// What pause and resume share.
#pragma once

#include <string>

#include "runtime/base/result.h"
#include "runtime/cli/command.h"
#include "runtime/state.h"

namespace ctr::cli {

// The cgroup dir of container `id`, which must be in status `want`.
Result<std::string> freezable_cgroup(const GlobalOptions& global, const std::string& id, ContainerStatus want);

}  // namespace ctr::cli
