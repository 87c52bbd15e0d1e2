// The image index: ROOT/images.json, a JSON array of image records, read and
// rewritten whole (atomically) under the store lock, and image lookup.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "image/digest.h"
#include "image/store.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::image {

namespace {

using nlohmann::json;

json image_to_json(const ImageRecord& image) {
  return json{{"id", image.id},
              {"names", image.names},
              {"manifestDigest", image.manifest_digest},
              {"configDigest", image.config_digest},
              {"layers", image.layer_chain_ids},
              {"diffIDs", image.diff_ids},
              {"created", image.created},
              {"loaded", image.loaded},
              {"size", image.size}};
}

ImageRecord image_from_json(const json& j) {  // throws json::exception
  ImageRecord image;
  image.id = j.at("id").get<std::string>();
  image.names = j.value("names", std::vector<std::string>{});
  image.manifest_digest = j.value("manifestDigest", std::string());
  image.config_digest = j.value("configDigest", std::string());
  image.layer_chain_ids = j.value("layers", std::vector<std::string>{});
  image.diff_ids = j.value("diffIDs", std::vector<std::string>{});
  image.created = j.value("created", int64_t{0});
  image.loaded = j.value("loaded", int64_t{0});
  image.size = j.value("size", uint64_t{0});
  return image;
}

std::string index_path(const std::string& root) {
  return root + "/images.json";
}

Result<std::vector<ImageRecord>> read_index(const std::string& root) {
  std::vector<ImageRecord> images;
  auto text = read_file(index_path(root));
  if (!text) {
    if (text.error().code == ENOENT) return images;  // a new store
    return std::move(text).error().context("read the image index");
  }
  try {
    json j = json::parse(*text);
    if (!j.is_array())
      return make_error("the image index `" + index_path(root) + "` is corrupt: not a JSON array", EINVAL);
    for (const auto& entry : j) images.push_back(image_from_json(entry));
  } catch (const json::exception& e) {
    return make_error("the image index `" + index_path(root) + "` is corrupt: " + e.what(), EINVAL);
  }
  return images;
}

Status write_index(const std::string& root, const std::vector<ImageRecord>& images) {
  json j = json::array();
  for (const auto& image : images) j.push_back(image_to_json(image));
  TRY_CTX(write_file_atomic(index_path(root), j.dump(1) + "\n", 0600), "write the image index");
  return {};
}

std::string normalize_id(const std::string& id) {
  return starts_with(id, "sha256:") ? id : "sha256:" + id;
}

// "localhost/busybox:latest" -> "localhost/busybox"; a ':' before the last
// '/' belongs to a registry port.
std::string repository_of(const std::string& name) {
  std::string base = name.substr(0, name.find('@'));
  size_t slash = base.rfind('/');
  size_t colon = base.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) base.resize(colon);
  return base;
}

std::string tag_of(const std::string& name) {
  std::string base = name.substr(0, name.find('@'));
  size_t slash = base.rfind('/');
  size_t colon = base.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) return base.substr(colon + 1);
  return "";
}

Error not_found(const std::string& text) {
  return make_error("image \"" + text + "\" not found in the store (see ctr images)", ENOENT);
}

Error ambiguous(const std::string& what, const std::vector<std::string>& candidates) {
  return make_error(what + " is ambiguous: matches " + join(candidates, ", "), EINVAL);
}

struct NameQuery {
  std::string repository;  // normalized, "localhost/busybox"; "" to match by suffix only
  std::string short_path;  // "busybox": matches any repository ending in "/busybox"
  std::string tag;
  std::string digest;
};

bool repository_matches(const NameQuery& query, const std::string& repository) {
  if (!query.repository.empty()) return repository == query.repository;
  return !query.short_path.empty() && repository.size() > query.short_path.size() &&
         repository.ends_with("/" + query.short_path);
}

bool name_matches(const NameQuery& query, const std::string& name) {
  return repository_matches(query, repository_of(name)) && (!query.digest.empty() || tag_of(name) == query.tag);
}

// Images one of whose names matches `query`; with a digest, the manifest
// digest must match too (the tag, if also given, is then ignored as docker does).
std::vector<const ImageRecord*> match_names(const std::vector<ImageRecord>& images, const NameQuery& query) {
  std::vector<const ImageRecord*> found;
  for (const auto& image : images) {
    if (!query.digest.empty() && image.manifest_digest != query.digest) continue;
    bool hit = std::any_of(image.names.begin(), image.names.end(),
                           [&](const std::string& name) { return name_matches(query, name); });
    if (hit) found.push_back(&image);
  }
  return found;
}

// Podman's resolution of a short name ("busybox", "busybox:1.36", "user/app")
// among local images, in order: localhost/NAME (what import and tag make),
// then Docker Hub's canonical name (docker.io/library/busybox: the registry
// podman searches first on Debian and Fedora), then any repository ending in
// "/NAME". More than one image at that last step is an error naming them all,
// rather than a guess. A name with a registry matches only itself.
Result<Store::ImageMatch> find_by_name(const std::vector<ImageRecord>& images, const std::string& text,
                                       const Reference& ref) {
  NameQuery query{ref.name, "", ref.tag, ref.digest};
  auto found = match_names(images, query);
  if (found.empty() && !ref.qualified) {
    if (auto hub = parse_reference(text, DefaultDomain::docker_hub)) {
      query.repository = hub->name;
      found = match_names(images, query);
    }
    if (found.empty()) {
      query.repository.clear();
      query.short_path = ref.path;
      found = match_names(images, query);
    }
  }
  if (found.empty()) return not_found(text);
  std::vector<std::string> names;
  for (const auto* image : found) {
    for (const auto& name : image->names)
      if (name_matches(query, name)) names.push_back(name);
  }
  if (found.size() == 1) return Store::ImageMatch{*found.front(), names.front()};
  std::sort(names.begin(), names.end());
  return make_error("short name \"" + text + "\" is ambiguous: it matches " + join(names, ", ") +
                        "; use the full name",
                    EINVAL);
}

Result<Store::ImageMatch> find_by_id(const std::vector<ImageRecord>& images, const std::string& text) {
  std::string id = normalize_id(text);
  std::vector<const ImageRecord*> found;
  for (const auto& image : images) {
    if (image.id == id) return Store::ImageMatch{image, ""};
    if (starts_with(image.id, id)) found.push_back(&image);
  }
  if (found.size() == 1) return Store::ImageMatch{*found.front(), ""};
  if (found.empty()) return not_found(text);
  std::vector<std::string> ids;
  for (const auto* image : found) ids.push_back(digest_hex(image->id).substr(0, 12));
  return ambiguous("image ID prefix \"" + text + "\"", ids);
}

}  // namespace

Result<std::vector<ImageRecord>> Store::list_images() const {
  return read_index(root_);
}

Status Store::put_image(const ImageRecord& image) {
  TRY_CTX(validate_digest(image.id), "store image");
  TRY_ASSIGN(images, read_index(root_));
  bool replaced = false;
  for (auto& existing : images) {
    if (existing.id == image.id) {
      existing = image;
      replaced = true;
      continue;
    }
    // A tag names one image: it moves here. The old holder stays, unnamed
    // (found by ID, podman's <none>), until removed.
    std::erase_if(existing.names, [&](const std::string& name) {
      return std::find(image.names.begin(), image.names.end(), name) != image.names.end();
    });
  }
  if (!replaced) images.push_back(image);
  return write_index(root_, images);
}

Status Store::remove_image(const std::string& id) {
  TRY_ASSIGN(images, read_index(root_));
  std::string wanted = normalize_id(id);
  size_t before = images.size();
  std::erase_if(images, [&](const ImageRecord& image) { return image.id == wanted; });
  if (images.size() == before) return not_found(id);
  return write_index(root_, images);
}

Result<ImageRecord> Store::find_image(const std::string& text) const {
  TRY_ASSIGN(match, resolve_image(text));
  return std::move(match.image);
}

Result<Store::ImageMatch> Store::resolve_image(const std::string& text) const {
  TRY_ASSIGN(images, read_index(root_));
  for (const auto& image : images) {
    if (std::find(image.names.begin(), image.names.end(), text) != image.names.end()) return ImageMatch{image, text};
  }
  auto ref = parse_reference(text);
  if (ref) {
    auto found = find_by_name(images, text, *ref);
    if (found || found.error().code != ENOENT) return found;
  }
  if (looks_like_id(text)) return find_by_id(images, text);
  // Neither a name nor an ID: say what is wrong with it as a name.
  if (!ref) return std::move(ref).error();
  return not_found(text);
}

}  // namespace ctr::image
