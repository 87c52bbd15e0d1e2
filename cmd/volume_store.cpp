#include "cmd/volume_store.h"

#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "image/store_internal.h"
#include "runtime/base/files.h"

namespace ctr::cmd {
namespace {

using nlohmann::json;
constexpr const char* kVolumeFile = "volume.json";

std::string random_hex64() {
  unsigned char bytes[32];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    uint64_t seed = static_cast<uint64_t>(::getpid()) * 0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(::time(nullptr));
    for (auto& b : bytes) b = static_cast<unsigned char>((seed = seed * 6364136223846793005ULL + 1) >> 56);
  }
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) out += {digits[b >> 4], digits[b & 15]};
  return out;
}

int64_t now_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

Error no_such_volume(const std::string& name) {
  return make_error("no volume with name \"" + name + "\" found: no such volume", ENOENT);
}

}  // namespace

std::string volumes_dir(const image::Store& store) {
  return store.root() + "/volumes";
}

std::string volume_data_dir(const image::Store& store, const std::string& name) {
  return volumes_dir(store) + "/" + name + "/_data";
}

bool is_volume_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

Status validate_volume_name(const std::string& name) {
  if (is_volume_name(name)) return {};
  return make_error("invalid volume name \"" + name + "\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", EINVAL);
}

std::string volume_to_json(const Volume& v) {
  json j = {{"name", v.name},   {"driver", v.driver},       {"created_ns", v.created_ns},
            {"labels", v.labels}, {"options", v.options}, {"anonymous", v.anonymous}};
  return j.dump(2) + "\n";
}

Result<Volume> volume_from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    Volume v;
    v.name = j.at("name").get<std::string>();
    v.driver = j.value("driver", "local");
    v.created_ns = j.value("created_ns", int64_t{0});
    v.labels = j.value("labels", std::map<std::string, std::string>{});
    v.options = j.value("options", std::map<std::string, std::string>{});
    v.anonymous = j.value("anonymous", false);
    return v;
  } catch (const std::exception& error) {
    return make_error(std::string("malformed volume record: ") + error.what(), EINVAL);
  }
}

Result<Volume> create_volume(image::Store& store, Volume volume) {
  if (volume.name.empty()) volume.name = random_hex64();
  TRY(validate_volume_name(volume.name));
  std::string dir = volumes_dir(store) + "/" + volume.name;
  if (path_exists(dir))
    return make_error("volume with name " + volume.name + " already exists: volume already exists", EEXIST);
  TRY(mkdir_p(volumes_dir(store), 0700));
  volume.created_ns = now_ns();
  TRY_ASSIGN(staged, store.make_staging_dir("volume"));
  auto fail = [&](Error error) -> Result<Volume> {
    (void)remove_tree(staged);
    return error.context("create volume " + volume.name);
  };
  if (::mkdir((staged + "/_data").c_str(), 0755) != 0) return fail(sys_error("mkdir `" + staged + "/_data`"));
  if (auto written = write_file_atomic(staged + "/" + kVolumeFile, volume_to_json(volume), 0600); !written)
    return fail(std::move(written).error());
  if (::rename(staged.c_str(), dir.c_str()) != 0) return fail(sys_error("rename into `" + dir + "`"));
  (void)image::detail::fsync_dir(volumes_dir(store));
  return volume;
}

Result<Volume> ensure_volume(image::Store& store, const std::string& name) {
  auto existing = read_volume(store, name);
  if (existing || existing.error().code != ENOENT) return existing;
  Volume volume;
  volume.name = name;
  return create_volume(store, volume);
}

Result<Volume> read_volume(const image::Store& store, const std::string& name) {
  if (!is_volume_name(name)) return no_such_volume(name);
  std::string path = volumes_dir(store) + "/" + name + "/" + kVolumeFile;
  auto text = read_file(path);
  if (!text) {
    if (text.error().code == ENOENT) return no_such_volume(name);
    return std::move(text).error();
  }
  auto volume = volume_from_json(*text);
  if (!volume) return std::move(volume).error().context("`" + path + "`");
  return volume;
}

Result<std::vector<Volume>> list_volumes(const image::Store& store) {
  TRY_ASSIGN(names, image::detail::list_dir(volumes_dir(store)));
  std::sort(names.begin(), names.end());
  std::vector<Volume> out;
  for (const auto& name : names) {
    auto volume = read_volume(store, name);
    if (!volume) {
      if (volume.error().code == ENOENT) continue;  // not a volume dir
      return std::move(volume).error();
    }
    out.push_back(std::move(*volume));
  }
  return out;
}

Status remove_volume(image::Store& store, const std::string& name) {
  TRY(read_volume(store, name));
  std::string dir = volumes_dir(store) + "/" + name;
  TRY_ASSIGN(staged, store.make_staging_dir("volume-rm"));
  std::string doomed = staged + "/" + name;
  if (::rename(dir.c_str(), doomed.c_str()) != 0) return sys_error("remove volume " + name + ": rename `" + dir + "`");
  // Files written by containers may belong to subordinate IDs.
  TRY_CTX(image::detail::remove_tree_as_owner(staged), "remove volume " + name);
  return {};
}

Result<std::map<std::string, std::vector<std::string>>> volume_users(const image::Store& store) {
  TRY_ASSIGN(records, list_records(store));
  std::map<std::string, std::vector<std::string>> users;
  for (const auto& record : records)
    for (const auto& mount : record.mounts)
      if (mount.type == "volume" && !mount.name.empty()) {
        auto& ids = users[mount.name];
        if (std::find(ids.begin(), ids.end(), record.id) == ids.end()) ids.push_back(record.id);
      }
  return users;
}

Status remove_anonymous_volumes(Context& ctx, const ContainerRecord& record) {
  std::vector<std::string> names;
  for (const auto& mount : record.mounts)
    if (mount.type == "volume" && mount.anonymous) names.push_back(mount.name);
  if (names.empty()) return {};
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(lock, store->lock());
  TRY_ASSIGN(users, volume_users(*store));
  for (const auto& name : names) {
    auto it = users.find(name);
    bool used_by_other = it != users.end() && std::any_of(it->second.begin(), it->second.end(),
                                                          [&](const std::string& id) { return id != record.id; });
    if (used_by_other) continue;
    Status removed = remove_volume(*store, name);
    if (!removed && removed.error().code != ENOENT) return removed;
  }
  return {};
}

Result<std::vector<std::string>> prune_volumes(Context& ctx) {
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(lock, store->lock());
  TRY_ASSIGN(users, volume_users(*store));
  TRY_ASSIGN(volumes, list_volumes(*store));
  std::vector<std::string> removed;
  for (const auto& volume : volumes) {
    if (users.count(volume.name)) continue;
    TRY(remove_volume(*store, volume.name));
    removed.push_back(volume.name);
  }
  return removed;
}

}  // namespace ctr::cmd
