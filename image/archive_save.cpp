// save_images: images from the store as an oci-archive or a docker-archive.
// The store keeps no layer tarballs (only the unpacked trees), so every layer
// is regenerated as an uncompressed tar from its diff directory, inside the
// store's user namespace (archive_save_layer.cpp). Those bytes may differ from
// the tarball the layer was loaded from, so the diff IDs can change: the saved
// config then gets rootfs.diff_ids rewritten to the new tar digests so the
// archive is self-consistent (the image ID, the config digest, changes with
// it). When the regenerated digests equal the recorded ones, the config is
// saved untouched and the image keeps its ID.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "image/archive.h"
#include "image/archive_internal.h"
#include "image/digest.h"
#include "image/store_internal.h"
#include "runtime/base/files.h"
#include "userns/run_in_userns.h"

namespace ctr::image {
namespace detail {
// archive_save_layer.cpp
Status write_layer_tar(const std::string& diff_dir, const std::string& tar_path);
}  // namespace detail

namespace {

using json = nlohmann::json;

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr const char* kOciLayer = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";

struct SavedLayer {
  std::string chain_id;
  std::string diff_dir;
  std::string tar_path;  // in the staging dir
  std::string digest;    // of the regenerated tar (= its diff ID)
  uint64_t size = 0;
};

struct SavedImage {
  ImageRecord record;
  std::vector<std::string> names;   // to record in the archive
  std::vector<size_t> layers;       // indexes into the layer list, bottom first
  std::string config;               // as saved
  std::string config_digest;
  std::string manifest;             // OCI manifest (oci-archive)
  std::string manifest_digest;
};

struct ArchiveWriterDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// Removes a staging directory (files written inside the user namespace are
// ours, but be safe) or a temp file on every path.
struct RemoveOnExit {
  std::string dir;
  std::string file;
  ~RemoveOnExit() {
    if (!file.empty()) ::unlink(file.c_str());
    if (!dir.empty()) (void)detail::remove_tree_as_owner(dir);
  }
};

bool name_matches(const std::string& name, const std::string& reference) {
  std::string normalized = detail::normalize_name(reference);
  if (!normalized.empty() && normalized == name) return true;
  for (const std::string& candidate : {reference, reference + ":latest"}) {
    if (name == candidate) return true;
    if (name.size() > candidate.size() && name.compare(name.size() - candidate.size(), candidate.size(), candidate) == 0 &&
        name[name.size() - candidate.size() - 1] == '/')
      return true;
  }
  return false;
}

// The image's names this reference asks for; by ID: all its names.
std::vector<std::string> names_for(const ImageRecord& image, const std::string& reference) {
  std::vector<std::string> matched;
  for (const auto& name : image.names)
    if (name_matches(name, reference)) matched.push_back(name);
  return matched.empty() ? image.names : matched;
}

Result<std::pair<std::string, uint64_t>> digest_file(const std::string& path) {
  TRY_ASSIGN(fd, open_fd(path, O_RDONLY | O_CLOEXEC));
  Sha256 sha;
  uint64_t total = 0;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read `" + path + "`");
    }
    if (n == 0) break;
    sha.update(buffer.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  return std::make_pair(sha.finish(), total);
}

class OutputArchive {
 public:
  Status open(int fd, const std::string& what) {
    what_ = what;
    a_.reset(archive_write_new());
    if (!a_) return make_error(what_ + ": out of memory", ENOMEM);
    if (archive_write_set_format_pax_restricted(a_.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a_.get(), 1) != ARCHIVE_OK ||
        archive_write_open_fd(a_.get(), fd) != ARCHIVE_OK)
      return fail();
    return {};
  }
  Status add_data(const std::string& name, const std::string& data) {
    if (!written_.insert(name).second) return {};
    TRY(header(name, data.size()));
    if (!data.empty() && archive_write_data(a_.get(), data.data(), data.size()) < 0) return fail();
    return {};
  }
  Status add_file(const std::string& name, const std::string& path, uint64_t size) {
    if (!written_.insert(name).second) return {};
    TRY_ASSIGN(fd, open_fd(path, O_RDONLY | O_CLOEXEC));
    TRY(header(name, size));
    std::vector<char> buffer(1 << 20);
    uint64_t left = size;
    while (left > 0) {
      ssize_t n = ::read(fd.get(), buffer.data(), std::min<uint64_t>(buffer.size(), left));
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error("read `" + path + "`");
      }
      if (n == 0) return make_error(what_ + ": `" + path + "` shrank while being saved", EIO);
      if (archive_write_data(a_.get(), buffer.data(), static_cast<size_t>(n)) < 0) return fail();
      left -= static_cast<uint64_t>(n);
    }
    return {};
  }
  // A directory entry (tools that untar as an unprivileged user, such as
  // skopeo, chown every entry: members are owned by the saving user).
  Status add_dir(const std::string& name) {
    if (!written_.insert(name).second) return {};
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFDIR);
    archive_entry_set_perm(e.get(), 0755);
    archive_entry_set_uid(e.get(), ::getuid());
    archive_entry_set_gid(e.get(), ::getgid());
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a_.get(), e.get()) < ARCHIVE_WARN) return fail();
    return {};
  }
  Status close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return fail();
    return {};
  }

 private:
  Status header(const std::string& name, uint64_t size) {
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_uid(e.get(), ::getuid());
    archive_entry_set_gid(e.get(), ::getgid());
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a_.get(), e.get()) < ARCHIVE_WARN) return fail();
    return {};
  }
  Status fail() const {
    const char* msg = archive_error_string(a_.get());
    return make_error(what_ + ": " + (msg ? msg : "libarchive error"), EIO);
  }
  std::unique_ptr<archive, ArchiveWriterDeleter> a_;
  std::string what_;
  std::set<std::string> written_;
};

Status write_oci(OutputArchive& out, const std::vector<SavedImage>& images, const std::vector<SavedLayer>& layers) {
  TRY(out.add_data("oci-layout", json{{"imageLayoutVersion", "1.0.0"}}.dump()));
  json manifests = json::array();
  for (const auto& image : images) {
    json descriptor = {{"mediaType", kOciManifest},
                       {"digest", image.manifest_digest},
                       {"size", image.manifest.size()}};
    if (image.names.empty()) manifests.push_back(descriptor);
    for (const auto& name : image.names) {
      json named = descriptor;
      named["annotations"] = {{"org.opencontainers.image.ref.name", name}};
      manifests.push_back(std::move(named));
    }
  }
  json index = {{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", manifests}};
  TRY(out.add_data("index.json", index.dump()));
  TRY(out.add_dir("blobs"));
  TRY(out.add_dir("blobs/sha256"));
  for (const auto& image : images) {
    TRY(out.add_data("blobs/sha256/" + digest_hex(image.config_digest), image.config));
    TRY(out.add_data("blobs/sha256/" + digest_hex(image.manifest_digest), image.manifest));
    for (size_t i : image.layers)
      TRY(out.add_file("blobs/sha256/" + digest_hex(layers[i].digest), layers[i].tar_path, layers[i].size));
  }
  return {};
}

Status write_docker(OutputArchive& out, const std::vector<SavedImage>& images, const std::vector<SavedLayer>& layers) {
  json manifest = json::array();
  json repositories = json::object();
  for (const auto& image : images) {
    json item = {{"Config", digest_hex(image.config_digest) + ".json"}, {"RepoTags", image.names}, {"Layers", json::array()}};
    for (size_t i : image.layers) item["Layers"].push_back(digest_hex(layers[i].digest) + "/layer.tar");
    manifest.push_back(std::move(item));
    for (const auto& name : image.names) {
      auto colon = name.rfind(':');
      if (name.find('@') != std::string::npos || colon == std::string::npos || colon < name.rfind('/')) continue;
      repositories[name.substr(0, colon)][name.substr(colon + 1)] = digest_hex(image.config_digest);
    }
  }
  TRY(out.add_data("manifest.json", manifest.dump()));
  if (!repositories.empty()) TRY(out.add_data("repositories", repositories.dump()));
  for (const auto& image : images) {
    TRY(out.add_data(digest_hex(image.config_digest) + ".json", image.config));
    for (size_t i : image.layers) {
      TRY(out.add_dir(digest_hex(layers[i].digest)));
      TRY(out.add_file(digest_hex(layers[i].digest) + "/layer.tar", layers[i].tar_path, layers[i].size));
    }
  }
  return {};
}

// The config as saved: diff_ids rewritten to the regenerated tars' digests
// (untouched when they already agree).
Result<std::string> saved_config(const std::string& text, const std::vector<std::string>& diff_ids,
                                 const std::string& what) {
  try {
    json config = json::parse(text);
    if (!config.is_object()) return make_error(what + ": config is not a JSON object", EINVAL);
    json ids = json(diff_ids);
    if (config.contains("rootfs") && config["rootfs"].is_object() && config["rootfs"].value("diff_ids", json()) == ids)
      return text;
    if (!config.contains("rootfs") || !config["rootfs"].is_object())
      config["rootfs"] = {{"type", "layers"}};
    config["rootfs"]["diff_ids"] = ids;
    return config.dump();
  } catch (const json::exception& e) {
    return make_error(what + ": config: " + e.what(), EINVAL);
  }
}

Status copy_to_stdout(const std::string& path) {
  TRY_ASSIGN(fd, open_fd(path, O_RDONLY | O_CLOEXEC));
  std::vector<char> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read `" + path + "`");
    }
    if (n == 0) return {};
    TRY_CTX(write_all(1, buffer.data(), static_cast<size_t>(n)), "write the archive to stdout");
  }
}

}  // namespace

Status save_images(const Store& store, const std::vector<std::string>& references, const std::string& path,
                   ArchiveFormat format, const ProgressFn& progress) {
  std::string what = path == "-" ? "save to stdout" : "save `" + path + "`";
  if (references.empty()) return make_error(what + ": no images given", EINVAL);

  // Resolve every reference; one entry per image, names merged.
  std::vector<SavedImage> images;
  std::vector<SavedLayer> layers;
  std::map<std::string, size_t> layer_index;  // chain ID -> layers
  for (const auto& reference : references) {
    TRY_ASSIGN(record, store.find_image(reference));
    std::vector<std::string> names = names_for(record, reference);
    SavedImage* image = nullptr;
    for (auto& existing : images)
      if (existing.record.id == record.id) image = &existing;
    if (!image) {
      images.push_back(SavedImage{record, {}, {}, {}, {}, {}, {}});
      image = &images.back();
      for (const auto& chain : record.layer_chain_ids) {
        auto [it, added] = layer_index.emplace(chain, layers.size());
        if (added) layers.push_back(SavedLayer{chain, store.layer_diff_dir(chain), {}, {}, 0});
        image->layers.push_back(it->second);
      }
    }
    for (const auto& name : names)
      if (std::find(image->names.begin(), image->names.end(), name) == image->names.end()) image->names.push_back(name);
  }

  // Regenerate the layer tars in the store's user namespace.
  // make_staging_dir only creates a directory; it does not change the Store object.
  TRY_ASSIGN(staging, const_cast<Store&>(store).make_staging_dir("save"));
  RemoveOnExit cleanup{staging, {}};
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!path_exists(layers[i].diff_dir))
      return make_error(what + ": layer " + layers[i].chain_id + " is missing from the store", ENOENT);
    layers[i].tar_path = staging + "/layer-" + std::to_string(i) + ".tar";
  }
  TRY_ASSIGN(maps, userns::store_maps());
  if (!layers.empty()) {
    Status written = userns::run_in_userns(maps, [&]() -> Status {
      for (const auto& layer : layers) TRY(detail::write_layer_tar(layer.diff_dir, layer.tar_path));
      return {};
    });
    if (!written) return std::move(written).error().context(what);
  }
  for (auto& layer : layers) {
    TRY_ASSIGN(digested, digest_file(layer.tar_path));
    layer.digest = digested.first;
    layer.size = digested.second;
    if (progress) progress(Progress{detail::short_digest(layer.digest), layer.size, layer.size, true});
  }

  // Configs and manifests.
  for (auto& image : images) {
    TRY_ASSIGN(config_text, store.read_blob(image.record.config_digest));
    std::vector<std::string> diff_ids;
    for (size_t i : image.layers) diff_ids.push_back(layers[i].digest);
    TRY_ASSIGN(config, saved_config(config_text, diff_ids, what + ": image " + image.record.id));
    image.config = std::move(config);
    image.config_digest = sha256_digest(image.config);
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", kOciManifest},
                     {"config", {{"mediaType", kOciConfig}, {"digest", image.config_digest}, {"size", image.config.size()}}},
                     {"layers", json::array()}};
    for (size_t i : image.layers)
      manifest["layers"].push_back({{"mediaType", kOciLayer}, {"digest", layers[i].digest}, {"size", layers[i].size}});
    image.manifest = manifest.dump();
    image.manifest_digest = sha256_digest(image.manifest);
  }

  // The archive: a temp file beside `path` (in staging for stdout), renamed into place.
  std::string temp;
  if (path == "-") {
    temp = staging + "/archive-XXXXXX";
  } else {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    temp = dir + "/.ctr-save-XXXXXX";
  }
  int raw = ::mkstemp(temp.data());
  if (raw < 0) return sys_error(what + ": create a temporary file beside it");
  UniqueFd fd(raw);
  RemoveOnExit temp_cleanup{{}, temp};
  {
    OutputArchive out;
    TRY(out.open(fd.get(), what));
    if (format == ArchiveFormat::oci_archive) TRY(write_oci(out, images, layers));
    else TRY(write_docker(out, images, layers));
    TRY(out.close());
  }
  if (path == "-") return copy_to_stdout(temp);

  mode_t mask = ::umask(022);
  ::umask(mask);
  if (::fchmod(fd.get(), 0666 & ~mask) != 0) return sys_error(what + ": chmod");
  if (::fsync(fd.get()) != 0) return sys_error(what + ": fsync");
  if (::rename(temp.c_str(), path.c_str()) != 0) return sys_error(what);
  temp_cleanup.file.clear();
  return {};
}

}  // namespace ctr::image
