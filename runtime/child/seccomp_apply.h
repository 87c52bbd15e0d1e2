// Seccomp in the container's init, between clone() and exec(): the BPF was
// compiled by the parent (runtime/seccomp.h); these functions only make
// syscalls. No allocation, no exceptions, no locks. Errors are -errno.
#pragma once

#include <linux/filter.h>

namespace ctr::child {

// Loads `filter` with seccomp(SECCOMP_SET_MODE_FILTER, flags). With
// SECCOMP_FILTER_FLAG_NEW_LISTENER the kernel returns the notification fd,
// stored in *listener_fd (may be null otherwise). Returns 0 or -errno.
// The caller must hold CAP_SYS_ADMIN in its user namespace or have set
// no_new_privs.
int apply_seccomp(const sock_filter* filter, unsigned short length, unsigned int flags, int* listener_fd);

// Hands the notification fd to the seccomp agent listening at socket_path,
// as the OCI runtime spec describes: the container state JSON as the payload,
// the fd as SCM_RIGHTS. Returns 0 or -errno.
int send_seccomp_listener(const char* socket_path, int listener_fd, const char* state_json);

}  // namespace ctr::child
