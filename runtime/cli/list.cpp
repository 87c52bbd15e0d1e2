// ctr-runtime list [--format table|json] [--quiet]: the containers under --root.
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/cli/command.h"
#include "runtime/container.h"
#include "runtime/state.h"

namespace ctr::cli {

namespace {

constexpr FlagSpec kFlags[] = {
    {"format", 'f', FlagKind::value, "table or json", "FORMAT"},
    {"quiet", 'q', FlagKind::boolean, "print the ids only"},
};

// Like Go's tabwriter as runc sets it up (min width 12, padding 3): every
// column but the last as wide as its widest cell plus 3.
std::string render_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], std::max<size_t>(row[i].size() + 3, 12));
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size(), ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string table_text(const std::vector<ContainerState>& states) {
  std::vector<std::vector<std::string>> rows{{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& s : states) {
    std::string pid = s.status == ContainerStatus::stopped ? "0" : std::to_string(s.pid);
    rows.push_back({s.id, pid, status_name(s.status), s.bundle, s.created, s.owner});
  }
  return render_table(rows);
}

Result<int> run_list(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "list", 0, 0));
  std::string format = args.value_or("format", "table");
  if (format != "table" && format != "json")
    return make_error("invalid --format \"" + format + "\": use table or json", EINVAL);
  TRY_ASSIGN(states, list_containers(global.root, process_start_time));
  std::string out;
  if (args.flag("quiet")) {
    for (const auto& s : states) out += s.id + "\n";
  } else if (format == "json") {
    auto array = nlohmann::ordered_json::array();
    for (const auto& s : states) array.push_back(state_to_public_json(s));
    out = array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    out = table_text(states);
  }
  TRY(write_all(STDOUT_FILENO, out));
  return 0;
}

}  // namespace

const Command list_command{
    "list", "list [flags]", "list containers", kFlags, run_list,
};

}  // namespace ctr::cli
