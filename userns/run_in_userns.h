// Running work inside the store's user namespace: the full rootless map
// (0 -> you, 1.. -> your subordinate IDs), so files keep every owner.
#pragma once

#include <functional>
#include <string>

#include "runtime/base/result.h"
#include "userns/idmap.h"

namespace ctr::userns {

struct StoreMaps {
  IdMap uid, gid;
  bool single_id = false;  // no subordinate IDs: only your own id is mapped
  std::string warning;     // set with single_id: say it once to the user
};

// The maps for the current user from /etc/subuid and /etc/subgid; as root
// (initial namespace) an identity map is not needed: returns empty maps.
Result<StoreMaps> store_maps();

// Runs `work` in a forked child inside a new user + mount namespace with
// `maps` (written through newuidmap/newgidmap, or directly for a single ID).
// The child's Status (code and message) comes back through a pipe. With
// empty maps (root), runs it in a forked child without a new user namespace.
// The caller must be single-threaded.
Status run_in_userns(const StoreMaps& maps, const std::function<Status()>& work);

// `ctr unshare [CMD...]`: execs CMD (default $SHELL or /bin/sh) in such a
// namespace and returns its exit status.
Result<int> exec_in_userns(const StoreMaps& maps, const std::vector<std::string>& argv);

}  // namespace ctr::userns
