// Seccomp: compiled with libseccomp in the parent (it allocates), applied in
// the child with the raw seccomp(2) syscall (it must not).
#pragma once

#include <linux/filter.h>

#include <vector>

#include "runtime/base/result.h"
#include "runtime/spec.h"

namespace ctr {

struct SeccompProgram {
  std::vector<sock_filter> filter;  // BPF program, host byte order
  unsigned int flags = 0;           // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool wants_listener = false;      // SCMP_ACT_NOTIFY used: send the fd to listener_path
  std::string listener_path;
  std::string listener_metadata;  // linux.seccomp.listenerMetadata, for the agent's state
};

// Validates names (syscalls unknown to libseccomp are skipped like runc does,
// actions/operators/architectures/flags unknown are errors naming the field)
// and compiles the filter.
Result<SeccompProgram> compile_seccomp(const spec::Seccomp& seccomp);

// compile_seccomp through a cache of compiled programs in `cache_dir` (e.g.
// $XDG_RUNTIME_DIR/ctr/seccomp-cache): libseccomp takes ~10 ms for podman's
// default profile on its three x86 architectures, a hit is one small read.
// An entry stores the whole profile (and the libseccomp version) as its key
// and is used only on an exact match. Cache failures only cost the speed.
Result<SeccompProgram> compile_seccomp_cached(const spec::Seccomp& seccomp, const std::string& cache_dir);

}  // namespace ctr
