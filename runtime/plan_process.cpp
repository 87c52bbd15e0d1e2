// The process part of a plan: shared by create/run and exec.
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/capabilities.h"
#include "runtime/plan.h"
#include "runtime/seccomp.h"
#include "runtime/base/strings.h"

namespace ctr {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

uint64_t capability_mask(const std::vector<int>& caps) {
  uint64_t mask = 0;
  for (int cap : caps)
    if (cap >= 0 && cap < 64) mask |= uint64_t{1} << cap;
  return mask;
}

const char* search_path(PlanStorage& storage, const std::vector<std::string>& env) {
  for (const auto& entry : env)
    if (starts_with(entry, "PATH=")) return storage.keep(entry.substr(5));
  return kDefaultPath;
}

Status plan_seccomp(PlanStorage& storage, const spec::Spec& container, const std::string& cache_dir) {
  if (!container.linux.seccomp) return {};
  TRY_ASSIGN(program, cache_dir.empty() ? compile_seccomp(*container.linux.seccomp)
                                        : compile_seccomp_cached(*container.linux.seccomp, cache_dir));
  storage.seccomp_filter = std::move(program.filter);
  if (storage.seccomp_filter.size() > 0xffff) return make_error("linux.seccomp: the filter is too large", E2BIG);
  child::Plan& plan = storage.plan;
  plan.seccomp_filter = storage.seccomp_filter.data();
  plan.seccomp_length = static_cast<unsigned short>(storage.seccomp_filter.size());
  plan.seccomp_flags = program.flags;
  if (program.wants_listener) plan.seccomp_listener_path = storage.keep(program.listener_path);
  return {};
}

}  // namespace

char* const* PlanStorage::keep_argv(const std::vector<std::string>& items) {
  auto& ptrs = argvs_.emplace_back();
  for (const auto& item : items) ptrs.push_back(const_cast<char*>(keep(item)));
  ptrs.push_back(nullptr);
  return ptrs.data();
}

Status plan_process(PlanStorage& storage, const spec::Process& process, const spec::Spec& container,
                    const std::string& seccomp_cache_dir) {
  child::Plan& plan = storage.plan;
  if (process.args.empty()) return make_error("process.args: must name the program to run", EINVAL);
  plan.argv = storage.keep_argv(process.args);
  plan.envp = storage.keep_argv(process.env);
  plan.search_path = search_path(storage, process.env);
  plan.cwd = storage.keep(process.cwd.empty() ? "/" : process.cwd);
  plan.terminal = process.terminal;
  if (process.console_size) {
    plan.console_rows = static_cast<unsigned short>(process.console_size->height);
    plan.console_cols = static_cast<unsigned short>(process.console_size->width);
  }
  plan.uid = process.user.uid;
  plan.gid = process.user.gid;
  plan.additional_gids = storage.keep_span(std::vector<gid_t>(process.user.additional_gids.begin(),
                                                              process.user.additional_gids.end()));
  plan.umask = process.user.umask ? static_cast<int>(*process.user.umask) : -1;
  if (process.capabilities) {
    const auto& caps = *process.capabilities;
    plan.set_capabilities = true;
    plan.cap_bounding = capability_mask(caps.bounding);
    plan.cap_effective = capability_mask(caps.effective);
    plan.cap_permitted = capability_mask(caps.permitted);
    plan.cap_inheritable = capability_mask(caps.inheritable);
    plan.cap_ambient = capability_mask(caps.ambient);
    plan.last_cap = last_capability();
  }
  std::vector<child::RlimitStep> rlimits;
  for (const auto& limit : process.rlimits) rlimits.push_back({limit.resource, limit.soft, limit.hard});
  plan.rlimits = storage.keep_span(std::move(rlimits));
  if (process.oom_score_adj) plan.oom_score_adj = storage.keep(std::to_string(*process.oom_score_adj));
  plan.no_new_privileges = process.no_new_privileges;
  return plan_seccomp(storage, container, seccomp_cache_dir);
}

}  // namespace ctr
