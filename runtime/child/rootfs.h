// The container's filesystem, set up inside its new mount namespace.
#pragma once

#include "runtime/child/plan.h"

namespace ctr::child {

// Opens PATH (absolute, inside the root at ROOT_FD) with O_PATH, resolving
// symlinks as if ROOT_FD were "/", so a hostile rootfs cannot redirect a
// mount outside itself. With `create`, missing directories are made and the
// last component is made a directory (as_dir) or an empty file.
// Returns the fd or -errno.
int open_in_root(int root_fd, const char* path, bool create, bool as_dir);

// Before pivot_root: propagation, the rootfs bind, mounts, devices, links.
// Returns the rootfs fd (O_PATH) for later steps.
int prepare_rootfs(const Plan& plan);
void enter_rootfs(const Plan& plan);   // pivot_root (or chroot with --no-pivot)
void finish_rootfs(const Plan& plan);  // masked/read-only paths, read-only root, propagation

}  // namespace ctr::child
