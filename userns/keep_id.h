// --userns=keep-id: the container's user namespace is nested in the store's
// (0 = you, 1.. = your subordinate IDs) and maps your own ID to the same
// number inside (or to uid=/gid= given with keep-id:uid=N,gid=M), as podman
// does. The rest of the store's IDs fill the numbers around it, so the
// container still has a root and every ID an image uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/base/result.h"
#include "userns/idmap.h"

namespace ctr::userns {

struct KeepId {
  uint32_t uid = 0, gid = 0;  // the container's IDs for you
};

// "keep-id", "keep-id:uid=N", "keep-id:uid=N,gid=M" (podman 4.3); nullopt
// for other modes ("" and "host"). `own_uid`/`own_gid` are the defaults.
// Anything else starting with keep-id is an error naming the bad part.
Result<std::optional<KeepId>> parse_keep_id(const std::string& mode, uint32_t own_uid, uint32_t own_gid);

// The container's map relative to the store's namespace, which has IDs
// 0..store_size-1 (0 is you): container `id` -> store 0; container 0..id-1
// -> store 1..id; container id+1.. -> store id+1.. (identity). An id that
// does not fit (id >= store_size) is an error: it needs that many
// subordinate IDs.
Result<IdMap> keep_id_store_map(uint32_t id, uint32_t store_size, const char* what);
// How many IDs a store map covers inside (the end of its highest range).
uint32_t map_size(const IdMap& store_map);
// The outside ID of `inside` under `map`; nullopt when it is not mapped.
std::optional<uint32_t> map_to_outside(const IdMap& map, uint32_t inside);
// "0:1:1001:1001:0:1:..." for fuse-overlayfs' uidmapping=/gidmapping=.
std::string fuse_overlayfs_mapping(const IdMap& map);

}  // namespace ctr::userns
