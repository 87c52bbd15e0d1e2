#include "runtime/capabilities.h"

#include <array>
#include <cctype>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr {

namespace {

// Index = capability number (include/uapi/linux/capability.h). Names are
// kept without the CAP_ prefix so lookups can accept either spelling.
constexpr std::array<const char*, 41> kCapabilities = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};

constexpr int kTableLastCap = static_cast<int>(kCapabilities.size()) - 1;

std::string to_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

int read_last_capability() {
  auto text = read_file("/proc/sys/kernel/cap_last_cap");
  if (!text) return kTableLastCap;
  auto value = parse_i64(trim(*text));
  // A nonsensical value would make callers loop over garbage; keep the table's.
  if (!value || *value < 0 || *value > 63) return kTableLastCap;
  return static_cast<int>(*value);
}

}  // namespace

std::optional<int> capability_from_name(std::string_view name) {
  std::string upper = to_upper(name);
  std::string_view bare = upper;
  if (starts_with(bare, "CAP_")) bare.remove_prefix(4);
  if (bare.empty()) return std::nullopt;
  for (size_t i = 0; i < kCapabilities.size(); ++i)
    if (bare == kCapabilities[i]) return static_cast<int>(i);
  return std::nullopt;
}

std::string capability_name(int cap) {
  if (cap >= 0 && cap <= kTableLastCap) return std::string("CAP_") + kCapabilities[static_cast<size_t>(cap)];
  return "CAP_" + std::to_string(cap);
}

int last_capability() {
  // The kernel's answer cannot change while we run.
  static const int last = read_last_capability();
  return last;
}

std::vector<std::string> all_capability_names() {
  std::vector<std::string> names;
  names.reserve(kCapabilities.size());
  for (const char* name : kCapabilities) names.push_back(std::string("CAP_") + name);
  return names;
}

}  // namespace ctr
