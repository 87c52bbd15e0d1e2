// OCI hooks run by the runtime itself (prestart, createRuntime, poststart,
// poststop): each hook gets the container state JSON on stdin and is killed
// when its timeout expires.
#pragma once

#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/spec.h"

namespace ctr {

// Runs hooks in order, stopping at the first failure; the error names the
// kind ("createRuntime"), the index and the path, and says how it ended.
Status run_hooks(const std::vector<spec::Hook>& hooks, const char* kind, const std::string& state_json);

}  // namespace ctr
