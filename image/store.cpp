// The store's directories, blobs, layers and staging. The image index lives
// in store_images.cpp, garbage collection and tree removal in store_gc.cpp.
#include "image/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "image/digest.h"
#include "image/store_internal.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::image {

namespace {

using nlohmann::json;

// The store holds setuid binaries owned by subordinate IDs: other users must
// not reach them, so every directory we create is private.
constexpr mode_t kPrivateDir = 0700;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// Real root: euid 0 in the initial user namespace, whose uid_map is the
// identity over the whole 32-bit range.
bool is_real_root() {
  if (::geteuid() != 0) return false;
  auto map = read_file("/proc/self/uid_map");
  if (!map) return true;  // no user namespaces at all: the initial one
  auto fields = split(trim(*map), ' ');
  std::vector<std::string> words;
  for (auto& f : fields)
    if (!f.empty()) words.push_back(f);
  return words.size() == 3 && words[0] == "0" && words[1] == "0" && words[2] == "4294967295";
}

// Removes crash garbage under staging/ and temp files of the image index.
// Only called with the store lock held, and entries whose owner process is
// still alive are kept: it may be staging outside the lock.
void clean_staging(const std::string& root) {
  auto entries = detail::list_dir(root + "/staging");
  if (entries) {
    for (const auto& name : *entries) {
      int owner = detail::staging_owner(name);
      if (owner != 0 && detail::process_alive(owner)) continue;
      // Best effort: what cannot be removed now is retried on the next open.
      (void)detail::remove_tree_as_owner(root + "/staging/" + name);
    }
  }
  auto top = detail::list_dir(root);
  if (!top) return;
  const std::string tmp_prefix = "images.json.tmp.";
  for (const auto& name : *top) {
    if (!starts_with(name, tmp_prefix)) continue;
    auto pid = parse_i64(std::string_view(name).substr(tmp_prefix.size()));
    if (pid && *pid > 0 && detail::process_alive(static_cast<int>(*pid))) continue;
    ::unlink((root + "/" + name).c_str());
  }
}

// Writes `fd`'s content digest; streaming, so large files stay out of memory.
Result<std::string> digest_fd(int fd) {
  Sha256 hasher;
  std::string buf(1 << 16, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read");
    }
    if (n == 0) break;
    hasher.update(buf.data(), static_cast<size_t>(n));
  }
  return hasher.finish();
}

// True for a path strictly inside ROOT/staging/ (no "..": a rename or an
// unlink on a path outside the store must never happen by mistake).
bool is_staged(const std::string& root, const std::string& path) {
  std::string prefix = root + "/staging/";
  return path.size() > prefix.size() && starts_with(path, prefix) && path.find("/..") == std::string::npos;
}

Status check_digest(const std::string& digest, const std::string& what) {
  auto status = validate_digest(digest);
  if (!status) return std::move(status).error().context(what);
  return {};
}

}  // namespace

namespace detail {

Status fsync_dir(const std::string& path) {
  TRY_ASSIGN(fd, open_fd(path, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return sys_error("fsync `" + path + "`");
  return {};
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (!dir) {
    if (errno == ENOENT) return names;
    return sys_error("open directory `" + path + "`");
  }
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(dir);
  return names;
}

int staging_owner(const std::string& name) {
  size_t dash = name.find('-');
  if (dash == std::string::npos) return 0;
  auto pid = parse_i64(std::string_view(name).substr(0, dash));
  if (!pid || *pid <= 0 || *pid > INT32_MAX) return 0;
  return static_cast<int>(*pid);
}

bool process_alive(int pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace detail

std::string Store::default_root() {
  if (auto root = env("CTR_STORAGE_ROOT"); !root.empty()) return root;
  if (is_real_root()) return "/var/lib/ctr";
  // The XDG base directory spec says relative paths are to be ignored.
  if (auto data = env("XDG_DATA_HOME"); !data.empty() && data[0] == '/') return data + "/ctr";
  return env("HOME") + "/.local/share/ctr";
}

Result<Store> Store::open(const std::string& root) {
  if (root.empty()) return make_error("open the image store: the storage root is empty", EINVAL);
  std::string clean = root;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  size_t slash = clean.rfind('/');
  if (slash != std::string::npos && slash > 0) TRY_CTX(mkdir_p(clean.substr(0, slash)), "create the image store");
  if (::mkdir(clean.c_str(), kPrivateDir) != 0 && errno != EEXIST)
    return sys_error("create the image store `" + clean + "`");
  for (const char* sub : {"/blobs/sha256", "/layers", "/staging", "/containers"})
    TRY_CTX(mkdir_p(clean + sub, kPrivateDir), "create the image store");
  Store store(clean);
  // Someone holding the lock may be using staging/ right now: clean only
  // when nobody does, and never wait for it (a read-only command must not
  // block behind a long load).
  if (auto held = FileLock::try_acquire(clean + "/store.lock")) clean_staging(clean);
  return store;
}

Result<FileLock> Store::lock() const {
  auto held = FileLock::acquire(root_ + "/store.lock");
  if (!held) return std::move(held).error().context("lock the image store");
  return held;
}

std::string Store::blob_path(const std::string& digest) const {
  return root_ + "/blobs/sha256/" + digest_hex(digest);
}

bool Store::has_blob(const std::string& digest) const {
  return validate_digest(digest).ok() && path_exists(blob_path(digest));
}

Result<std::string> Store::put_blob(const std::string& data, const std::string& expected) {
  if (!expected.empty()) TRY(check_digest(expected, "store blob"));
  std::string digest = sha256_digest(data);
  if (!expected.empty() && digest != expected)
    return make_error("store blob: content does not match its digest: expected " + expected + ", got " + digest,
                      EINVAL);
  if (has_blob(digest)) return digest;
  std::string staged = root_ + "/staging/" + std::to_string(::getpid()) + "-blob-XXXXXX";
  int raw = ::mkstemp(staged.data());
  if (raw < 0) return sys_error("store blob: create `" + staged + "`");
  UniqueFd fd(raw);
  auto written = write_all(fd.get(), data);
  if (written && ::fchmod(fd.get(), 0644) != 0) written = sys_error("chmod");
  fd.reset();
  if (!written) {
    ::unlink(staged.c_str());
    return std::move(written).error().context("store blob " + digest);
  }
  TRY(commit_blob_file(staged, digest));
  return digest;
}

Status Store::commit_blob_file(const std::string& staged_path, const std::string& digest) {
  std::string what = "store blob " + digest;
  // Checked first: a file outside staging/ is never ours to consume.
  if (!is_staged(root_, staged_path))
    return make_error(what + ": `" + staged_path + "` is not under the store's staging directory", EINVAL);
  // Whatever happens, the staged file is consumed: renamed or removed.
  struct Discard {
    const std::string& path;
    bool keep = false;
    ~Discard() {
      if (!keep) ::unlink(path.c_str());
    }
  } discard{staged_path};
  TRY(check_digest(digest, what));
  TRY_ASSIGN(fd, open_fd(staged_path, O_RDONLY));
  auto actual = digest_fd(fd.get());
  if (!actual) return std::move(actual).error().context(what + ": read `" + staged_path + "`");
  if (*actual != digest) return make_error(what + ": content does not match its digest (got " + *actual + ")", EINVAL);
  if (has_blob(digest)) return {};
  // Blobs are durable data (unlike runtime state): flush before they become visible.
  if (::fsync(fd.get()) != 0) return sys_error(what + ": fsync `" + staged_path + "`");
  std::string dest = blob_path(digest);
  if (::rename(staged_path.c_str(), dest.c_str()) != 0)
    return sys_error(what + ": rename `" + staged_path + "` to `" + dest + "`");
  discard.keep = true;
  TRY_CTX(detail::fsync_dir(root_ + "/blobs/sha256"), what);
  return {};
}

Result<std::string> Store::read_blob(const std::string& digest) const {
  TRY(check_digest(digest, "read blob"));
  auto data = read_file(blob_path(digest));
  if (!data) {
    if (data.error().code == ENOENT) return make_error("blob " + digest + " is not in the image store", ENOENT);
    return std::move(data).error().context("read blob " + digest);
  }
  // Blobs we read are manifests and configs (small): checking costs little
  // and turns silent disk corruption into a clear error.
  if (sha256_digest(*data) != digest)
    return make_error("blob " + digest + " in the image store is corrupt (content does not match its digest): " +
                          "remove the images using it and load them again",
                      EIO);
  return data;
}

std::string Store::layer_dir(const std::string& chain_id) const {
  return root_ + "/layers/" + digest_hex(chain_id);
}

std::string Store::layer_diff_dir(const std::string& chain_id) const {
  return layer_dir(chain_id) + "/diff";
}

bool Store::has_layer(const std::string& chain_id) const {
  // layer.json is written before the layer's directory becomes visible, so
  // its presence means the layer is complete.
  return validate_digest(chain_id).ok() && path_exists(layer_dir(chain_id) + "/layer.json");
}

Result<std::string> Store::make_staging_dir(const std::string& purpose) {
  std::string safe = purpose.empty() ? "work" : purpose;
  for (char& c : safe)
    if (c == '/' || c == '\0') c = '_';
  // The pid in front tells a later open() whether the owner is still alive.
  std::string path = root_ + "/staging/" + std::to_string(::getpid()) + "-" + safe + "-XXXXXX";
  if (!::mkdtemp(path.data())) return sys_error("create a staging directory under `" + root_ + "/staging`");
  return path;
}

static json layer_to_json(const LayerRecord& record) {
  return json{{"chainID", record.chain_id},
              {"diffID", record.diff_id},
              {"parent", record.parent_chain_id},
              {"compressedDigest", record.compressed_digest},
              {"size", record.size}};
}

Status Store::commit_layer(const std::string& staged_layer_dir, const LayerRecord& record) {
  std::string what = "commit layer " + record.chain_id;
  TRY(check_digest(record.chain_id, what));
  TRY(check_digest(record.diff_id, what));
  if (!record.parent_chain_id.empty() && !has_layer(record.parent_chain_id))
    return make_error(what + ": its parent layer " + record.parent_chain_id + " is not in the store", ENOENT);
  if (!is_staged(root_, staged_layer_dir))
    return make_error(what + ": `" + staged_layer_dir + "` is not under the store's staging directory", EINVAL);
  if (has_layer(record.chain_id)) return detail::remove_tree_as_owner(staged_layer_dir);
  if (!path_exists(staged_layer_dir + "/diff"))
    return make_error(what + ": `" + staged_layer_dir + "` has no diff/ directory", EINVAL);
  // Inside the staged directory first, so the layer is whole when it appears.
  TRY_CTX(write_file_atomic(staged_layer_dir + "/layer.json", layer_to_json(record).dump(), 0644), what);
  std::string dest = layer_dir(record.chain_id);
  if (::rename(staged_layer_dir.c_str(), dest.c_str()) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      // A directory without layer.json is not a layer (crash garbage from
      // an older writer): replace it; a complete one is shared.
      if (has_layer(record.chain_id)) return detail::remove_tree_as_owner(staged_layer_dir);
      TRY_CTX(detail::remove_tree_as_owner(dest), what + ": remove incomplete `" + dest + "`");
      if (::rename(staged_layer_dir.c_str(), dest.c_str()) == 0) return detail::fsync_dir(root_ + "/layers");
    }
    return sys_error(what + ": rename `" + staged_layer_dir + "` to `" + dest + "`");
  }
  TRY_CTX(detail::fsync_dir(root_ + "/layers"), what);
  return {};
}

Result<LayerRecord> Store::read_layer(const std::string& chain_id) const {
  std::string what = "read layer " + chain_id;
  TRY(check_digest(chain_id, what));
  auto text = read_file(layer_dir(chain_id) + "/layer.json");
  if (!text) {
    if (text.error().code == ENOENT) return make_error("layer " + chain_id + " is not in the image store", ENOENT);
    return std::move(text).error().context(what);
  }
  try {
    json j = json::parse(*text);
    LayerRecord record;
    record.chain_id = j.at("chainID").get<std::string>();
    record.diff_id = j.at("diffID").get<std::string>();
    record.parent_chain_id = j.value("parent", std::string());
    record.compressed_digest = j.value("compressedDigest", std::string());
    record.size = j.value("size", uint64_t{0});
    return record;
  } catch (const json::exception& e) {
    return make_error(what + ": `" + layer_dir(chain_id) + "/layer.json` is corrupt: " + e.what(), EINVAL);
  }
}

std::string chain_id(const std::string& parent_chain_id, const std::string& diff_id) {
  if (parent_chain_id.empty()) return diff_id;
  return sha256_digest(parent_chain_id + " " + diff_id);
}

}  // namespace ctr::image
