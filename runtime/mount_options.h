// Decodes OCI mount options ("ro", "rbind", "rslave", "mode=755", ...) into
// what mount(2) and mount_setattr(2) take.
#pragma once

#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr {

struct MountOptions {
  unsigned long flags = 0;        // MS_* to set (MS_RDONLY, MS_NOSUID, ... and MS_BIND|MS_REC for rbind)
  unsigned long propagation = 0;  // one of MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, maybe |MS_REC; 0 = none
  bool bind = false;              // "bind" or "rbind"
  bool recursive = false;         // "rbind"
  // Recursive attributes ("rro", "rnosuid", ...): MOUNT_ATTR_* bits for
  // mount_setattr(2) with AT_RECURSIVE.
  unsigned long long attr_set = 0;
  unsigned long long attr_clr = 0;
  bool idmap = false;            // "idmap" / "ridmap"
  bool idmap_recursive = false;  // "ridmap": idmap every submount too (AT_RECURSIVE)
  bool tmpcopyup = false;        // crun's "tmpcopyup": copy the image's dir into a fresh tmpfs
  bool copy_symlink = false;
  std::string data;  // everything else, comma-joined, for mount(2)'s data ("mode=755,size=65536k")
};

// Never fails on unknown words: they go to `data`, as runc does, because the
// filesystem decides what it accepts. Fails only on malformed input
// (an empty option).
Result<MountOptions> parse_mount_options(const std::vector<std::string>& options);

}  // namespace ctr
