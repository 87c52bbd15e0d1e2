// How a container's root file system is assembled from the store's layers:
//   overlay         native rootless overlayfs (kernel >= 5.11): the layers'
//                   diff/ dirs as lowerdirs, a per-container upper and work dir
//   fuse-overlayfs  the same in user space, where the kernel refuses overlay
//                   in a user namespace (needs the binary and /dev/fuse)
//   vfs             a private copy of the layers, applied bottom-up at create
//                   time, bind-mounted (slow and large, but works anywhere)
// The choice is automatic (probe, in that order) unless overridden by
// --storage-driver, $CTR_STORAGE_DRIVER or `driver = "..."` in
// $XDG_CONFIG_HOME/ctr/storage.conf, in that order (podman's storage.conf key).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/store.h"
#include "runtime/base/result.h"
#include "userns/run_in_userns.h"

namespace ctr::image {

enum class Driver { overlay, fuse_overlayfs, vfs };

// "overlay", "fuse-overlayfs", "vfs" (the names podman uses).
const char* driver_name(Driver driver);
// The inverse; an unknown name is an error listing the valid ones.
Result<Driver> parse_driver(std::string_view text);
// In the order of automatic preference.
std::vector<Driver> all_drivers();

struct DriverOverride {
  Driver driver = Driver::overlay;
  std::string source;  // "--storage-driver", "CTR_STORAGE_DRIVER" or the storage.conf path
};

// $XDG_CONFIG_HOME/ctr/storage.conf (else ~/.config/ctr/storage.conf).
std::string storage_conf_path();
// The `driver = "NAME"` value of a storage.conf text (TOML subset: comments,
// [sections], one key per line); nullopt when there is none. `path` is for messages.
Result<std::optional<std::string>> parse_storage_conf(const std::string& text, const std::string& path);
// The explicit choice, if any: `flag_value` (--storage-driver, "" when not
// given), else $CTR_STORAGE_DRIVER, else storage.conf. A bad name is an error
// naming where it came from.
Result<std::optional<DriverOverride>> driver_override(const std::string& flag_value);

struct DriverProbe {
  std::string kernel;  // uname release the overlay result belongs to
  bool overlay_probed = false;
  bool native_overlay = false;
  std::string overlay_error;    // why native overlay cannot be used
  bool overlay_cached = false;  // taken from ROOT/driver-probe.json, not probed now
  int64_t overlay_probed_at = 0;
  bool fuse_probed = false;
  bool fuse_overlayfs = false;
  std::string fuse_path;   // the fuse-overlayfs binary found
  std::string fuse_error;  // why fuse-overlayfs cannot be used
};

// Native overlay: mounts one in the store's user namespace, on the store's
// file system, which is what a container does. The answer is cached in
// ROOT/driver-probe.json per kernel release (only when the namespace itself
// worked: a fixed /etc/subuid must not stay hidden behind an old failure).
void probe_native_overlay(Store& store, const userns::StoreMaps& maps, DriverProbe& probe);
// fuse-overlayfs: the binary in $PATH and /dev/fuse opens read-write.
// Not cached: both are cheap to check and change with packages and udev.
void probe_fuse_overlayfs(DriverProbe& probe);
// Forgets the cached overlay answer (the next probe mounts again).
Status forget_driver_probe(const Store& store);

struct DriverChoice {
  Driver driver = Driver::vfs;
  bool overridden = false;
  std::string reason;  // "--storage-driver", or what the probe found
};

// Whether `driver` can work according to `probe` (an unprobed driver counts
// as unknown, hence usable: vfs always is).
Status driver_usable(Driver driver, const DriverProbe& probe);
// Pure: the override when usable (an unusable one is an error saying why and
// how to change it), else the first usable driver in automatic order.
Result<DriverChoice> decide_driver(const DriverProbe& probe, const std::optional<DriverOverride>& override);
// The whole decision for a command: override, then only the probes needed.
Result<DriverChoice> choose_driver(Store& store, const userns::StoreMaps& maps, const std::string& flag_value,
                                   DriverProbe* probe_out = nullptr);

// Overlay mount options with lowerdirs given relative to ROOT/layers
// (top-first) and upper/work relative to it too: short enough for the one
// page mount(2) takes. An error when they do not fit.
Result<std::string> overlay_mount_options(const std::vector<std::string>& lowers_top_first, const std::string& upper,
                                          const std::string& work);

// vfs: applies layer trees (bottom first) onto `dest`, as overlay would
// show them: a 0:0 character device deletes the name below it, a directory
// with user.overlay.opaque=y hides what lower layers had in it. Owners,
// modes (setuid too), xattrs (except overlay's own), hard links within a
// layer, symlinks and mtimes are kept. Run inside the store's user
// namespace so owners can be set.
Status copy_layers(const std::vector<std::string>& layer_dirs_bottom_first, const std::string& dest);

}  // namespace ctr::image
