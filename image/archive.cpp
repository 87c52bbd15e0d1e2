// load_archive and the commit of planned images. Layers are unpacked into
// staging directories by forked children inside the store's user namespace
// (so every owner survives), up to kParallel at once, without the store
// lock; only the short commit (renames, blobs, the index) holds it.
#include "image/archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "image/archive_internal.h"
#include "image/digest.h"
#include "image/store_internal.h"
#include "image/tar_layout.h"
#include "runtime/base/files.h"
#include "userns/run_in_userns.h"

namespace ctr::image {
namespace detail {
namespace {

using json = nlohmann::json;
constexpr size_t kParallel = 2;

int64_t parse_created(const std::string& text) {
  std::tm tm{};
  if (text.size() < 19 || !::strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return static_cast<int64_t>(::timegm(&tm));
}

std::string layer_media_type(const std::string& compression) {
  std::string type = "application/vnd.oci.image.layer.v1.tar";
  if (!compression.empty()) type += "+" + compression;
  return type;
}

struct PendingLayer {
  size_t index = 0;
  std::string staging;  // staging dir holding diff/ and the child's result
  UnpackedLayer result;
};

// The child's side: unpack one layer, leave its digests in a result file.
Status unpack_in_child(const ArchiveSource& source, const LayerPlan& layer, const std::string& diff_id,
                       const std::string& staging, const CommitOptions& options, bool ignore_chown) {
  UnpackOptions unpack;
  unpack.expected_digest = layer.expected_digest;
  unpack.expected_diff_id = diff_id;
  unpack.what = source.label + ", layer `" + layer.member + "`";
  unpack.max_entry_size = options.max_entry_size;
  unpack.max_size = options.max_size;
  unpack.ignore_chown_errors = ignore_chown;
  unpack.tar_layout_path = staging + "/" + kTarLayoutFile;  // committed with diff/, for `ctr save`
  return with_member_reader(source, layer.member, [&](const ReadFn& read) -> Status {
    TRY_ASSIGN(done, unpack_layer_from(read, staging + "/diff", unpack));
    json result = {{"digest", done.digest},           {"diffID", done.diff_id},
                   {"size", done.size},               {"streamSize", done.stream_size},
                   {"compression", done.compression}, {"notes", done.notes}};
    return write_file_atomic(staging + "/unpack.json", result.dump());
  });
}

Result<UnpackedLayer> read_child_result(const std::string& staging) {
  TRY_ASSIGN(text, read_file(staging + "/unpack.json"));
  try {
    json j = json::parse(text);
    UnpackedLayer layer;
    layer.digest = j.at("digest").get<std::string>();
    layer.diff_id = j.at("diffID").get<std::string>();
    layer.size = j.at("size").get<uint64_t>();
    layer.stream_size = j.at("streamSize").get<uint64_t>();
    layer.compression = j.at("compression").get<std::string>();
    return layer;
  } catch (const json::exception& e) {
    return make_error(std::string("unpack result: ") + e.what(), EIO);
  }
}

void discard(std::vector<PendingLayer>& pending) {
  for (const auto& p : pending) (void)remove_tree_as_owner(p.staging);
  pending.clear();
}

// Unpacks every layer of the plan the store lacks. On error, nothing stays.
Status unpack_missing(Store& store, const ArchiveSource& source, const ImagePlan& plan,
                      const std::vector<std::string>& diff_ids, const std::vector<std::string>& chains,
                      const CommitOptions& options, std::vector<PendingLayer>& pending) {
  TRY_ASSIGN(maps, userns::store_maps());
  bool ignore_chown = maps.single_id;
  std::vector<std::pair<size_t, userns::UsernsChild>> running;  // index into pending
  Status first_error;
  auto reap_one = [&]() {
    auto [slot, child] = std::move(running.front());
    running.erase(running.begin());
    Status done = child.wait();
    if (done) {
      auto result = read_child_result(pending[slot].staging);
      if (result) pending[slot].result = std::move(*result);
      else done = std::move(result).error();
    }
    if (!done && first_error) first_error = std::move(done).error();
    if (done && options.progress) {
      const auto& r = pending[slot].result;
      options.progress(Progress{short_digest(diff_ids[pending[slot].index]), r.stream_size, r.stream_size, true});
    }
  };
  for (size_t i = 0; i < plan.layers.size() && first_error; ++i) {
    if (store.has_layer(chains[i])) continue;
    bool repeated = false;  // the same chain twice (cannot happen with distinct parents; be safe)
    for (const auto& p : pending) repeated = repeated || chains[p.index] == chains[i];
    if (repeated) continue;
    TRY_ASSIGN(staging, store.make_staging_dir("layer-" + short_digest(chains[i])));
    pending.push_back(PendingLayer{i, staging, {}});
    if (::mkdir((staging + "/diff").c_str(), 0755) != 0) {
      first_error = sys_error("create `" + staging + "/diff`");
      break;
    }
    if (options.progress) options.progress(Progress{short_digest(diff_ids[i]), 0, 0, false});
    const LayerPlan& layer = plan.layers[i];
    const std::string& diff_id = diff_ids[i];
    auto child = userns::start_in_userns(
        maps, [&, staging]() { return unpack_in_child(source, layer, diff_id, staging, options, ignore_chown); });
    if (!child) {
      first_error = std::move(child).error();
      break;
    }
    running.emplace_back(pending.size() - 1, std::move(*child));
    if (running.size() >= kParallel) reap_one();
  }
  while (!running.empty()) reap_one();
  if (!first_error) {
    discard(pending);
    return first_error;
  }
  return {};
}

Result<std::vector<std::string>> config_diff_ids(const json& config, const ImagePlan& plan, const std::string& what) {
  std::vector<std::string> diff_ids;
  try {
    for (const auto& d : config.at("rootfs").at("diff_ids")) diff_ids.push_back(d.get<std::string>());
  } catch (const json::exception& e) {
    return make_error(what + ": no rootfs.diff_ids: " + e.what(), EINVAL);
  }
  if (diff_ids.size() != plan.layers.size())
    return make_error(what + ": " + std::to_string(plan.layers.size()) + " layers but " +
                          std::to_string(diff_ids.size()) + " diff_ids in the config",
                      EINVAL);
  for (const auto& d : diff_ids) TRY_CTX(validate_digest(d), what + ": rootfs.diff_ids");
  return diff_ids;
}

Status commit_layers(Store& store, const std::vector<PendingLayer>& pending, const std::vector<std::string>& chains,
                     const std::vector<std::string>& diff_ids) {
  for (const auto& p : pending) {
    LayerRecord record;
    record.chain_id = chains[p.index];
    record.diff_id = diff_ids[p.index];
    record.parent_chain_id = p.index == 0 ? "" : chains[p.index - 1];
    record.compressed_digest = p.result.digest;
    record.size = p.result.size;
    TRY(store.commit_layer(p.staging, record));
  }
  return {};
}

}  // namespace

Result<ImageRecord> commit_image_plan(Store& store, const ArchiveSource& source, const ImagePlan& plan,
                                     const CommitOptions& options) {
  std::string what = source.label + ": image " + plan.config_digest;
  json config;
  try {
    config = json::parse(plan.config);
  } catch (const json::exception& e) {
    return make_error(what + ": config is not valid JSON: " + e.what(), EINVAL);
  }
  TRY_ASSIGN(diff_ids, config_diff_ids(config, plan, what));
  std::vector<std::string> chains;
  for (size_t i = 0; i < diff_ids.size(); ++i) chains.push_back(chain_id(i ? chains[i - 1] : "", diff_ids[i]));

  std::vector<PendingLayer> pending;
  TRY(unpack_missing(store, source, plan, diff_ids, chains, options, pending));

  ImageRecord image;
  image.id = plan.config_digest;
  image.names = plan.names;
  image.config_digest = plan.config_digest;
  image.layer_chain_ids = chains;
  image.diff_ids = diff_ids;
  image.created = parse_created(config.value("created", std::string()));
  image.loaded = static_cast<int64_t>(::time(nullptr));
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"config",
                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                     {"digest", plan.config_digest},
                     {"size", plan.config.size()}}},
                   {"layers", json::array()}};
  for (size_t i = 0; i < chains.size(); ++i) {
    json layer = {{"mediaType", plan.layers[i].media_type.empty() ? layer_media_type("") : plan.layers[i].media_type},
                  {"digest", diff_ids[i]},
                  {"size", 0}};
    for (const auto& p : pending)
      if (p.index == i) layer = {{"mediaType", layer_media_type(p.result.compression)},
                                 {"digest", p.result.digest},
                                 {"size", p.result.stream_size}};
    manifest["layers"].push_back(layer);
  }

  auto lock = store.lock();
  if (!lock) {
    discard(pending);
    return std::move(lock).error();
  }
  Status committed = commit_layers(store, pending, chains, diff_ids);
  if (!committed) {
    discard(pending);
    return std::move(committed).error().context(what);
  }
  for (const auto& chain : chains) {
    auto layer = store.read_layer(chain);
    if (layer) image.size += layer->size;
  }
  TRY_CTX(store.put_blob(plan.config, plan.config_digest), what);
  TRY_ASSIGN(manifest_digest, store.put_blob(manifest.dump()));
  image.manifest_digest = manifest_digest;
  // Loading an image that is already here adds its names and keeps the old
  // ones (podman does the same); the caller reports the archive's names.
  ImageRecord stored = image;
  TRY_ASSIGN(present, store.list_images());
  for (const auto& other : present) {
    if (other.id != image.id) continue;
    stored.names = other.names;
    for (const auto& name : image.names)
      if (std::find(stored.names.begin(), stored.names.end(), name) == stored.names.end()) stored.names.push_back(name);
  }
  TRY_CTX(store.put_image(stored), what);
  return image;
}

}  // namespace detail

namespace {

// stdin cannot be scanned twice: spool it under the store's staging dir.
Result<std::string> spool_stdin(Store& store, uint64_t max_size) {
  TRY_ASSIGN(dir, store.make_staging_dir("load-stdin"));
  std::string path = dir + "/archive";
  TRY_ASSIGN(out, open_fd(path, O_WRONLY | O_CREAT | O_EXCL, 0600));
  char buffer[65536];
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read the archive from stdin");
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > max_size)
      return make_error("archive from stdin: over the size limit of " + std::to_string(max_size) + " bytes", EFBIG);
    TRY(write_all(out.get(), buffer, static_cast<size_t>(n)));
  }
  return path;
}

}  // namespace

Result<std::vector<ImageRecord>> load_archive(Store& store, const std::string& path, const LoadOptions& options) {
  std::string file = path;
  std::string label = "archive `" + path + "`";
  std::string spooled;
  if (path == "-") {
    label = "archive from stdin";
    auto spool = spool_stdin(store, options.max_archive_size);
    if (!spool) return std::move(spool).error();
    file = spooled = *spool;
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (!dir.empty()) (void)remove_tree(dir);
    }
  } cleanup{spooled.empty() ? "" : spooled.substr(0, spooled.rfind('/'))};

  TRY_ASSIGN(source, detail::open_archive_source(file, label, options.max_archive_size));
  Result<std::vector<detail::ImagePlan>> plans = make_error(
      label + ": not an image archive (no manifest.json of a docker-archive, no oci-layout and index.json of an "
              "OCI archive)",
      EINVAL);
  if (source.directory || (detail::has_member(source, "oci-layout") && detail::has_member(source, "index.json")))
    plans = detail::plan_oci(source);
  else if (detail::has_member(source, "manifest.json"))
    plans = detail::plan_docker_archive(source);
  if (!plans) return std::move(plans).error();

  detail::CommitOptions commit;
  commit.progress = options.progress;
  commit.max_entry_size = options.max_entry_size;
  commit.max_size = options.max_archive_size;
  std::vector<ImageRecord> loaded;
  for (const auto& plan : *plans) {
    TRY_ASSIGN(image, detail::commit_image_plan(store, source, plan, commit));
    loaded.push_back(std::move(image));
  }
  return loaded;
}

}  // namespace ctr::image
