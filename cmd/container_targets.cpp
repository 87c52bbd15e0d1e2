#include "cmd/container_targets.h"

#include "cmd/app.h"

namespace ctr::cmd {

Result<std::vector<Target>> select_containers(const image::Store& store, const std::string& command,
                                              const std::vector<std::string>& names, bool all,
                                              const std::function<bool(const ContainerRecord&)>& keep, int& status) {
  if (all && !names.empty()) return make_error("--all and containers cannot be used together", EINVAL);
  if (!all && names.empty()) return make_error(command + " requires at least one container (or --all)", EINVAL);
  std::vector<Target> targets;
  if (all) {
    TRY_ASSIGN(records, list_records(store));
    for (auto& record : records)
      if (keep(record)) targets.push_back({record.id, std::move(record)});
    return targets;
  }
  for (const auto& text : names) {
    auto record = find_record(store, text);
    if (!record) {
      status = fail(record.error());
      continue;
    }
    targets.push_back({text, std::move(record).value()});
  }
  return targets;
}

}  // namespace ctr::cmd
