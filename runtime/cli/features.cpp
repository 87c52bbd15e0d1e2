// ctr-runtime features: what this runtime supports, in the shape of
// `runc features` (runtime-spec features.md).
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/capabilities.h"
#include "runtime/cli/command.h"
#include "runtime/mount_options.h"
#include "runtime/state.h"

#ifndef CTR_VERSION
#define CTR_VERSION "unknown"
#endif

namespace ctr::cli {

namespace {

// Candidates (every option runc lists); we report those parse_mount_options
// decodes itself rather than passing on to the filesystem as data.
constexpr const char* kMountOptionCandidates[] = {
    "async",      "atime",     "bind",       "defaults",    "dev",        "diratime",   "dirsync",
    "exec",       "idmap",     "iversion",   "lazytime",    "loud",       "mand",       "noatime",
    "nodev",      "nodiratime", "noexec",    "noiversion",  "nolazytime", "nomand",     "norelatime",
    "nostrictatime", "nosuid", "nosymfollow", "private",    "ratime",     "rbind",      "rdev",
    "rdiratime",  "relatime",  "remount",    "rexec",       "ridmap",     "rnoatime",   "rnodev",
    "rnodiratime", "rnoexec",  "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "rprivate",
    "rrelatime",  "rro",       "rrw",        "rshared",     "rslave",     "rstrictatime", "rsuid",
    "runbindable", "rw",       "shared",     "silent",      "slave",      "strictatime", "suid",
    "sync",       "tmpcopyup", "unbindable", "ro",          "copy-symlink",
};

nlohmann::ordered_json mount_options() {
  auto known = nlohmann::ordered_json::array();
  for (const char* option : kMountOptionCandidates) {
    auto parsed = parse_mount_options({option});
    if (parsed && parsed->data.empty()) known.push_back(option);
  }
  return known;
}

nlohmann::ordered_json seccomp_features() {
  nlohmann::ordered_json j;
  j["enabled"] = true;
  j["actions"] = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO",        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                  "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"};
  j["operators"] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                    "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"};
  j["archs"] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",     "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",
                "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
                "SCMP_ARCH_PPC",     "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_RISCV64",
                "SCMP_ARCH_S390",    "SCMP_ARCH_S390X",   "SCMP_ARCH_X32",      "SCMP_ARCH_X86",
                "SCMP_ARCH_X86_64"};
  j["knownFlags"] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG"};
  return j;
}

nlohmann::ordered_json linux_features() {
  nlohmann::ordered_json j;
  j["namespaces"] = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"};
  j["capabilities"] = all_capability_names();
  j["cgroup"] = {{"v1", false}, {"v2", true}, {"systemd", true}, {"systemdUser", true}};
  j["seccomp"] = seccomp_features();
  j["apparmor"] = {{"enabled", false}};
  j["selinux"] = {{"enabled", false}};
  return j;
}

Result<int> run_features(const GlobalOptions&, const ParsedArgs& args) {
  TRY(expect_positionals(args, "features", 0, 0));
  nlohmann::ordered_json j;
  j["ociVersionMin"] = "1.0.0";
  j["ociVersionMax"] = kOciVersion;
  j["hooks"] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  j["mountOptions"] = mount_options();
  j["linux"] = linux_features();
  j["annotations"] = {{"io.ctr.runtime.version", CTR_VERSION}};
  TRY(write_all(STDOUT_FILENO, j.dump(4) + "\n"));
  return 0;
}

}  // namespace

const Command features_command{
    "features", "features", "print the features this runtime supports, as JSON", {}, run_features,
};

}  // namespace ctr::cli
