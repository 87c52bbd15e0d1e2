// Internals of load_archive / import_rootfs / save_images: reading an
// archive's members, per-format image plans, and committing planned images.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "image/archive.h"
#include "image/store.h"
#include "image/unpack.h"
#include "runtime/base/result.h"

namespace ctr::image::detail {

// An image archive opened for reading: an OCI layout directory, or a tar
// file (possibly compressed) whose members are listed once; small members
// (JSON documents) are kept in memory, layers are streamed again on demand.
struct ArchiveSource {
  std::string label;  // "archive `x.tar`" for messages
  std::string path;
  bool directory = false;
  std::map<std::string, uint64_t> members;  // normalized name -> size
  std::map<std::string, std::string> small;  // normalized name -> content (<= kSmallMember)
};
constexpr uint64_t kSmallMember = 4u << 20;

Result<ArchiveSource> open_archive_source(const std::string& path, const std::string& label, uint64_t max_size);
// A small member's content; errors name the archive and member.
Result<std::string> read_member(const ArchiveSource& source, const std::string& name);
bool has_member(const ArchiveSource& source, const std::string& name);

// The OCI/Go name of the machine we run on ("amd64", "arm64", ...).
std::string host_architecture();
// Calls `fn` with a reader of the member's bytes (streamed, any size).
Status with_member_reader(const ArchiveSource& source, const std::string& name,
                          const std::function<Status(const ReadFn&)>& fn);

struct LayerPlan {
  std::string member;           // where the layer's bytes are in the source
  std::string expected_digest;  // "" when the format does not record it (docker-archive)
  std::string media_type;       // of the stored manifest
};

struct ImagePlan {
  std::vector<std::string> names;  // normalized
  std::string config;              // the config JSON, as in the archive
  std::string config_digest;
  std::vector<LayerPlan> layers;
};

Result<std::vector<ImagePlan>> plan_docker_archive(const ArchiveSource& source);
Result<std::vector<ImagePlan>> plan_oci(const ArchiveSource& source);

struct CommitOptions {
  ProgressFn progress;
  uint64_t max_entry_size = 64ull << 30;
  uint64_t max_size = 256ull << 30;
};
// Unpacks the plan's missing layers (in the store's user namespace), then
// commits layers, config, a generated OCI manifest and the image record.
Result<ImageRecord> commit_image_plan(Store& store, const ArchiveSource& source, const ImagePlan& plan,
                                     const CommitOptions& options);

// A tag from an archive ("busybox:latest", "localhost/x:1") normalized, or "" when unusable.
std::string normalize_name(const std::string& text);
std::string short_digest(const std::string& digest);

}  // namespace ctr::image::detail
