// Container storage records: create (staged, committed by rename), remove
// (renamed out of sight first), list and find.
#include "image/container_layers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "image/store_internal.h"
#include "runtime/base/files.h"
#include "userns/run_in_userns.h"

namespace ctr::image {
namespace {

using nlohmann::json;

constexpr const char* kRecordName = "container.json";

json to_json(const ContainerLayer& c) {
  json j{{"id", c.id},
         {"image", c.image_id},
         {"imageName", c.image_name},
         {"layers", c.layer_chain_ids},
         {"driver", driver_name(c.driver)},
         {"created", c.created}};
  if (!c.uid_mapping.empty()) j["uidMapping"] = c.uid_mapping;
  if (!c.gid_mapping.empty()) j["gidMapping"] = c.gid_mapping;
  return j;
}

Result<ContainerLayer> read_record(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  ContainerLayer c;
  std::string driver;
  try {
    json j = json::parse(*text);
    c.id = j.at("id").get<std::string>();
    c.image_id = j.at("image").get<std::string>();
    c.image_name = j.value("imageName", std::string());
    c.layer_chain_ids = j.at("layers").get<std::vector<std::string>>();
    driver = j.at("driver").get<std::string>();
    c.created = j.value("created", int64_t{0});
    c.uid_mapping = j.value("uidMapping", std::string());
    c.gid_mapping = j.value("gidMapping", std::string());
  } catch (const json::exception& e) {
    return make_error("container record `" + path + "` is corrupt: " + e.what(), EINVAL);
  }
  auto parsed = parse_driver(driver);
  if (!parsed) return std::move(parsed).error().context("container record `" + path + "`");
  c.driver = *parsed;
  return c;
}

// Removes a staged container directory unless it was committed.
struct StagedDir {
  std::string path;
  bool committed = false;
  ~StagedDir() {
    if (!committed && !path.empty()) (void)detail::remove_tree_as_owner(path);
  }
};

Status check_image_layers(const Store& store, const ImageRecord& image) {
  for (const auto& chain : image.layer_chain_ids) {
    if (!store.has_layer(chain))
      return make_error("image " + image.id + ": layer " + chain +
                            " is missing from the image store: remove the image and load it again",
                        ENOENT);
  }
  return {};
}

Status copy_into(const Store& store, const ImageRecord& image, const std::string& rootfs) {
  std::vector<std::string> layers;
  for (const auto& chain : image.layer_chain_ids) layers.push_back(store.layer_diff_dir(chain));
  // Owners are subordinate IDs: only root in the store's namespace can set them.
  TRY_ASSIGN(maps, userns::store_maps());
  return userns::run_in_userns(maps, [&]() -> Status { return copy_layers(layers, rootfs); });
}

}  // namespace

ContainerPaths container_paths(const Store& store, const std::string& id) {
  std::string dir = store.root() + "/containers/" + id;
  return ContainerPaths{dir, dir + "/upper", dir + "/work", dir + "/merged", dir + "/rootfs"};
}

Status validate_container_id(const std::string& id) {
  auto ok_char = [](char c, bool first) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || (!first && (c == '_' || c == '.' || c == '-'));
  };
  bool valid = !id.empty() && id.size() <= 128;
  for (size_t i = 0; valid && i < id.size(); ++i) valid = ok_char(id[i], i == 0);
  if (!valid)
    return make_error("invalid container id `" + id +
                          "`: use 1 to 128 letters, digits, `_`, `.` or `-`, starting with a letter or digit",
                      EINVAL);
  return {};
}

Result<ContainerLayer> create_container_layer(Store& store, const std::string& id, const ImageRecord& image,
                                              Driver driver, const std::string& image_name,
                                              const LayerIdShift* shift) {
  std::string what = "create the storage of container " + id;
  TRY_CTX(validate_container_id(id), what);
  if (shift && driver != Driver::fuse_overlayfs)
    return make_error(what + ": an ID-shifted view of the layers (--userns=keep-id) needs the fuse-overlayfs driver, "
                          "not " + driver_name(driver),
                      EINVAL);
  TRY_CTX(check_image_layers(store, image), what);
  ContainerPaths paths = container_paths(store, id);
  if (path_exists(paths.dir)) return make_error(what + ": a container with this id already exists", EEXIST);
  TRY_ASSIGN(staged_path, store.make_staging_dir("container-" + id));
  StagedDir staged{staged_path};
  for (const char* sub : {"/upper", "/work", "/merged"})
    if (::mkdir((staged.path + sub).c_str(), 0700) != 0)
      return sys_error(what + ": create `" + staged.path + sub + "`");
  if (driver == Driver::vfs) {
    std::string rootfs = staged.path + "/rootfs";
    if (::mkdir(rootfs.c_str(), 0700) != 0) return sys_error(what + ": create `" + rootfs + "`");
    TRY_CTX(copy_into(store, image, rootfs), what + " (vfs copy of the image)");
  }
  ContainerLayer record{
      id, image.id, image_name, image.layer_chain_ids, driver, static_cast<int64_t>(std::time(nullptr)), {}, {}};
  if (shift) record.uid_mapping = shift->uid_mapping, record.gid_mapping = shift->gid_mapping;
  TRY_CTX(write_file_atomic(staged.path + "/" + kRecordName, to_json(record).dump(2) + "\n", 0600), what);
  if (::rename(staged.path.c_str(), paths.dir.c_str()) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY)
      return make_error(what + ": a container with this id already exists", EEXIST);
    return sys_error(what + ": rename `" + staged.path + "` to `" + paths.dir + "`");
  }
  staged.committed = true;
  TRY_CTX(detail::fsync_dir(store.root() + "/containers"), what);
  return record;
}

Status remove_container_layer(Store& store, const std::string& id) {
  std::string what = "remove the storage of container " + id;
  TRY_CTX(validate_container_id(id), what);
  ContainerPaths paths = container_paths(store, id);
  struct stat st {};
  if (::lstat(paths.dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return make_error(what + ": no such container", ENOENT);
    return sys_error(what + ": stat `" + paths.dir + "`");
  }
  // Deleting through a live mount would delete the image's layers (or a
  // running container's files): refuse while merged/ is a mount point here.
  struct statx merged {};
  if (::statx(AT_FDCWD, paths.merged.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &merged) == 0 &&
      (merged.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (merged.stx_attributes & STATX_ATTR_MOUNT_ROOT))
    return make_error(what + ": its root file system is still mounted on `" + paths.merged + "`: unmount it first",
                      EBUSY);
  // Out of containers/ in one step; the slow delete happens in staging/,
  // where a crash leaves garbage the next open() removes.
  TRY_ASSIGN(doomed, store.make_staging_dir("rm-container-" + id));
  if (::rename(paths.dir.c_str(), doomed.c_str()) != 0) {
    auto error = sys_error(what + ": rename `" + paths.dir + "` to `" + doomed + "`");
    (void)::rmdir(doomed.c_str());
    return error;
  }
  (void)detail::fsync_dir(store.root() + "/containers");
  TRY_CTX(detail::remove_tree_as_owner(doomed), what);
  return {};
}

Result<std::vector<ContainerLayer>> list_container_layers(const Store& store) {
  TRY_ASSIGN(names, detail::list_dir(store.root() + "/containers"));
  std::vector<ContainerLayer> out;
  for (const auto& name : names) {
    std::string path = store.root() + "/containers/" + name + "/" + kRecordName;
    auto record = read_record(path);
    if (!record && record.error().code == ENOENT) continue;  // not a container directory
    if (!record) return std::move(record).error().context("list containers");
    out.push_back(std::move(record).value());
  }
  std::sort(out.begin(), out.end(), [](const ContainerLayer& a, const ContainerLayer& b) {
    return a.created != b.created ? a.created < b.created : a.id < b.id;
  });
  return out;
}

Result<ContainerLayer> find_container_layer(const Store& store, const std::string& id) {
  TRY(validate_container_id(id));
  std::string path = container_paths(store, id).dir + "/" + kRecordName;
  auto record = read_record(path);
  if (!record && record.error().code == ENOENT)
    return make_error("no container storage for `" + id + "` in `" + store.root() + "`", ENOENT);
  return record;
}

Result<std::map<std::string, std::vector<std::string>>> image_users(const Store& store) {
  TRY_ASSIGN(containers, list_container_layers(store));
  std::map<std::string, std::vector<std::string>> users;
  for (const auto& c : containers) users[c.image_id].push_back(c.id);
  return users;
}

}  // namespace ctr::image
