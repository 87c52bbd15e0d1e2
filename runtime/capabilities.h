// Linux capability names <-> numbers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"

namespace ctr {

// "CAP_SYS_ADMIN" (or "SYS_ADMIN", case-insensitive) -> 21.
std::optional<int> capability_from_name(std::string_view name);
// 21 -> "CAP_SYS_ADMIN"; "CAP_<n>" for numbers newer than this table.
std::string capability_name(int cap);
// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
int last_capability();
// Every capability name we know, in number order.
std::vector<std::string> all_capability_names();

}  // namespace ctr
