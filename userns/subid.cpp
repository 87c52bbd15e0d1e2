#include "userns/subid.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::userns {

namespace {

constexpr uint64_t kIdLimit = 0xFFFFFFFFull;  // ids run 0 .. 2^32-2

Error line_error(const std::string& file_name, size_t line_no, const std::string& what) {
  return make_error(file_name + ":" + std::to_string(line_no) + ": " + what, EINVAL);
}

// Hands out subordinate ids in file order, so every inside range that asks
// for ids gets the next unused ones.
class RangeCursor {
 public:
  explicit RangeCursor(const std::vector<SubIdRange>& ranges) : ranges_(ranges) {}

  // Maps up to `wanted` inside ids from `inside` on; returns how many it mapped.
  uint64_t take(IdMap& map, uint32_t inside, uint64_t wanted) {
    uint64_t mapped = 0;
    while (mapped < wanted && index_ < ranges_.size()) {
      const SubIdRange& r = ranges_[index_];
      uint64_t left = r.count - offset_;
      uint64_t first_inside = uint64_t{inside} + mapped;
      // Stop before the inside id space ends (2^32-1 is not an id).
      uint64_t room = first_inside < kIdLimit ? kIdLimit - first_inside : 0;
      uint64_t n = std::min({left, wanted - mapped, room});
      if (n == 0) break;
      map.push_back({static_cast<uint32_t>(first_inside), r.start + offset_, static_cast<uint32_t>(n)});
      mapped += n;
      offset_ += static_cast<uint32_t>(n);
      if (offset_ == r.count) {
        ++index_;
        offset_ = 0;
      }
    }
    return mapped;
  }

 private:
  const std::vector<SubIdRange>& ranges_;
  size_t index_ = 0;
  uint32_t offset_ = 0;
};

}  // namespace

Result<std::vector<SubIdRange>> parse_subid(const std::string& text, const std::string& file_name,
                                            const std::string& user_name, uid_t uid) {
  std::vector<SubIdRange> ranges;
  std::vector<std::string> lines = split(text, '\n');
  std::string uid_text = std::to_string(uid);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = trim(lines[i]);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = split(line, ':');
    if (fields.size() != 3 || fields[0].empty())
      return line_error(file_name, i + 1, "expected `name:start:count`, got `" + std::string(line) + "`");
    auto start = parse_u64(fields[1]);
    auto count = parse_u64(fields[2]);
    if (!start || *start >= kIdLimit) return line_error(file_name, i + 1, "invalid start id `" + fields[1] + "`");
    if (!count || *count == 0) return line_error(file_name, i + 1, "invalid count `" + fields[2] + "`");
    if (*start + *count > kIdLimit)
      return line_error(file_name, i + 1, "range " + fields[1] + "+" + fields[2] + " goes past the largest id");
    if (fields[0] == user_name || fields[0] == uid_text)
      ranges.push_back({static_cast<uint32_t>(*start), static_cast<uint32_t>(*count)});
  }
  return ranges;
}

Result<std::vector<SubIdRange>> read_subid_file(const std::string& path, const std::string& user_name, uid_t uid) {
  auto text = read_file(path);
  if (!text) {
    // No file is the same as no ranges; the caller says what to add.
    if (text.error().code == ENOENT) return std::vector<SubIdRange>{};
    return std::move(text).error();
  }
  return parse_subid(*text, path, user_name, uid);
}

std::string user_name(uid_t uid) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? static_cast<size_t>(size) : 16384);
  for (;;) {
    passwd entry{};
    passwd* found = nullptr;
    int rc = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc == 0 && found && found->pw_name) return found->pw_name;
    return std::to_string(uid);
  }
}

IdMap rootless_map(uint32_t own_id, const std::vector<SubIdRange>& ranges) {
  IdMap map{{0, own_id, 1}};
  RangeCursor cursor(ranges);
  cursor.take(map, 1, kIdLimit);
  return map;
}

IdMap keep_id_map(uint32_t own_id, const std::vector<SubIdRange>& ranges) {
  IdMap map;
  RangeCursor cursor(ranges);
  // Ids below our own come first from the subordinate ranges, so inside
  // root (0) is a subordinate id, not us; then our id maps to itself, then
  // whatever is left continues right after it.
  cursor.take(map, 0, own_id);
  map.push_back({own_id, own_id, 1});
  if (own_id < kIdLimit - 1) cursor.take(map, own_id + 1, kIdLimit);
  return map;
}

}  // namespace ctr::userns
