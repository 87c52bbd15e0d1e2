// import_rootfs: a plain (optionally compressed) rootfs tarball becomes a
// one-layer image with a generated config (podman import's --change).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "image/archive.h"
#include "image/archive_internal.h"
#include "image/digest.h"
#include "image/store_internal.h"
#include "image/tar_layout.h"
#include "runtime/base/files.h"
#include "userns/run_in_userns.h"

namespace ctr::image {
namespace {

using json = nlohmann::json;


std::string rfc3339_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// CMD/ENTRYPOINT: a JSON array as given, else shell form.
json command_value(const std::string& value) {
  if (!value.empty() && value[0] == '[') {
    try {
      json parsed = json::parse(value);
      if (parsed.is_array()) return parsed;
    } catch (const json::exception&) {
    }
  }
  return json::array({"/bin/sh", "-c", value});
}

Status apply_change(json& config, const std::string& change) {
  size_t split = change.find_first_of(" =");
  if (split == std::string::npos) return make_error("--change `" + change + "`: expected INSTRUCTION VALUE", EINVAL);
  std::string key = change.substr(0, split);
  for (char& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string value = change.substr(split + 1);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  if (key == "CMD") config["Cmd"] = command_value(value);
  else if (key == "ENTRYPOINT") config["Entrypoint"] = command_value(value);
  else if (key == "ENV") {
    // "ENV K=V" and Dockerfile's "ENV K V".
    std::string entry = value.find('=') == std::string::npos && value.find(' ') != std::string::npos
                            ? value.substr(0, value.find(' ')) + "=" + value.substr(value.find(' ') + 1)
                            : value;
    std::string name = entry.substr(0, entry.find('='));
    json env = json::array();
    for (const auto& e : config.value("Env", json::array()))
      if (e.get<std::string>().substr(0, e.get<std::string>().find('=')) != name) env.push_back(e);
    env.push_back(entry);
    config["Env"] = env;
  } else if (key == "WORKDIR") config["WorkingDir"] = value;
  else if (key == "USER") config["User"] = value;
  else if (key == "LABEL") {
    size_t eq = value.find('=');
    if (eq == std::string::npos) return make_error("--change `" + change + "`: expected LABEL key=value", EINVAL);
    config["Labels"][value.substr(0, eq)] = value.substr(eq + 1);
  } else if (key == "EXPOSE") {
    std::string port = value.find('/') == std::string::npos ? value + "/tcp" : value;
    config["ExposedPorts"][port] = json::object();
  } else if (key == "STOPSIGNAL") config["StopSignal"] = value;
  else if (key == "VOLUME") config["Volumes"][value] = json::object();
  else return make_error("--change `" + change + "`: unsupported instruction `" + key + "`", EINVAL);
  return {};
}

Result<std::string> spool(Store& store, const std::string& staging) {
  std::string path = staging + "/input";
  TRY_ASSIGN(out, open_fd(path, O_WRONLY | O_CREAT | O_EXCL, 0600));
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read the tarball from stdin");
    if (n == 0) return path;
    TRY(write_all(out.get(), buffer, static_cast<size_t>(n)));
  }
  (void)store;
}

}  // namespace

Result<ImageRecord> import_rootfs(Store& store, const std::string& path, const ImportOptions& options) {
  std::string what = path == "-" ? "tarball from stdin" : "tarball `" + path + "`";
  json container_config = json::object();
  for (const auto& change : options.changes) TRY(apply_change(container_config, change));
  std::string name;
  if (!options.name.empty()) {
    name = detail::normalize_name(options.name);
    if (name.empty()) return make_error("import: `" + options.name + "` is not a valid image name", EINVAL);
  }
  TRY_ASSIGN(staging, store.make_staging_dir("import"));
  struct Discard {
    std::string dir;
    bool keep = false;
    ~Discard() {
      if (!keep) (void)detail::remove_tree_as_owner(dir);
    }
  } discard{staging};
  std::string input = path;
  if (path == "-") {
    TRY_ASSIGN(spooled, spool(store, staging));
    input = spooled;
  }
  std::string layer_dir = staging + "/layer";
  if (::mkdir(layer_dir.c_str(), 0700) != 0 || ::mkdir((layer_dir + "/diff").c_str(), 0755) != 0)
    return sys_error("create `" + layer_dir + "`");
  TRY_ASSIGN(maps, userns::store_maps());
  TRY_ASSIGN(input_fd, open_fd(input, O_RDONLY));
  UnpackedLayer layer;
  std::string result_path = staging + "/unpack.json";
  Status unpacked = userns::run_in_userns(maps, [&]() -> Status {
    UnpackOptions unpack;
    unpack.what = what;
    unpack.ignore_chown_errors = maps.single_id;
    // So `ctr save` writes this very tar back and the image keeps its ID.
    unpack.tar_layout_path = layer_dir + "/" + kTarLayoutFile;
    TRY_ASSIGN(done, unpack_layer(input_fd.get(), layer_dir + "/diff", unpack));
    json r = {{"digest", done.digest}, {"diffID", done.diff_id}, {"size", done.size}, {"streamSize", done.stream_size}};
    return write_file_atomic(result_path, r.dump());
  });
  if (!unpacked) return std::move(unpacked).error();
  TRY_ASSIGN(result_text, read_file(result_path));
  json result = json::parse(result_text, nullptr, false);
  if (result.is_discarded()) return make_error(what + ": unpack result unreadable", EIO);
  std::string diff_id = result.value("diffID", "");
  if (options.progress) options.progress(Progress{detail::short_digest(diff_id), result.value("streamSize", 0ull), 0, true});

  json config = {{"created", rfc3339_now()},
                 {"architecture", detail::host_architecture()},
                 {"os", "linux"},
                 {"config", container_config},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", json::array({diff_id})}}},
                 {"history", json::array({{{"created", rfc3339_now()}, {"created_by", "ctr import " + path}}})}};
  std::string config_text = config.dump();
  ImageRecord image;
  image.config_digest = image.id = sha256_digest(config_text);
  if (!name.empty()) image.names = {name};
  image.layer_chain_ids = {diff_id};  // chain ID of a bottom layer = its diffID
  image.diff_ids = {diff_id};
  image.created = image.loaded = static_cast<int64_t>(::time(nullptr));
  image.size = result.value("size", 0ull);
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"config",
                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                     {"digest", image.config_digest},
                     {"size", config_text.size()}}},
                   {"layers", json::array({{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                            {"digest", result.value("digest", "")},
                                            {"size", result.value("streamSize", 0ull)}}})}};

  TRY_ASSIGN(lock, store.lock());
  LayerRecord record{diff_id, diff_id, "", result.value("digest", ""), image.size};
  TRY_CTX(store.commit_layer(layer_dir, record), what);
  TRY_CTX(store.put_blob(config_text, image.config_digest), what);
  TRY_ASSIGN(manifest_digest, store.put_blob(manifest.dump()));
  image.manifest_digest = manifest_digest;
  TRY_CTX(store.put_image(image), what);
  return image;
}

}  // namespace ctr::image
