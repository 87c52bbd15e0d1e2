// Mounting a container's root file system, inside its user + mount
// namespace: native overlay, fuse-overlayfs, or a bind mount of the vfs copy.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "image/container_layers.h"
#include "image/digest.h"
#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::image {
namespace {

Status check_layers(const Store& store, const ContainerLayer& container) {
  for (const auto& chain : container.layer_chain_ids) {
    if (!store.has_layer(chain))
      return make_error("layer " + chain + " of container " + container.id +
                            " is missing from the image store: remove the container and create it again",
                        ENOENT);
  }
  return {};
}

// overlay takes the root directory's owner and mode from the upper dir, so
// it must look like the image's root (usually 0755 root), not like the
// private directory ctr made.
Status match_upper_to_image(const Store& store, const ContainerLayer& container, const std::string& upper) {
  if (container.layer_chain_ids.empty()) return {};
  std::string top = store.layer_diff_dir(container.layer_chain_ids.back());
  struct stat image_root {
  }, current{};
  if (::stat(top.c_str(), &image_root) != 0) return sys_error("stat `" + top + "`");
  if (::stat(upper.c_str(), &current) != 0) return sys_error("stat `" + upper + "`");
  if ((current.st_uid != image_root.st_uid || current.st_gid != image_root.st_gid) &&
      ::chown(upper.c_str(), image_root.st_uid, image_root.st_gid) != 0)
    return sys_error("chown `" + upper + "` to the image root's owner");
  if ((current.st_mode & 07777) != (image_root.st_mode & 07777) &&
      ::chmod(upper.c_str(), image_root.st_mode & 07777) != 0)
    return sys_error("chmod `" + upper + "`");
  return {};
}

// An image without layers still needs one lowerdir.
Result<std::vector<std::string>> lower_dirs(const Store& store, const ContainerLayer& container, bool relative) {
  std::vector<std::string> lowers;
  for (auto it = container.layer_chain_ids.rbegin(); it != container.layer_chain_ids.rend(); ++it)
    lowers.push_back(relative ? digest_hex(*it) + "/diff" : store.layer_diff_dir(*it));
  if (lowers.empty()) {
    std::string empty = container_paths(store, container.id).dir + "/empty";
    if (::mkdir(empty.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("create `" + empty + "`");
    lowers.push_back(relative ? "../containers/" + container.id + "/empty" : empty);
  }
  return lowers;
}

// The new mount API takes one lowerdir per call ("lowerdir+", Linux 6.8),
// so no page limit applies; relative paths resolve against our cwd.
Status mount_overlay_per_layer(const std::vector<std::string>& lowers, const std::string& upper,
                               const std::string& work, const std::string& merged) {
  int raw = ::fsopen("overlay", FSOPEN_CLOEXEC);
  if (raw < 0) return sys_error("fsopen overlay");
  UniqueFd fs(raw);
  for (const auto& lower : lowers) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", lower.c_str(), 0) != 0)
      return sys_error("add lowerdir `" + lower + "`");
  }
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "upperdir", upper.c_str(), 0) != 0) return sys_error("set upperdir");
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "workdir", work.c_str(), 0) != 0) return sys_error("set workdir");
  if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) != 0) return sys_error("set userxattr");
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) return sys_error("create overlay");
  int mnt_raw = ::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0);
  if (mnt_raw < 0) return sys_error("fsmount overlay");
  UniqueFd mnt(mnt_raw);
  if (::move_mount(mnt.get(), "", AT_FDCWD, merged.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return sys_error("move the overlay mount to `" + merged + "`");
  return {};
}

// Paths relative to ROOT/layers keep the options inside mount(2)'s one
// page for images with dozens of layers; beyond that the new mount API
// adds them one by one where the kernel has it. The cwd is restored.
Status mount_overlay(const Store& store, const ContainerLayer& container, const ContainerPaths& paths) {
  TRY_ASSIGN(lowers, lower_dirs(store, container, true));
  std::string rel = "../containers/" + container.id;
  auto options = overlay_mount_options(lowers, rel + "/upper", rel + "/work");
  if (!options && options.error().code != E2BIG) return std::move(options).error();
  TRY_ASSIGN(saved_cwd, open_fd(".", O_RDONLY | O_DIRECTORY | O_PATH));
  std::string layers = store.root() + "/layers";
  if (::chdir(layers.c_str()) != 0) return sys_error("chdir `" + layers + "`");
  Status mounted;
  if (options) {
    if (::mount("overlay", paths.merged.c_str(), "overlay", 0, options->c_str()) != 0)
      mounted = sys_error("mount overlay on `" + paths.merged + "` (" + *options + ")");
  } else {
    mounted = mount_overlay_per_layer(lowers, rel + "/upper", rel + "/work", paths.merged);
    // EINVAL: a kernel without "lowerdir+"; the page limit is the story then.
    if (!mounted && mounted.error().code == EINVAL)
      mounted = options.error().context("this kernel has no per-layer overlay option (Linux 6.8)");
  }
  (void)::fchdir(saved_cwd.get());
  return mounted;
}

std::string read_all(int fd) {
  std::string data;
  ::lseek(fd, 0, SEEK_SET);
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) data.append(buffer, static_cast<size_t>(n));
  return std::string(trim(data));
}

// fuse-overlayfs mounts, then daemonizes: when it exits 0 the mount is there.
Status mount_fuse_overlayfs(const Store& store, const ContainerLayer& container, const ContainerPaths& paths) {
  DriverProbe probe;
  probe_fuse_overlayfs(probe);
  if (!probe.fuse_overlayfs) return make_error("fuse-overlayfs cannot be used: " + probe.fuse_error, ENODEV);
  TRY_ASSIGN(lowers, lower_dirs(store, container, false));
  TRY_ASSIGN(options, overlay_mount_options(lowers, paths.upper, paths.work));
  // fuse-overlayfs has no userxattr option: it reads user.overlay.opaque by itself.
  options = options.substr(0, options.rfind(",userxattr"));
  // --userns=keep-id: fuse-overlayfs reports owners shifted into the container's namespace.
  if (!container.uid_mapping.empty()) options += ",uidmapping=" + container.uid_mapping;
  if (!container.gid_mapping.empty()) options += ",gidmapping=" + container.gid_mapping;
  int raw = ::memfd_create("fuse-overlayfs-stderr", MFD_CLOEXEC);
  if (raw < 0) return sys_error("memfd_create");
  UniqueFd err(raw);
  SpawnOptions spawn;
  spawn.stderr_fd = err.get();
  spawn.stdout_fd = err.get();
  auto ended = run_process({probe.fuse_path, "-o", options, paths.merged}, spawn, std::chrono::seconds(60));
  if (!ended) return std::move(ended).error().context("run fuse-overlayfs");
  if (ended->shell_code() != 0)
    return make_error("fuse-overlayfs on `" + paths.merged + "` " + ended->describe() + ": " + read_all(err.get()),
                      EIO);
  return {};
}

}  // namespace

Status mount_container_rootfs(const Store& store, const ContainerLayer& container) {
  std::string what =
      "mount the root file system of container " + container.id + " (" + driver_name(container.driver) + ")";
  ContainerPaths paths = container_paths(store, container.id);
  if (!path_exists(paths.merged)) return make_error(what + ": `" + paths.merged + "` is missing", ENOENT);
  switch (container.driver) {
    case Driver::overlay:
      TRY_CTX(check_layers(store, container), what);
      TRY_CTX(match_upper_to_image(store, container, paths.upper), what);
      TRY_CTX(mount_overlay(store, container, paths), what);
      return {};
    case Driver::fuse_overlayfs:
      TRY_CTX(check_layers(store, container), what);
      TRY_CTX(match_upper_to_image(store, container, paths.upper), what);
      TRY_CTX(mount_fuse_overlayfs(store, container, paths), what);
      return {};
    case Driver::vfs:
      if (::mount(paths.rootfs.c_str(), paths.merged.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return sys_error(what + ": bind `" + paths.rootfs + "` on `" + paths.merged + "`");
      return {};
  }
  return make_error(what + ": unknown driver", EINVAL);
}

Status unmount_container_rootfs(const Store& store, const ContainerLayer& container) {
  std::string merged = container_paths(store, container.id).merged;
  if (::umount2(merged.c_str(), 0) == 0) return {};
  if (errno == EINVAL) return {};  // not mounted (any more)
  // Something still uses it (an open file, a process's cwd): detach now,
  // the kernel finishes when the last user goes.
  if (errno == EBUSY && ::umount2(merged.c_str(), MNT_DETACH) == 0) return {};
  return sys_error("unmount the root file system of container " + container.id + " at `" + merged + "`");
}

}  // namespace ctr::image
