// run/create's -v/--volume, --mount and --tmpfs, as podman reads them, and
// image VOLUMEs (anonymous volumes):
//   -v /host:/dst[:OPTS]   bind mount of a host path (must exist)
//   -v NAME:/dst[:OPTS]    named volume (created when missing)
//   -v /dst                anonymous volume (removed by rm -v / run --rm)
//   OPTS: ro, rw, z, Z (accepted: no SELinux here), U (chown the source to
//   the container's user, inside the store's user namespace), [r]private,
//   [r]shared, [r]slave, [no]suid, [no]dev, [no]exec
//   --mount type=bind|volume|tmpfs,source=,target=[,ro][,...]
//   --tmpfs /dst[:size=..,mode=..,...]
// The bind sources and volume _data dirs are host paths, which the OCI
// runtime sees in the container's user + mount namespace too.
#pragma once

#include <string>
#include <vector>

#include "cmd/container_record.h"
#include "cmd/container_spec.h"
#include "image/store.h"
#include "runtime/base/result.h"
#include "userns/run_in_userns.h"

namespace ctr::cmd {

struct MountFlags {
  std::vector<std::string> volumes;  // -v
  std::vector<std::string> mounts;   // --mount
  std::vector<std::string> tmpfs;    // --tmpfs
};

// What one flag asks for (before the store is touched).
struct MountRequest {
  std::string type;         // "bind", "volume", "tmpfs"
  std::string source;       // host path (bind), volume name ("" anonymous); "" for tmpfs
  std::string destination;  // absolute, cleaned
  std::vector<std::string> options;  // OCI options besides the type's defaults
  bool readonly = false;
  bool chown = false;  // U
};

// Pure (no I/O but making relative host paths absolute against `cwd`).
Result<MountRequest> parse_volume_flag(const std::string& text, const std::string& cwd);
Result<MountRequest> parse_mount_flag(const std::string& text, const std::string& cwd);
Result<MountRequest> parse_tmpfs_flag(const std::string& text);
// All three, in podman's order (-v, --mount, --tmpfs); a destination given twice is an error.
Result<std::vector<MountRequest>> parse_mount_flags(const MountFlags& flags, const std::string& cwd);

// Under the store lock: checks bind sources, creates named volumes that are
// missing and anonymous ones (also for the image's VOLUMEs not covered by a
// flag). The result goes into the record and, via spec_mounts, config.json.
Result<std::vector<RecordMount>> resolve_mounts(image::Store& store, const image::ImageRecord& image,
                                                const std::vector<MountRequest>& requests);
std::vector<SpecMount> spec_mounts(const std::vector<RecordMount>& mounts);
// The U option: chowns those sources (recursively) to the process user of
// `spec_json` (config.json), inside the store's user namespace.
Status chown_mount_sources(const userns::StoreMaps& maps, const std::vector<RecordMount>& mounts,
                           const std::string& spec_json);

}  // namespace ctr::cmd
