// Helpers shared by the store's translation units (store.cpp,
// store_images.cpp, store_gc.cpp). Not part of the store's contract.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::image::detail {

// fsync(2) on a directory, so a rename into it survives a power cut.
Status fsync_dir(const std::string& path);
// Names in a directory (without "." and ".."); a missing directory is empty.
Result<std::vector<std::string>> list_dir(const std::string& path);
// Bytes of non-directory entries below `path` (apparent size, not blocks),
// without following symlinks; unreadable subdirectories count as 0.
uint64_t tree_size(const std::string& path);
// remove_tree, and when that is refused (EACCES/EPERM: files owned by
// subordinate IDs, read-only directories from the image) again from inside
// the store's user namespace, where those owners are ours.
Status remove_tree_as_owner(const std::string& path);
// Owner pid encoded at the front of a staging entry ("<pid>-purpose-XXXXXX"),
// 0 when there is none.
int staging_owner(const std::string& name);
bool process_alive(int pid);

}  // namespace ctr::image::detail
