// Running work inside the store's user namespace: the full rootless map
// (0 -> you, 1.. -> your subordinate IDs), so files keep every owner.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "runtime/base/child_process.h"
#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "userns/idmap.h"
#include "userns/subid.h"

namespace ctr::userns {

struct StoreMaps {
  IdMap uid, gid;
  bool single_id = false;  // no subordinate IDs: only your own id is mapped
  std::string warning;     // set with single_id: say it once to the user
};

// The maps for the current user from /etc/subuid and /etc/subgid; as root
// (initial namespace) an identity map is not needed: returns empty maps.
Result<StoreMaps> store_maps();
// The same from given ranges (testable): subordinate ranges for uid/gid of `user`.
StoreMaps store_maps_from(uid_t uid, gid_t gid, const std::string& user, const std::vector<SubIdRange>& subuids,
                          const std::vector<SubIdRange>& subgids);

// Runs `work` in a forked child inside a new user + mount namespace with
// `maps` (written through newuidmap/newgidmap, or directly for a single ID).
// The child's Status (code and message) comes back through a pipe. With
// empty maps (real root), runs it in a forked child in a new private mount
// namespace only: root needs no user namespace to own every ID.
// The caller must be single-threaded.
Status run_in_userns(const StoreMaps& maps, const std::function<Status()>& work);

// A started run_in_userns child, so several can work in parallel (layer
// unpacks): the maps are written before start_in_userns returns.
class UsernsChild {
 public:
  UsernsChild() = default;
  UsernsChild(UsernsChild&&) noexcept = default;
  UsernsChild& operator=(UsernsChild&&) noexcept = default;
  // The child's Status, or an error saying how it died. Call once.
  Status wait();
  // Lower level: reaps the child; `got_result` tells whether it sent a
  // Status (false when it exec'd or died), `exit` how it ended.
  Status collect(bool& got_result, ExitStatus& exit);

 private:
  friend Result<UsernsChild> start_in_userns(const StoreMaps&, const std::function<Status()>&);
  friend Result<UsernsChild> start_in_joined_userns(const std::string&, bool, const std::function<Status()>&);
  ChildProcess process_;
  UniqueFd from_child_;
};
Result<UsernsChild> start_in_userns(const StoreMaps& maps, const std::function<Status()>& work);
// The same, but the child joins the user namespace at `userns_path` (e.g.
// /proc/PID/ns/user of a sibling made by start_in_userns: its owner is
// us) as root there, and unshares a new mount namespace, instead of making
// a user namespace of its own. `--network container:` needs it: a network
// namespace can only be joined from the user namespace that owns it (or an
// ancestor).
Result<UsernsChild> start_in_joined_userns(const std::string& userns_path, bool single_id,
                                           const std::function<Status()>& work);

// `ctr unshare [CMD...]`: execs CMD (default $SHELL or /bin/sh) in such a
// namespace and returns its exit status.
Result<int> exec_in_userns(const StoreMaps& maps, const std::vector<std::string>& argv);

}  // namespace ctr::userns
