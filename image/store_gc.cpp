// Garbage collection: layers and blobs that no image references go away;
// layers a container was created from stay while the container does.
// Layers are first renamed into staging/ (one atomic step, so a half-deleted
// layer is never visible under layers/), then deleted; a crash in between
// leaves garbage that the next open() removes.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "image/container_layers.h"
#include "image/store.h"
#include "image/store_internal.h"
#include "runtime/base/files.h"
#include "userns/run_in_userns.h"

namespace ctr::image {

namespace detail {

static uint64_t dir_size_at(int dir_fd) {
  uint64_t total = 0;
  DIR* dir = ::fdopendir(dir_fd);
  if (!dir) {
    ::close(dir_fd);
    return 0;
  }
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISDIR(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_size);
      continue;
    }
    int child = ::openat(::dirfd(dir), entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child >= 0) total += dir_size_at(child);
  }
  ::closedir(dir);
  return total;
}

uint64_t tree_size(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd < 0 ? 0 : dir_size_at(fd);
}

// Gives us rwx on every directory we own below `dir_fd` (images ship
// read-only directories such as /proc at 0555; unlinking inside needs w).
static void open_up_own_dirs(int dir_fd) {
  DIR* dir = ::fdopendir(dir_fd);
  if (!dir) {
    ::close(dir_fd);
    return;
  }
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (st.st_uid == ::geteuid() && (st.st_mode & S_IRWXU) != S_IRWXU)
      (void)::fchmodat(::dirfd(dir), entry->d_name, (st.st_mode & 07777) | S_IRWXU, 0);
    int child = ::openat(::dirfd(dir), entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child >= 0) open_up_own_dirs(child);
  }
  ::closedir(dir);
}

static bool refused(const Status& status) {
  return !status && (status.error().code == EACCES || status.error().code == EPERM);
}

Status remove_tree_as_owner(const std::string& path) {
  auto removed = remove_tree(path);
  if (!refused(removed)) return removed;
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    if (st.st_uid == ::geteuid()) (void)::chmod(path.c_str(), (st.st_mode & 07777) | S_IRWXU);
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) open_up_own_dirs(fd);
    removed = remove_tree(path);
    if (!refused(removed)) return removed;
  }
  // Files of subordinate owners (or read-only directories from the image)
  // that we may not delete from outside: inside the store's user namespace
  // we are root over exactly those owners.
  auto maps = userns::store_maps();
  if (!maps) return std::move(maps).error().context("remove `" + path + "`");
  auto status = userns::run_in_userns(*maps, [&]() -> Status { return remove_tree(path); });
  if (!status) return std::move(status).error().context("remove `" + path + "` in the store's user namespace");
  return {};
}

}  // namespace detail

namespace {

// Moves an unused layer out of layers/ and deletes it; returns bytes freed.
Result<uint64_t> remove_layer(const std::string& root, const std::string& hex) {
  std::string dir = root + "/layers/" + hex;
  uint64_t size = detail::tree_size(dir);
  std::string doomed = root + "/staging/" + std::to_string(::getpid()) + "-gc-" + hex;
  std::string target = dir;
  if (::rename(dir.c_str(), doomed.c_str()) == 0) target = doomed;
  auto status = detail::remove_tree_as_owner(target);
  if (!status) return std::move(status).error().context("remove unused layer sha256:" + hex);
  return size;
}

Result<uint64_t> remove_blob(const std::string& root, const std::string& hex) {
  std::string path = root + "/blobs/sha256/" + hex;
  struct stat st;
  uint64_t size = ::lstat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("remove unused blob `" + path + "`");
  return size;
}

}  // namespace

Result<uint64_t> Store::garbage_collect() {
  TRY_ASSIGN(images, list_images());
  std::set<std::string> layers_used, blobs_used;
  for (const auto& image : images) {
    for (const auto& chain : image.layer_chain_ids) layers_used.insert(chain);
    // Only manifests and configs are kept as blobs: layer tarballs would
    // double the disk use, and save re-creates them from the unpacked dirs.
    if (!image.manifest_digest.empty()) blobs_used.insert(image.manifest_digest);
    if (!image.config_digest.empty()) blobs_used.insert(image.config_digest);
  }
  // A container's lowerdirs must outlive `rmi -f` of its image until the
  // container goes too (a corrupt record stops the collection: better kept
  // garbage than a deleted lowerdir under a running container).
  TRY_ASSIGN(containers, list_container_layers(*this));
  for (const auto& container : containers)
    for (const auto& chain : container.layer_chain_ids) layers_used.insert(chain);
  uint64_t freed = 0;
  TRY_ASSIGN(layer_names, detail::list_dir(root_ + "/layers"));
  for (const auto& hex : layer_names) {
    if (layers_used.count("sha256:" + hex)) continue;
    TRY_ASSIGN(size, remove_layer(root_, hex));
    freed += size;
  }
  TRY_ASSIGN(blob_names, detail::list_dir(root_ + "/blobs/sha256"));
  for (const auto& hex : blob_names) {
    if (blobs_used.count("sha256:" + hex)) continue;
    TRY_ASSIGN(size, remove_blob(root_, hex));
    freed += size;
  }
  (void)detail::fsync_dir(root_ + "/layers");
  (void)detail::fsync_dir(root_ + "/blobs/sha256");
  return freed;
}

}  // namespace ctr::image
