// Container storage in the image store: one directory per container,
//   ROOT/containers/<id>/container.json  the record below (the index is the
//                                         set of these directories)
//   ROOT/containers/<id>/upper/, work/    overlay's (and fuse-overlayfs') upper and work dirs
//   ROOT/containers/<id>/rootfs/          vfs only: the private copy of the layers
//   ROOT/containers/<id>/merged/          where the root file system is mounted
// A container directory is built under staging/ and renamed into place, and
// removed by renaming it back into staging/ first, so a crash never leaves a
// half-made or half-removed container visible. Callers hold Store::lock()
// across every call that changes the store (as for Store's own methods):
// garbage collection keeps exactly the layers that images and these records
// name.
//
// Using it (as ctr run will, like rootless podman): in a user namespace with
// the store's maps plus a private mount namespace, mount_container_rootfs()
// mounts merged/, and the OCI runtime runs there with root.path = merged/.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "image/rootfs_driver.h"
#include "image/store.h"
#include "runtime/base/result.h"

namespace ctr::image {

struct ContainerLayer {
  std::string id;
  std::string image_id;                      // "sha256:..."
  std::string image_name;                    // as the user named it ("" when by ID); for messages
  std::vector<std::string> layer_chain_ids;  // bottom first
  Driver driver = Driver::overlay;           // the one it was created with, for its whole life
  int64_t created = 0;                       // unix seconds
  // --userns=keep-id: the container's ID maps in fuse-overlayfs' form
  // ("0:1:1001:1001:0:1:..."), so the mount shows the layers' owners as the
  // container's namespace numbers them. Empty: no shift.
  std::string uid_mapping, gid_mapping;
};

// The shift of a container's view of its layers (keep-id); fuse-overlayfs only.
struct LayerIdShift {
  std::string uid_mapping, gid_mapping;
};

struct ContainerPaths {
  std::string dir, upper, work, merged, rootfs;
};
ContainerPaths container_paths(const Store& store, const std::string& id);

// Ids are path components: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}.
Status validate_container_id(const std::string& id);

// Creates the storage for container `id` of `image` with `driver` (vfs
// copies the layers now, inside the store's user namespace). An id already
// in use is an error (EEXIST). Under the store lock.
// With `shift` the driver must be fuse-overlayfs (the kernel cannot idmap
// an overlay mount, and vfs copies are not shifted): EINVAL otherwise.
Result<ContainerLayer> create_container_layer(Store& store, const std::string& id, const ImageRecord& image,
                                              Driver driver, const std::string& image_name = {},
                                              const LayerIdShift* shift = nullptr);
// Removes a container's storage (its files belong to subordinate IDs: removed
// in the user namespace when needed). The caller makes sure it is not
// mounted any more (mounts live in the container's mount namespace). Under
// the store lock. ENOENT when there is no such container.
Status remove_container_layer(Store& store, const std::string& id);
// Every container, sorted by creation time then id. A corrupt record is an
// error naming its file.
Result<std::vector<ContainerLayer>> list_container_layers(const Store& store);
Result<ContainerLayer> find_container_layer(const Store& store, const std::string& id);
// Image ID -> ids of the containers created from it.
Result<std::map<std::string, std::vector<std::string>>> image_users(const Store& store);

// Inside the user + mount namespace: mounts the container's root file
// system on its merged/ directory with the record's driver.
Status mount_container_rootfs(const Store& store, const ContainerLayer& container);
// Undoes it (fuse-overlayfs' daemon exits once its mount is gone).
Status unmount_container_rootfs(const Store& store, const ContainerLayer& container);

}  // namespace ctr::image
