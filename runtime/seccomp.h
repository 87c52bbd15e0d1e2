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
};

// Validates names (syscalls unknown to libseccomp are skipped like runc does,
// actions/operators/architectures/flags unknown are errors naming the field)
// and compiles the filter.
Result<SeccompProgram> compile_seccomp(const spec::Seccomp& seccomp);

}  // namespace ctr
