// The seccomp profile of a ctr container, as the linux.seccomp object of
// config.json: ctr's own default (an allow-list in the spirit of
// containers-common's, with capability-gated groups), or a profile file in
// podman's format (--security-opt seccomp=FILE).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace ctr::cmd {

// The default profile for a container whose bounding set is `caps`
// ("CAP_SYS_ADMIN", ...): unknown syscalls fail with ENOSYS (so programs
// fall back to older calls), a few dangerous ones with EPERM, and the
// syscalls a capability guards are allowed only when the cap is there.
// `arch` is the host's machine name (uname -m): it picks the architectures
// (x86_64: x86_64, x86, x32; aarch64: aarch64, arm) and arch-only syscalls.
nlohmann::ordered_json default_seccomp_profile(const std::vector<std::string>& caps, const std::string& arch);

// A podman/docker-format profile (defaultAction, defaultErrnoRet,
// architectures or archMap, syscalls[{names|name, action, errnoRet, args,
// includes/excludes{caps, arches}}]) resolved for `caps` and `arch` into the
// OCI object; errors name the file and the field. Actions, operators and
// architectures are checked by compiling the result with libseccomp, the
// same code the runtime uses, so a bad profile fails at create time.
Result<nlohmann::ordered_json> parse_seccomp_profile(const std::string& text, const std::string& origin,
                                                     const std::vector<std::string>& caps, const std::string& arch);
Result<nlohmann::ordered_json> load_seccomp_profile(const std::string& path, const std::vector<std::string>& caps,
                                                    const std::string& arch);

// uname -m.
std::string host_arch();

}  // namespace ctr::cmd
