// Entering a container's file system from ctr (cp, export), and the tar
// streams that carry files in and out of it.
//
// The work runs in a forked child, chrooted into the container's root file
// system and inside the store's user namespace, so owners are the
// container's IDs (root there is you on the host) and symlinks resolve
// inside the container, never on the host (the `docker cp` symlink escapes,
// CVE-2018-15664 / CVE-2019-14271 class):
//   running container: the child joins the shim's user and mount namespaces
//     (/proc/SHIM/ns/{user,mnt}), where merged/ is mounted;
//   otherwise: a fresh user + mount namespace mounts merged/ (the mount goes
//     away with the child).
// Volumes and other mounts of a running container are not visible this way
// (they live in the container's own mount namespace).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "runtime/base/child_process.h"
#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr::cmd {

// A started child working in a container's file system.
class ContainerFsChild {
 public:
  ContainerFsChild() = default;
  ContainerFsChild(ContainerFsChild&&) noexcept = default;
  ContainerFsChild& operator=(ContainerFsChild&&) noexcept = default;
  // The work's Status, or how the child died. Call once.
  Status wait();

 private:
  friend Result<ContainerFsChild> start_in_container_fs(Context&, const ContainerRecord&,
                                                        const std::function<Status()>&);
  std::optional<userns::UsernsChild> userns_child_;
  ChildProcess process_;  // the setns path
  UniqueFd from_child_;   // its Status
};

// Starts `work` with "/" = the container's root file system (see above).
// Fds the caller opened before are inherited (close your ends after).
Result<ContainerFsChild> start_in_container_fs(Context& ctx, const ContainerRecord& record,
                                               const std::function<Status()>& work);

using OwnerOverride = std::optional<std::pair<uid_t, gid_t>>;

// Writes a tar (pax) of `path` to `fd`: entries are named `top` and
// `top/...` (with top "" the tree's contents only, the root itself
// skipped, as export does). Symlinks are kept, not followed. Owners are
// as stat(2) sees them, or `owner` for every entry.
Status write_tree_tar(int fd, const std::string& path, const std::string& top, const OwnerOverride& owner = {});

// Where an extracted tree lands: entries are taken relative to `base_dir`,
// with their first path component renamed to `rename_top` when it is set.
struct ExtractTarget {
  std::string base_dir;
  std::optional<std::string> rename_top;
};
// The target for copying a source named `source_base` (a directory when
// `source_is_dir`) to `dest`, with docker/podman cp's rules: into an
// existing directory, over or as a file, as a new directory; with
// `contents_only` (SRC/.) a directory's contents go into dest. Errors as
// podman's (missing parent, directory over a file).
Result<ExtractTarget> resolve_copy_target(const std::string& dest, const std::string& source_base, bool source_is_dir,
                                          bool contents_only);

struct ExtractOptions {
  bool owners = false;  // set owners from the tar (inside the user namespace); else they stay the caller's
  // With resolve_dest: the target is decided from the first entry (whether
  // the source is a directory), on the extracting side.
  std::optional<std::string> resolve_dest;
  bool contents_only = false;
};
// Reads a tar (plain, gzip, zstd or xz) from `fd` and extracts it at
// `target` (ignored with options.resolve_dest), never writing outside the
// base directory (image/unpack's extractor: symlinks on disk are not
// followed out of it, `..` and absolute names are refused).
Status extract_tar(int fd, const ExtractTarget& target, const ExtractOptions& options);

}  // namespace ctr::cmd
