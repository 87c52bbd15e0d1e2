// Turning an archive's documents into image plans: docker-archive
// (manifest.json as written by `docker save`) and OCI (index.json ->
// manifests, possibly through nested indexes -> config + layer blobs).
#include <sys/utsname.h>

#include <nlohmann/json.hpp>
#include <set>

#include "image/archive_internal.h"
#include "image/digest.h"
#include "image/reference.h"

namespace ctr::image::detail {
namespace {

using json = nlohmann::json;

Result<json> parse_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return make_error(what + ": not valid JSON: " + e.what(), EINVAL);
  }
}

std::string string_field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>();
}

const std::set<std::string>& known_layer_types() {
  static const std::set<std::string> types = {
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  };
  return types;
}

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";


// A blob by digest, verified: the archive cannot swap documents.
Result<std::string> read_blob_member(const ArchiveSource& source, const std::string& digest, const std::string& of) {
  auto valid = validate_digest(digest);
  if (!valid) return std::move(valid).error().context(source.label + ": " + of);
  std::string name = "blobs/sha256/" + digest_hex(digest);
  auto data = read_member(source, name);
  if (!data) return std::move(data).error().context(of + " " + digest);
  if (sha256_digest(*data) != digest)
    return make_error(source.label + ": blob " + digest + " (" + of + ") does not match its digest", EINVAL);
  return data;
}

Result<ImagePlan> plan_oci_manifest(const ArchiveSource& source, const std::string& digest,
                                    const std::vector<std::string>& names) {
  TRY_ASSIGN(text, read_blob_member(source, digest, "manifest"));
  std::string what = source.label + ": manifest " + digest;
  TRY_ASSIGN(manifest, parse_json(text, what));
  ImagePlan plan;
  plan.names = names;
  plan.config_digest = string_field(manifest.value("config", json::object()), "digest");
  TRY_ASSIGN(config, read_blob_member(source, plan.config_digest, "config of manifest " + digest));
  plan.config = std::move(config);
  for (const auto& layer : manifest.value("layers", json::array())) {
    std::string type = string_field(layer, "mediaType");
    std::string layer_digest = string_field(layer, "digest");
    if (!known_layer_types().count(type))
      return make_error(what + ": layer " + layer_digest + " has an unknown media type `" + type + "`", EINVAL);
    TRY_CTX(validate_digest(layer_digest), what + ": layer");
    std::string member = "blobs/sha256/" + digest_hex(layer_digest);
    if (!has_member(source, member))
      return make_error(what + ": layer blob " + layer_digest + " is missing from the archive", ENOENT);
    plan.layers.push_back(LayerPlan{member, layer_digest, type});
  }
  return plan;
}

Status plan_oci_entry(const ArchiveSource& source, const json& descriptor, const std::vector<std::string>& names,
                      int depth, std::vector<ImagePlan>& plans);

Status plan_oci_index(const ArchiveSource& source, const json& index, const std::vector<std::string>& names, int depth,
                      std::vector<ImagePlan>& plans) {
  if (depth > 4) return make_error(source.label + ": indexes nested too deeply", EINVAL);
  for (const auto& descriptor : index.value("manifests", json::array())) {
    std::vector<std::string> entry_names = names;
    if (descriptor.contains("annotations") && descriptor["annotations"].is_object()) {
      // podman (libimage NormalizeName) reads a ref.name without a registry
      // as localhost/NAME, unlike a docker-archive's RepoTags.
      std::string ref = string_field(descriptor["annotations"], "org.opencontainers.image.ref.name");
      std::string name = ref.empty() ? "" : normalize_name(ref);
      if (!name.empty()) entry_names = {name};
    }
    TRY(plan_oci_entry(source, descriptor, entry_names, depth, plans));
  }
  return {};
}

Status plan_oci_entry(const ArchiveSource& source, const json& descriptor, const std::vector<std::string>& names,
                      int depth, std::vector<ImagePlan>& plans) {
  std::string type = string_field(descriptor, "mediaType");
  std::string digest = string_field(descriptor, "digest");
  if (type == kOciIndex || type == kDockerList) {
    TRY_ASSIGN(text, read_blob_member(source, digest, "index"));
    TRY_ASSIGN(nested, parse_json(text, source.label + ": index " + digest));
    // A multi-platform index: only the host's platform is loaded.
    size_t before = plans.size();
    json filtered = json::object({{"manifests", json::array()}});
    for (const auto& m : nested.value("manifests", json::array())) {
      std::string arch = m.contains("platform") ? string_field(m["platform"], "architecture") : "";
      if (arch.empty() || arch == host_architecture()) filtered["manifests"].push_back(m);
    }
    TRY(plan_oci_index(source, filtered, names, depth + 1, plans));
    if (plans.size() == before)
      return make_error(source.label + ": index " + digest + " has no image for " + host_architecture(), ENOENT);
    return {};
  }
  if (type != kOciManifest && type != kDockerManifest)
    return make_error(source.label + ": manifest " + digest + " has an unknown media type `" + type + "`", EINVAL);
  TRY_ASSIGN(plan, plan_oci_manifest(source, digest, names));
  plans.push_back(std::move(plan));
  return {};
}

}  // namespace

std::string normalize_name(const std::string& text) {
  if (text.empty()) return {};
  auto ref = parse_reference(text);
  if (!ref) return {};
  return ref->full();
}

std::string short_digest(const std::string& digest) { return digest_hex(digest).substr(0, 12); }

Result<std::vector<ImagePlan>> plan_docker_archive(const ArchiveSource& source) {
  TRY_ASSIGN(text, read_member(source, "manifest.json"));
  TRY_ASSIGN(manifest, parse_json(text, source.label + ": manifest.json"));
  if (!manifest.is_array() || manifest.empty())
    return make_error(source.label + ": manifest.json lists no images", EINVAL);
  std::vector<ImagePlan> plans;
  for (const auto& item : manifest) {
    ImagePlan plan;
    std::string config_name = string_field(item, "Config");
    if (config_name.empty()) return make_error(source.label + ": manifest.json: an image without Config", EINVAL);
    TRY_ASSIGN(config, read_member(source, config_name));
    plan.config = std::move(config);
    plan.config_digest = sha256_digest(plan.config);
    // `docker save` writes Docker Hub names short ("busybox:latest"); docker
    // and podman read them as docker.io/library/busybox:latest.
    for (const auto& tag : item.value("RepoTags", json::array())) {
      if (!tag.is_string()) continue;
      auto ref = parse_reference(tag.get<std::string>(), DefaultDomain::docker_hub);
      if (ref) plan.names.push_back(ref->full());
    }
    for (const auto& layer : item.value("Layers", json::array())) {
      std::string member = layer.is_string() ? layer.get<std::string>() : "";
      if (!has_member(source, member))
        return make_error(source.label + ": layer `" + member + "` named in manifest.json is missing", ENOENT);
      plan.layers.push_back(LayerPlan{member, "", ""});
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

Result<std::vector<ImagePlan>> plan_oci(const ArchiveSource& source) {
  TRY_ASSIGN(layout_text, read_member(source, "oci-layout"));
  TRY_ASSIGN(layout, parse_json(layout_text, source.label + ": oci-layout"));
  if (string_field(layout, "imageLayoutVersion").empty())
    return make_error(source.label + ": oci-layout has no imageLayoutVersion", EINVAL);
  TRY_ASSIGN(index_text, read_member(source, "index.json"));
  TRY_ASSIGN(index, parse_json(index_text, source.label + ": index.json"));
  std::vector<ImagePlan> plans;
  TRY(plan_oci_index(source, index, {}, 0, plans));
  if (plans.empty()) return make_error(source.label + ": index.json lists no images", EINVAL);
  return plans;
}

std::string host_architecture() {
  utsname u{};
  ::uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  return m;
}

}  // namespace ctr::image::detail
