// /etc/subuid and /etc/subgid: "name-or-uid:start:count" per line.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "userns/idmap.h"

namespace ctr::userns {

struct SubIdRange {
  uint32_t start = 0;
  uint32_t count = 0;
};

// Ranges for the user (matched by name or by numeric uid) from the text of
// a subuid/subgid file; a malformed line is an error naming file:line.
Result<std::vector<SubIdRange>> parse_subid(const std::string& text, const std::string& file_name,
                                            const std::string& user_name, uid_t uid);
Result<std::vector<SubIdRange>> read_subid_file(const std::string& path, const std::string& user_name, uid_t uid);

// The login name of `uid` (getpwuid_r), or its number when it has no
// passwd entry, for subid lookups and messages.
std::string user_name(uid_t uid);

// The default rootless map: 0 -> own id, then 1.. -> the subordinate ranges.
IdMap rootless_map(uint32_t own_id, const std::vector<SubIdRange>& ranges);
// --userns=keep-id: own id inside = own id outside, the rest filled around it.
IdMap keep_id_map(uint32_t own_id, const std::vector<SubIdRange>& ranges);

}  // namespace ctr::userns
