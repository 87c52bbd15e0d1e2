// ID maps for user namespaces: parsing /etc/subuid-style ranges, building
// the default rootless map, and writing maps for a process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::userns {

struct IdRange {  // one line of /proc/PID/uid_map: inside, outside, count
  uint32_t inside = 0;
  uint32_t outside = 0;
  uint32_t count = 0;
  bool operator==(const IdRange&) const = default;
};
using IdMap = std::vector<IdRange>;

// "0 1000 1\n1 100000 65536\n"
std::string format_id_map(const IdMap& map);
// Overlaps inside or outside, zero counts, overflow: an error naming the range.
Status validate_id_map(const IdMap& map, const char* what);

enum class IdKind { uid, gid };

// True when `map` can be written to /proc/PID/{uid,gid}_map without the
// setuid helpers: always when `privileged` (root in the initial user
// namespace), else only for the single range "X -> own_id, count 1".
bool can_write_map_directly(const IdMap& map, uint32_t own_id, bool privileged);

// True when this process may write any map (of IDs it has) for a child
// namespace: root in the initial namespace, or root with CAP_SETUID (uid) /
// CAP_SETGID (gid) in a user namespace of its own (the store's).
bool may_write_any_map(IdKind kind);

// The argv for newuidmap/newgidmap: HELPER PID inside outside count ...
std::vector<std::string> id_map_helper_argv(const std::string& helper, pid_t pid, const IdMap& map);

// Writes PID's uid_map or gid_map. A map that is exactly "inside X -> our own
// id, count 1" is written directly (after "deny" to setgroups for gid maps
// when `deny_setgroups`); anything else goes through newuidmap/newgidmap,
// with a message that says what to install or configure when it fails.
Status write_id_map(pid_t pid, IdKind kind, const IdMap& map, bool deny_setgroups);
// Both maps of PID, as write_id_map does each; the two helpers run at the
// same time.
Status write_id_maps(pid_t pid, const IdMap& uid_map, const IdMap& gid_map, bool deny_setgroups);

// True when this process is not root in the initial user namespace, i.e.
// it must behave rootless (no mknod, sysfs only with its own netns, ...).
bool running_rootless();

}  // namespace ctr::userns
