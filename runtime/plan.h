// Turns a spec into the flat child::Plan the container's init follows.
// Everything that allocates, parses or decides happens here, in the parent.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "runtime/child/plan.h"
#include "runtime/spec.h"

namespace ctr {

// Owns every string and array the Plan points into. Not movable: the
// Plan holds pointers into it, so it lives behind a unique_ptr.
class PlanStorage {
 public:
  PlanStorage() = default;
  PlanStorage(const PlanStorage&) = delete;
  PlanStorage& operator=(const PlanStorage&) = delete;

  child::Plan plan;

  const char* keep(std::string text) {
    strings_.push_back(std::move(text));
    return strings_.back().c_str();
  }
  char* const* keep_argv(const std::vector<std::string>& items);
  template <typename T>
  child::Span<T> keep_span(std::vector<T> items) {
    auto& stored = spans_.emplace_back(std::make_shared<std::vector<T>>(std::move(items)));
    auto* vec = static_cast<std::vector<T>*>(stored.get());
    return child::Span<T>{vec->data(), static_cast<int>(vec->size())};
  }
  std::vector<UniqueFd> namespace_fds;
  std::vector<sock_filter> seccomp_filter;
  std::string hook_state_buffer;

 private:
  std::deque<std::string> strings_;
  std::deque<std::vector<char*>> argvs_;
  std::deque<std::shared_ptr<void>> spans_;
};

struct CreatePlanInputs {
  const spec::Spec* spec = nullptr;
  std::string id;
  std::string bundle;  // relative bind-mount sources resolve against it
  bool no_pivot = false;
  bool new_keyring = true;
  int preserve_fds = 0;
  std::string seccomp_cache_dir;
};

// The plan for a new container (namespaces, rootfs, process).
Result<std::unique_ptr<PlanStorage>> build_create_plan(const CreatePlanInputs& inputs);

// The process part, shared with exec: identity, capabilities, rlimits,
// seccomp (from the container's spec), terminal, argv/env/cwd.
Status plan_process(PlanStorage& storage, const spec::Process& process, const spec::Spec& container,
                    const std::string& seccomp_cache_dir = {});

// Whether the runtime (or the container it makes) lives in a user namespace
// other than the initial one, where mknod and some mounts are refused.
bool spec_creates_user_namespace(const spec::Spec& spec);

// A single-ID gid map written by an unprivileged user requires "deny" in
// /proc/PID/setgroups first (user_namespaces(7)); maps written through
// newgidmap keep setgroups allowed, so additionalGids work there.
bool setgroups_denied(const spec::Spec& spec);

}  // namespace ctr
