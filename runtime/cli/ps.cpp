// ctr-runtime ps [--format table|json] ID [PS_ARGS...]: the container's
// processes, as a JSON array of pids or as ps(1) lines.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/cli/command.h"
#include "runtime/cli/common.h"
#include "runtime/cli/processes.h"

namespace ctr::cli {

namespace {

constexpr FlagSpec kFlags[] = {
    {"format", 'f', FlagKind::value, "table or json", "FORMAT"},
};

// Like runc: run `ps ARGS` (default -ef) over the whole host and keep the
// header and the lines whose PID column is one of ours, so any ps output
// format the user asks for works.
Result<std::string> filter_ps_output(const std::string& output, const std::set<pid_t>& pids) {
  auto lines = split(output, '\n');
  if (lines.empty()) return make_error("ps printed nothing", EIO);
  std::vector<std::string> header;
  for (auto& word : split(lines[0], ' '))
    if (!word.empty()) header.push_back(word);
  auto column = std::find(header.begin(), header.end(), "PID");
  if (column == header.end()) return make_error("ps output has no PID column: add -o pid or use -ef", EINVAL);
  size_t index = static_cast<size_t>(column - header.begin());
  std::string out = lines[0] + "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> fields;
    for (auto& word : split(lines[i], ' '))
      if (!word.empty()) fields.push_back(word);
    if (fields.size() <= index) continue;
    auto pid = parse_i64(fields[index]);
    if (pid && pids.count(static_cast<pid_t>(*pid))) out += lines[i] + "\n";
  }
  return out;
}

Result<std::string> run_ps(std::vector<std::string> ps_args) {
  if (ps_args.empty()) ps_args = {"-ef"};
  ps_args.insert(ps_args.begin(), "ps");
  // A memfd, not a pipe: ps on a busy host can print more than a pipe holds.
  UniqueFd out(::memfd_create("ctr-ps", MFD_CLOEXEC));
  if (!out) return sys_error("memfd_create");
  SpawnOptions options;
  options.stdout_fd = out.get();
  TRY_ASSIGN(status, run_process(ps_args, options));
  if (status.code != 0 || status.signal) return make_error("ps " + status.describe(), EIO);
  if (::lseek(out.get(), 0, SEEK_SET) < 0) return sys_error("lseek");
  return read_fd(out.get());
}

Result<int> run_ps_command(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "ps", 1, SIZE_MAX));
  std::string format = args.value_or("format", "table");
  if (format != "table" && format != "json")
    return make_error("invalid --format \"" + format + "\": use table or json", EINVAL);
  TRY_ASSIGN(state, load_state(global, args.positionals[0]));
  std::vector<pid_t> pids;
  if (state.status != ContainerStatus::stopped) {
    TRY_ASSIGN(processes, container_processes(state.pid));
    for (const auto& p : processes) pids.push_back(p.pid);
  }
  std::string text;
  if (format == "json") {
    text = nlohmann::json(pids).dump() + "\n";
  } else if (path_exists("/bin/ps") || path_exists("/usr/bin/ps")) {
    TRY_ASSIGN(output, run_ps({args.positionals.begin() + 1, args.positionals.end()}));
    TRY_ASSIGN(filtered, filter_ps_output(output, std::set<pid_t>(pids.begin(), pids.end())));
    text = std::move(filtered);
  } else {
    text = "PID\n";
    for (pid_t pid : pids) text += std::to_string(pid) + "\n";
  }
  TRY(write_all(STDOUT_FILENO, text));
  return 0;
}

}  // namespace

const Command ps_command{
    "ps",      "ps [flags] ID [PS_ARGS...]", "list a container's processes", kFlags, run_ps_command,
    /*stop_at_first_positional=*/true,
};

}  // namespace ctr::cli
