// Named volumes in the user's store, as podman's "local" driver keeps them:
//   ROOT/volumes/<name>/volume.json   the record below (written atomically)
//   ROOT/volumes/<name>/_data/        what containers see (a bind mount)
// A volume is made under staging/ and renamed into place, and removed by
// renaming it back into staging/ first, so a crash never leaves half a
// volume visible. Callers hold Store::lock() across every change. _data is
// owned by the host user, which is root in the store's user namespace: the
// container's root owns it, as with podman.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "image/store.h"
#include "runtime/base/result.h"

namespace ctr::cmd {

struct Volume {
  std::string name;
  std::string driver = "local";
  int64_t created_ns = 0;  // nanoseconds since the epoch
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;
  bool anonymous = false;  // made for one container (-v /path, image VOLUME): `rm -v` removes it
};

std::string volumes_dir(const image::Store& store);
std::string volume_data_dir(const image::Store& store, const std::string& name);
// podman's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
Status validate_volume_name(const std::string& name);
bool is_volume_name(const std::string& name);

std::string volume_to_json(const Volume& volume);
Result<Volume> volume_from_json(const std::string& text);

// Under the store lock. An empty name gets a fresh 64-hex one. An existing
// name is an error (EEXIST) in podman's words.
Result<Volume> create_volume(image::Store& store, Volume volume);
// Under the store lock: the volume, creating it when missing (-v NAME:/dst).
Result<Volume> ensure_volume(image::Store& store, const std::string& name);
// ENOENT (podman's message) when there is none.
Result<Volume> read_volume(const image::Store& store, const std::string& name);
// Every volume, by name.
Result<std::vector<Volume>> list_volumes(const image::Store& store);
// Under the store lock; does not check users (see volume_users).
Status remove_volume(image::Store& store, const std::string& name);

// Volume name -> the IDs of the containers that mount it (from ctr.json).
Result<std::map<std::string, std::vector<std::string>>> volume_users(const image::Store& store);

// For `rm -v` and `run --rm`: removes the anonymous volumes `record`
// mounts that no other container uses. Takes the store lock itself.
Status remove_anonymous_volumes(Context& ctx, const ContainerRecord& record);
// `volume prune -f` and `system prune --volumes`: removes every volume no
// container uses; returns their names. Takes the store lock itself.
Result<std::vector<std::string>> prune_volumes(Context& ctx);

}  // namespace ctr::cmd
