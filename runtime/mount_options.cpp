#include "runtime/mount_options.h"

#include <sys/mount.h>

#include <string_view>

// glibc >= 2.36 pulls <linux/mount.h> into <sys/mount.h>; older ones do not,
// and including both there conflicts, so define what is missing ourselves.
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef MOUNT_ATTR_NOSUID
#define MOUNT_ATTR_NOSUID 0x00000002
#endif
#ifndef MOUNT_ATTR_NODEV
#define MOUNT_ATTR_NODEV 0x00000004
#endif
#ifndef MOUNT_ATTR_NOEXEC
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef MOUNT_ATTR__ATIME
#define MOUNT_ATTR__ATIME 0x00000070
#endif
#ifndef MOUNT_ATTR_RELATIME
#define MOUNT_ATTR_RELATIME 0x00000000
#endif
#ifndef MOUNT_ATTR_NOATIME
#define MOUNT_ATTR_NOATIME 0x00000010
#endif
#ifndef MOUNT_ATTR_STRICTATIME
#define MOUNT_ATTR_STRICTATIME 0x00000020
#endif
#ifndef MOUNT_ATTR_NODIRATIME
#define MOUNT_ATTR_NODIRATIME 0x00000080
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

namespace ctr {

namespace {

// A word that sets or clears one MS_* bit. Later words win over earlier ones
// ("ro,rw" is read-write), as with mount(8).
struct FlagOption {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"defaults", false, 0},  // mount(8)'s "defaults" is the kernel's default: nothing to set
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr PropagationOption kPropagationOptions[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

// Recursive attributes for mount_setattr(2) with AT_RECURSIVE.
struct AttrOption {
  std::string_view name;
  bool clear;
  unsigned long long attr;
};

constexpr AttrOption kAttrOptions[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

// The atime mode is a 3-bit field, not independent bits: mount_setattr(2)
// wants MOUNT_ATTR__ATIME in attr_clr and exactly one mode in attr_set.
// "norelatime" has no mode of its own; the only atime-updating mode that is
// not relatime is strictatime, so that is what it means here.
struct AtimeOption {
  std::string_view name;
  unsigned long long mode;
};

constexpr AtimeOption kAtimeOptions[] = {
    {"rrelatime", MOUNT_ATTR_RELATIME},       {"ratime", MOUNT_ATTR_RELATIME},
    {"rnostrictatime", MOUNT_ATTR_RELATIME},  {"rnoatime", MOUNT_ATTR_NOATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME}, {"rnorelatime", MOUNT_ATTR_STRICTATIME},
};

template <typename Table>
auto find_option(const Table& table, std::string_view name) -> decltype(&table[0]) {
  for (const auto& entry : table)
    if (entry.name == name) return &entry;
  return nullptr;
}

// Handles the words that are not plain MS_* flags; false when `word` is none of them.
bool apply_special(MountOptions& out, std::string_view word) {
  if (word == "bind" || word == "rbind") {
    out.bind = true;
    out.flags |= MS_BIND;
    if (word == "rbind") {
      out.recursive = true;
      out.flags |= MS_REC;
    }
    return true;
  }
  if (word == "idmap" || word == "ridmap") {
    out.idmap = true;
    if (word == "ridmap") out.idmap_recursive = true;
    return true;
  }
  if (word == "tmpcopyup") return out.tmpcopyup = true;
  if (word == "copy-symlink") return out.copy_symlink = true;
  return false;
}

bool apply_table_option(MountOptions& out, std::string_view word) {
  if (const auto* flag = find_option(kFlagOptions, word)) {
    if (flag->clear)
      out.flags &= ~flag->flag;
    else
      out.flags |= flag->flag;
    return true;
  }
  if (const auto* prop = find_option(kPropagationOptions, word)) {
    out.propagation = prop->flags;  // one propagation type per mount: the last word wins
    return true;
  }
  if (const auto* attr = find_option(kAttrOptions, word)) {
    if (attr->clear) {
      out.attr_clr |= attr->attr;
      out.attr_set &= ~attr->attr;
    } else {
      out.attr_set |= attr->attr;
      out.attr_clr &= ~attr->attr;
    }
    return true;
  }
  if (const auto* atime = find_option(kAtimeOptions, word)) {
    out.attr_clr |= MOUNT_ATTR__ATIME;
    out.attr_set = (out.attr_set & ~static_cast<unsigned long long>(MOUNT_ATTR__ATIME)) | atime->mode;
    return true;
  }
  return false;
}

}  // namespace

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string& word = options[i];
    if (word.empty()) return make_error("mount option " + std::to_string(i) + " is empty", EINVAL);
    if (apply_special(out, word) || apply_table_option(out, word)) continue;
    // Unknown to us: the filesystem decides (mode=755, size=65536k, lowerdir=...).
    if (!out.data.empty()) out.data += ',';
    out.data += word;
  }
  return out;
}

}  // namespace ctr
