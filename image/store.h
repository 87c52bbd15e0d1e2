// The per-user image store. Layout under ROOT ($XDG_DATA_HOME/ctr, or
// --root / CTR_STORAGE_ROOT):
//   ROOT/store.lock                      one lock for every change
//   ROOT/blobs/sha256/<hex>              content-addressed, verified on the way in
//   ROOT/layers/<chain-hex>/diff/        an unpacked layer (overlay lowerdir), keyed by chain ID
//   ROOT/layers/<chain-hex>/layer.json   {diffID, chainID, parent, size, compressedDigest}
//   ROOT/images.json                     the image index (written atomically)
//   ROOT/staging/                        work in progress; anything here after a crash is garbage
//   ROOT/containers/<id>/                per-container storage (image/container_layers.h)
//   ROOT/driver-probe.json               the cached native-overlay probe (image/rootfs_driver.h)
// Every change is staged under staging/ and committed by rename(2) while the
// store lock is held, so a ctr killed at any moment leaves the store
// consistent: a commit is either visible whole or not at all.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/file_lock.h"
#include "runtime/base/result.h"
#include "image/reference.h"

namespace ctr::image {

struct ImageRecord {
  std::string id;            // "sha256:<config digest>" — the image ID, as podman's
  std::vector<std::string> names;  // "localhost/busybox:latest", ...
  std::string manifest_digest;     // of the manifest blob we store (OCI manifest)
  std::string config_digest;
  std::vector<std::string> layer_chain_ids;  // bottom first
  std::vector<std::string> diff_ids;
  int64_t created = 0;  // unix seconds from the config's "created" (0 if unknown)
  int64_t loaded = 0;   // when it entered this store
  uint64_t size = 0;    // sum of unpacked layer sizes
};

struct LayerRecord {
  std::string chain_id;
  std::string diff_id;
  std::string parent_chain_id;  // "" for the bottom layer
  std::string compressed_digest;
  uint64_t size = 0;  // bytes unpacked
};

class Store {
 public:
  // Opens (creating) the store at root; does not take the lock.
  static Result<Store> open(const std::string& root);
  static std::string default_root();  // $CTR_STORAGE_ROOT, else $XDG_DATA_HOME/ctr, else ~/.local/share/ctr; /var/lib/ctr as root

  const std::string& root() const { return root_; }
  // Exclusive; hold it across read-modify-write. The methods below never
  // take it themselves (flock is per open file, so a nested acquire from the
  // same process would deadlock): callers hold it for put_image,
  // remove_image and garbage_collect, and from the first put_blob/commit_layer
  // of a load until its put_image, so a concurrent garbage_collect cannot
  // delete blobs and layers that no image references yet.
  Result<FileLock> lock() const;

  // Blobs. put_blob verifies `expected` (if not empty) and returns the digest.
  Result<std::string> put_blob(const std::string& data, const std::string& expected = {});
  // Moves an already-written file (under staging/) into blobs/ after checking its digest.
  Status commit_blob_file(const std::string& staged_path, const std::string& digest);
  bool has_blob(const std::string& digest) const;
  Result<std::string> read_blob(const std::string& digest) const;
  std::string blob_path(const std::string& digest) const;

  // Layers.
  std::string layer_dir(const std::string& chain_id) const;  // ROOT/layers/<hex>
  std::string layer_diff_dir(const std::string& chain_id) const;
  bool has_layer(const std::string& chain_id) const;
  // A fresh empty directory under staging/ (removed when committed or on the next open_staging after a crash).
  Result<std::string> make_staging_dir(const std::string& purpose);
  // Renames staged_layer_dir (which holds diff/) to layers/<chain>/ and writes layer.json. If the layer
  // already exists (another load raced us), the staged copy is discarded: layers are shared, never duplicated.
  Status commit_layer(const std::string& staged_layer_dir, const LayerRecord& record);
  Result<LayerRecord> read_layer(const std::string& chain_id) const;

  // Images (under lock).
  Result<std::vector<ImageRecord>> list_images() const;
  // Adds or replaces by id; names move from any other image to this one (a tag points at one image).
  Status put_image(const ImageRecord& image);
  Status remove_image(const std::string& id);
  // By name (normalized), full ID, unique ID prefix, or name@digest. Errors: unknown / ambiguous, naming the text.
  Result<ImageRecord> find_image(const std::string& text) const;
  // The same, plus the one name the text resolved to ("" when found by ID or
  // ID prefix): `ctr save busybox` writes that name only, `ctr rmi busybox`
  // untags that name only, as podman does.
  struct ImageMatch {
    ImageRecord image;
    std::string name;
  };
  Result<ImageMatch> resolve_image(const std::string& text) const;

  // Deletes layers no image or container uses and blobs no image references (only
  // manifests and configs are kept as blobs; layer tarballs are not kept);
  // returns bytes freed (apparent file sizes). Layer trees owned by
  // subordinate IDs are removed through userns::run_in_userns.
  Result<uint64_t> garbage_collect();

 private:
  explicit Store(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

// chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)) — the OCI image spec.
std::string chain_id(const std::string& parent_chain_id, const std::string& diff_id);

}  // namespace ctr::image
