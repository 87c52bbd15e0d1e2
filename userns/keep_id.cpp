#include "userns/keep_id.h"

#include "runtime/base/strings.h"

namespace ctr::userns {
namespace {

Result<uint32_t> parse_id(const std::string& text, const std::string& mode) {
  auto value = parse_u64(text);
  if (!value || *value >= 0xFFFFFFFFull)
    return make_error("--userns " + mode + ": `" + text + "` is not a valid ID (use a number)", EINVAL);
  return static_cast<uint32_t>(*value);
}

}  // namespace

Result<std::optional<KeepId>> parse_keep_id(const std::string& mode, uint32_t own_uid, uint32_t own_gid) {
  if (mode.rfind("keep-id", 0) != 0) return std::optional<KeepId>();
  KeepId keep{own_uid, own_gid};
  if (mode == "keep-id") return std::optional<KeepId>(keep);
  if (mode[7] != ':')
    return make_error("--userns " + mode + ": unknown mode (use keep-id or keep-id:uid=N,gid=M)", EINVAL);
  for (const auto& option : split(mode.substr(8), ',')) {
    if (option.rfind("uid=", 0) == 0) {
      TRY_ASSIGN(uid, parse_id(option.substr(4), mode));
      keep.uid = uid;
    } else if (option.rfind("gid=", 0) == 0) {
      TRY_ASSIGN(gid, parse_id(option.substr(4), mode));
      keep.gid = gid;
    } else {
      return make_error("--userns " + mode + ": unknown keep-id option `" + option + "` (known: uid=N, gid=N)",
                        EINVAL);
    }
  }
  return std::optional<KeepId>(keep);
}

uint32_t map_size(const IdMap& store_map) {
  uint64_t end = 0;
  for (const auto& r : store_map) end = std::max(end, uint64_t{r.inside} + r.count);
  return static_cast<uint32_t>(std::min<uint64_t>(end, 0xFFFFFFFFull));
}

Result<IdMap> keep_id_store_map(uint32_t id, uint32_t store_size, const char* what) {
  if (id >= store_size)
    return make_error(std::string("--userns keep-id: ") + what + " " + std::to_string(id) +
                          " does not fit in the store's user namespace, which has " + std::to_string(store_size) +
                          " IDs (you and your subordinate IDs): use keep-id:" + what + "=N with a smaller N, or "
                          "add subordinate IDs (usermod --add-sub" + what + "s)",
                      ERANGE);
  IdMap map;
  if (id > 0) map.push_back({0, 1, id});
  map.push_back({id, 0, 1});
  if (uint64_t{id} + 1 < store_size) map.push_back({id + 1, id + 1, store_size - id - 1});
  return map;
}

std::optional<uint32_t> map_to_outside(const IdMap& map, uint32_t inside) {
  for (const auto& r : map)
    if (inside >= r.inside && uint64_t{inside} < uint64_t{r.inside} + r.count) return r.outside + (inside - r.inside);
  return std::nullopt;
}

std::string fuse_overlayfs_mapping(const IdMap& map) {
  std::string out;
  for (const auto& r : map) {
    if (!out.empty()) out += ':';
    out += std::to_string(r.inside) + ":" + std::to_string(r.outside) + ":" + std::to_string(r.count);
  }
  return out;
}

}  // namespace ctr::userns
