#include "cmd/volume_flags.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "cmd/volume_store.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

const std::set<std::string> kPropagation = {"private", "rprivate", "shared",     "rshared",
                                            "slave",   "rslave",   "unbindable", "runbindable"};
const std::set<std::string> kPassThrough = {"nosuid", "suid", "nodev", "dev", "noexec", "exec"};

bool has_prefix(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

// "/a//b/" -> "/a/b"; relative is an error naming the flag's text.
Result<std::string> clean_destination(const std::string& path, const std::string& flag) {
  if (path.empty() || path[0] != '/')
    return make_error("invalid container path \"" + path + "\" in `" + flag + "`: it must be an absolute path",
                      EINVAL);
  std::string out;
  for (const auto& part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return make_error("invalid container path \"" + path + "\": `..` is not allowed", EINVAL);
    out += "/" + part;
  }
  if (out.empty()) return make_error("invalid container path \"" + path + "\": cannot mount over /", EINVAL);
  return out;
}

std::string absolute_host_path(const std::string& path, const std::string& cwd) {
  if (!path.empty() && path[0] == '/') return path;
  std::string rel = path;
  while (has_prefix(rel, "./")) rel.erase(0, 2);
  if (rel == ".") rel.clear();
  return rel.empty() ? cwd : cwd + "/" + rel;
}

// One -v option word into `request`; false for an unknown one.
Status apply_volume_option(MountRequest& request, const std::string& word, bool& rw_set, bool& propagation_set,
                           const std::string& flag) {
  if (word == "ro" || word == "rw") {
    if (rw_set) return make_error("invalid options in `" + flag + "`: ro and rw given more than once", EINVAL);
    rw_set = true;
    request.readonly = word == "ro";
  } else if (word == "z" || word == "Z") {
    // SELinux relabeling: nothing to do without SELinux.
  } else if (word == "U") {
    request.chown = true;
  } else if (kPropagation.count(word)) {
    if (propagation_set) return make_error("invalid options in `" + flag + "`: more than one propagation", EINVAL);
    propagation_set = true;
    request.options.push_back(word);
  } else if (kPassThrough.count(word)) {
    request.options.push_back(word);
  } else if (word == "bind" || word == "rbind") {
    if (request.type != "bind") return make_error("invalid option \"" + word + "\" for a volume in `" + flag + "`", EINVAL);
    request.options.push_back(word);
  } else if (word == "nocopy") {
    // ctr never copies image content into a volume: what nocopy asks for.
  } else {
    return make_error("invalid option \"" + word + "\" in `" + flag +
                          "`: use ro, rw, z, Z, U, nocopy, [r]private, [r]shared, [r]slave, [no]suid, [no]dev, "
                          "[no]exec",
                      EINVAL);
  }
  return {};
}

Status check_tmpfs_option(const std::string& word, const std::string& flag) {
  static const std::set<std::string> plain = {"ro",     "rw",   "nosuid",    "suid",        "nodev",
                                              "dev",    "noexec", "exec",    "tmpcopyup",   "notmpcopyup",
                                              "sync",   "async", "noatime",  "atime",       "relatime",
                                              "strictatime", "nodiratime", "diratime"};
  for (const char* prefix : {"size=", "mode=", "uid=", "gid=", "nr_inodes=", "nr_blocks="})
    if (has_prefix(word, prefix) && word.size() > std::string(prefix).size()) return {};
  if (plain.count(word) || kPropagation.count(word)) return {};
  return make_error("invalid tmpfs option \"" + word + "\" in `" + flag + "`", EINVAL);
}

// Sizes as podman's tmpfs-size: bytes, or with k, m, g (kept as the kernel reads them).
Result<std::string> tmpfs_size(const std::string& value, const std::string& flag) {
  std::string digits = value;
  if (!digits.empty() && std::string("kKmMgG").find(digits.back()) != std::string::npos) digits.pop_back();
  if (digits.empty() || !parse_u64(digits))
    return make_error("invalid tmpfs-size \"" + value + "\" in `" + flag + "`: use bytes or a k, m, g suffix", EINVAL);
  return value;
}

std::vector<std::string> image_volumes(const image::Store& store, const image::ImageRecord& image) {
  std::vector<std::string> out;
  auto text = store.read_blob(image.config_digest);
  if (!text) return out;
  try {
    auto doc = nlohmann::json::parse(*text);
    auto config = doc.find("config");
    if (config == doc.end() || !config->is_object()) return out;
    auto volumes = config->find("Volumes");
    if (volumes == config->end() || !volumes->is_object()) return out;
    for (const auto& item : volumes->items()) out.push_back(item.key());
  } catch (const std::exception&) {
  }
  return out;
}

Status chown_tree(const std::string& path, uid_t uid, gid_t gid) {
  if (::lchown(path.c_str(), uid, gid) != 0) return sys_error("chown `" + path + "`");
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return sys_error("lstat `" + path + "`");
  if (!S_ISDIR(st.st_mode)) return {};
  TRY_ASSIGN(dir, open_fd(path, O_RDONLY | O_DIRECTORY));
  DIR* d = ::fdopendir(dir.release());
  if (!d) return sys_error("open directory `" + path + "`");
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  for (const auto& n : names) TRY(chown_tree(path + "/" + n, uid, gid));
  return {};
}

}  // namespace

Result<MountRequest> parse_volume_flag(const std::string& text, const std::string& cwd) {
  std::string flag = "-v " + text;
  auto parts = split(text, ':');
  if (text.empty() || parts.size() > 3) return make_error("invalid volume `" + text + "`: use SRC:DST[:OPTS]", EINVAL);
  MountRequest request;
  std::string options_text;
  if (parts.size() == 1) {
    request.type = "volume";  // anonymous
    TRY_ASSIGN(dst, clean_destination(parts[0], flag));
    request.destination = dst;
  } else {
    const std::string& src = parts[0];
    if (src.empty()) return make_error("invalid volume `" + text + "`: the source is empty", EINVAL);
    if (src[0] == '/' || src[0] == '.') {
      request.type = "bind";
      request.source = absolute_host_path(src, cwd);
    } else {
      if (!is_volume_name(src))
        return make_error("creating named volume \"" + src +
                              "\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (a host path must start with / or .)",
                          EINVAL);
      request.type = "volume";
      request.source = src;
    }
    TRY_ASSIGN(dst, clean_destination(parts[1], flag));
    request.destination = dst;
    if (parts.size() == 3) options_text = parts[2];
  }
  bool rw_set = false, propagation_set = false;
  if (parts.size() == 3 && options_text.empty())
    return make_error("invalid volume `" + text + "`: empty options", EINVAL);
  for (const auto& word : split(options_text, ','))
    if (!word.empty()) TRY(apply_volume_option(request, word, rw_set, propagation_set, flag));
  return request;
}

Result<MountRequest> parse_mount_flag(const std::string& text, const std::string& cwd) {
  std::string flag = "--mount " + text;
  MountRequest request;
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& field : split(text, ',')) {
    if (field.empty()) continue;
    auto eq = field.find('=');
    fields.emplace_back(field.substr(0, eq), eq == std::string::npos ? "" : field.substr(eq + 1));
  }
  for (const auto& [key, value] : fields)
    if (key == "type") request.type = value;
  if (request.type != "bind" && request.type != "volume" && request.type != "tmpfs")
    return make_error("invalid mount `" + text + "`: type must be bind, volume or tmpfs", EINVAL);
  std::string target;
  bool propagation_set = false, copyup = true;
  for (const auto& [key, value] : fields) {
    auto boolean = [&, key = key, value = value]() -> Result<bool> {
      if (value.empty() || value == "true" || value == "1") return true;
      if (value == "false" || value == "0") return false;
      return make_error("invalid value \"" + value + "\" for " + key + " in `" + flag + "`: use true or false", EINVAL);
    };
    if (key == "type") continue;
    if (key == "source" || key == "src") {
      if (request.type == "tmpfs") return make_error("invalid mount `" + text + "`: tmpfs takes no source", EINVAL);
      if (value.empty()) return make_error("invalid mount `" + text + "`: empty source", EINVAL);
      request.source = request.type == "bind" ? absolute_host_path(value, cwd) : value;
    } else if (key == "target" || key == "destination" || key == "dst") {
      target = value;
    } else if (key == "ro" || key == "readonly") {
      TRY_ASSIGN(on, boolean());
      request.readonly = on;
    } else if (key == "rw") {
      TRY_ASSIGN(on, boolean());
      request.readonly = !on;
    } else if (key == "bind-propagation" && request.type == "bind") {
      if (!kPropagation.count(value) || propagation_set)
        return make_error("invalid bind-propagation \"" + value + "\" in `" + flag + "`", EINVAL);
      propagation_set = true;
      request.options.push_back(value);
    } else if ((key == "relabel" && request.type != "tmpfs") || key == "consistency") {
      // SELinux relabeling / Docker for Mac's consistency: nothing to do here.
    } else if ((key == "U" || key == "chown") && request.type != "tmpfs") {
      TRY_ASSIGN(on, boolean());
      request.chown = on;
    } else if (key == "tmpfs-size" && request.type == "tmpfs") {
      TRY_ASSIGN(size, tmpfs_size(value, flag));
      request.options.push_back("size=" + size);
    } else if (key == "tmpfs-mode" && request.type == "tmpfs") {
      if (value.empty() || value.find_first_not_of("01234567") != std::string::npos)
        return make_error("invalid tmpfs-mode \"" + value + "\" in `" + flag + "`: use an octal mode", EINVAL);
      request.options.push_back("mode=" + value);
    } else if (key == "tmpcopyup" && request.type == "tmpfs") {
      copyup = true;
    } else if (key == "notmpcopyup" && request.type == "tmpfs") {
      copyup = false;
    } else if (kPassThrough.count(key) && value.empty()) {
      request.options.push_back(key);
    } else {
      return make_error("unsupported option \"" + key + "\" for a " + request.type + " mount in `" + flag + "`",
                        EINVAL);
    }
  }
  if (request.type == "bind" && request.source.empty())
    return make_error("invalid mount `" + text + "`: a bind mount needs source=", EINVAL);
  if (request.type == "volume" && !request.source.empty() && !is_volume_name(request.source))
    return make_error("invalid volume name \"" + request.source + "\" in `" + flag +
                          "`: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                      EINVAL);
  if (target.empty()) return make_error("invalid mount `" + text + "`: target= is required", EINVAL);
  TRY_ASSIGN(dst, clean_destination(target, flag));
  request.destination = dst;
  if (request.type == "tmpfs") {
    // podman's --mount type=tmpfs defaults.
    request.options.insert(request.options.begin(), {"rprivate", "nosuid", "nodev"});
    if (copyup) request.options.push_back("tmpcopyup");
  }
  return request;
}

Result<MountRequest> parse_tmpfs_flag(const std::string& text) {
  std::string flag = "--tmpfs " + text;
  auto colon = text.find(':');
  MountRequest request;
  request.type = "tmpfs";
  TRY_ASSIGN(dst, clean_destination(text.substr(0, colon), flag));
  request.destination = dst;
  if (colon != std::string::npos)
    for (const auto& word : split(text.substr(colon + 1), ',')) {
      if (word.empty()) continue;
      TRY(check_tmpfs_option(word, flag));
      if (word == "ro") request.readonly = true;
      if (word == "rw") request.readonly = false;
      if (word != "ro" && word != "rw") request.options.push_back(word);
    }
  return request;
}

Result<std::vector<MountRequest>> parse_mount_flags(const MountFlags& flags, const std::string& cwd) {
  std::vector<MountRequest> out;
  for (const auto& text : flags.volumes) {
    TRY_ASSIGN(request, parse_volume_flag(text, cwd));
    out.push_back(std::move(request));
  }
  for (const auto& text : flags.mounts) {
    TRY_ASSIGN(request, parse_mount_flag(text, cwd));
    out.push_back(std::move(request));
  }
  for (const auto& text : flags.tmpfs) {
    TRY_ASSIGN(request, parse_tmpfs_flag(text));
    // podman's --tmpfs defaults (its man page): rw, noexec, nosuid, nodev.
    std::vector<std::string> options = {"rw", "noexec", "nosuid", "nodev"};
    options.insert(options.end(), request.options.begin(), request.options.end());
    request.options = options;
    out.push_back(std::move(request));
  }
  std::set<std::string> seen;
  for (const auto& request : out)
    if (!seen.insert(request.destination).second)
      return make_error(request.destination + ": duplicate mount destination", EINVAL);
  return out;
}

Result<std::vector<RecordMount>> resolve_mounts(image::Store& store, const image::ImageRecord& image,
                                                const std::vector<MountRequest>& requests) {
  std::vector<MountRequest> all = requests;
  for (const auto& path : image_volumes(store, image)) {
    auto dst = clean_destination(path, "image VOLUME");
    if (!dst) continue;
    bool covered = std::any_of(all.begin(), all.end(), [&](const MountRequest& r) { return r.destination == *dst; });
    if (!covered) all.push_back(MountRequest{"volume", "", *dst, {}, false, false});
  }
  std::vector<RecordMount> out;
  for (const auto& request : all) {
    RecordMount mount;
    mount.type = request.type;
    mount.destination = request.destination;
    mount.rw = !request.readonly;
    bool has_propagation = std::any_of(request.options.begin(), request.options.end(),
                                       [](const std::string& o) { return kPropagation.count(o) > 0; });
    if (request.type == "bind") {
      struct statfs fs {};
      if (::statfs(request.source.c_str(), &fs) != 0) {
        if (errno == ENOENT)  // podman's words
          return make_error("statfs " + request.source + ": no such file or directory (create it, or fix the path)",
                            ENOENT);
        return sys_error("statfs " + request.source);
      }
      mount.source = request.source;
      bool plain_bind = std::find(request.options.begin(), request.options.end(), "bind") != request.options.end();
      if (!plain_bind) mount.options.push_back("rbind");
    } else if (request.type == "volume") {
      Volume volume;
      if (request.source.empty()) {
        volume.anonymous = true;
        TRY_ASSIGN(made, create_volume(store, volume));
        volume = made;
        mount.anonymous = true;
      } else {
        TRY_ASSIGN(found, ensure_volume(store, request.source));
        volume = found;
      }
      mount.name = volume.name;
      mount.source = volume_data_dir(store, volume.name);
      mount.options = {"nosuid", "nodev", "rbind"};
    } else {
      mount.source = "tmpfs";  // its default options come from the flag's parser
    }
    for (const auto& option : request.options)
      if (std::find(mount.options.begin(), mount.options.end(), option) == mount.options.end())
        mount.options.push_back(option);
    if (request.readonly) mount.options.push_back("ro");
    if (!has_propagation && request.type != "tmpfs") mount.options.push_back("rprivate");
    if (request.chown) mount.options.push_back("U");
    out.push_back(std::move(mount));
  }
  return out;
}

std::vector<SpecMount> spec_mounts(const std::vector<RecordMount>& mounts) {
  std::vector<SpecMount> out;
  for (const auto& m : mounts) {
    SpecMount spec{m.destination, m.type == "tmpfs" ? "tmpfs" : "bind", m.source, {}};
    for (const auto& option : m.options)
      if (option != "U") spec.options.push_back(option);
    out.push_back(std::move(spec));
  }
  return out;
}

Status chown_mount_sources(const userns::StoreMaps& maps, const std::vector<RecordMount>& mounts,
                           const std::string& spec_json) {
  std::vector<std::string> paths;
  for (const auto& m : mounts)
    if (m.type != "tmpfs" && std::find(m.options.begin(), m.options.end(), "U") != m.options.end())
      paths.push_back(m.source);
  if (paths.empty()) return {};
  uid_t uid = 0;
  gid_t gid = 0;
  try {
    auto spec = nlohmann::json::parse(spec_json);
    const auto& user = spec.at("process").at("user");
    uid = user.value("uid", 0u);
    gid = user.value("gid", 0u);
  } catch (const std::exception& error) {
    return make_error(std::string("the U volume option: cannot read the container's user: ") + error.what(), EINVAL);
  }
  // In the store's user namespace the container's IDs are ours to give.
  Status done = userns::run_in_userns(maps, [&]() -> Status {
    for (const auto& path : paths) TRY(chown_tree(path, uid, gid));
    return {};
  });
  if (!done)
    return std::move(done).error().context("the U volume option: chown to " + std::to_string(uid) + ":" +
                                           std::to_string(gid));
  return {};
}

}  // namespace ctr::cmd
