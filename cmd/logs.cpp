// ctr logs [-f] [-t] [--tail N] [--since T] [--until T] CONTAINER: the
// container's output from the shim's log file (k8s-file or json-file,
// rotated files included); -f follows it until the container exits.
// --since/--until take what podman takes: RFC 3339, unix seconds, or a Go
// duration such as 10m (before now for --since, after now for --until).
#include <climits>
#include <ctime>
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_record.h"
#include "cmd/output.h"
#include "runtime/base/files.h"
#include "shim/log_reader.h"

namespace ctr::cmd {
namespace {

struct LogsFlags {
  bool follow = false, timestamps = false;
  int64_t tail = -1;
  std::string since, until;
  std::string container;
};

// The time window of --since/--until, in nanoseconds since the epoch.
struct Window {
  int64_t since = INT64_MIN, until = INT64_MAX;
  bool contains(const shim::LogEntry& entry) const {
    if (since == INT64_MIN && until == INT64_MAX) return true;
    auto when = parse_rfc3339_ns(entry.time);
    return !when || (*when >= since && *when <= until);
  }
};

Result<Window> parse_window(const LogsFlags& flags) {
  Window window;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  int64_t now_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  if (!flags.since.empty()) {
    auto since = parse_input_time(flags.since, true, now_ns);
    if (!since) return make_error("parsing --since \"" + flags.since + "\": " + since.error().message, EINVAL);
    window.since = *since;
  }
  if (!flags.until.empty()) {
    auto until = parse_input_time(flags.until, false, now_ns);
    if (!until) return make_error("parsing --until \"" + flags.until + "\": " + until.error().message, EINVAL);
    window.until = *until;
  }
  return window;
}

std::vector<shim::LogEntry> in_window(std::vector<shim::LogEntry> entries, const Window& window) {
  std::erase_if(entries, [&](const shim::LogEntry& e) { return !window.contains(e); });
  return entries;
}

class Printer {
 public:
  explicit Printer(bool timestamps) : timestamps_(timestamps) {}
  void print(const std::vector<shim::LogEntry>& entries) {
    for (const auto& e : entries) {
      std::ostream& out = e.stream == "stderr" ? std::cerr : std::cout;
      if (timestamps_ && at_line_start_) out << e.time << " ";
      out << e.text;
      if (!e.partial) out << "\n";
      at_line_start_ = !e.partial;
    }
    std::cout.flush();
    std::cerr.flush();
  }

 private:
  bool timestamps_;
  bool at_line_start_ = true;
};

// The last `tail` logical lines (partial records belong to the line they continue).
std::vector<shim::LogEntry> last_lines(std::vector<shim::LogEntry> entries, int64_t tail) {
  if (tail < 0) return entries;
  size_t start = entries.size();
  int64_t lines = 0;
  while (start > 0) {
    if (!entries[start - 1].partial && lines++ == tail) break;
    --start;
  }
  entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(start));
  return entries;
}

shim::LogDriver driver_of(const ContainerRecord& record) {
  return record.log_driver == "json-file" ? shim::LogDriver::json_file : shim::LogDriver::k8s_file;
}

int follow(const ContainerRecord& record, const LogsFlags& flags, const Window& window, Printer& printer) {
  auto follower = shim::LogFollower::open(driver_of(record), record.log_path);
  if (!follower) return fail(follower.error());
  bool first = true;
  for (;;) {
    // Exited is read before the last read: the shim flushes the log before
    // it writes exit.json, so that read has every line.
    bool ended = live_status(record).state == "exited";
    auto entries = follower->read_new();
    if (!entries) return fail(entries.error());
    auto shown = in_window(std::move(*entries), window);
    printer.print(first ? last_lines(std::move(shown), flags.tail) : shown);
    first = false;
    if (ended) return 0;
    // Past --until nothing more can be shown (as podman, which stops there).
    if (window.until != INT64_MAX && std::time(nullptr) * int64_t{1000000000} > window.until) return 0;
    if (auto waited = follower->wait(std::chrono::milliseconds(500)); !waited) return fail(waited.error());
  }
}

int run_logs(Context& ctx, const LogsFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto record = find_record(**store, flags.container);
  if (!record) return fail(record.error());
  if (record->log_driver == "none")
    return fail("container " + record->name + " uses the `none` log driver: its output is not stored");
  auto window = parse_window(flags);
  if (!window) return fail(window.error());
  Printer printer(flags.timestamps);
  if (!path_exists(record->log_path)) {
    if (!flags.follow || live_status(*record).state != "running") return 0;  // never ran: no output yet
  }
  if (flags.follow) return follow(*record, flags, *window, printer);
  auto entries = shim::read_log(driver_of(*record), record->log_path);
  if (!entries) return fail(entries.error());
  printer.print(last_lines(in_window(std::move(*entries), *window), flags.tail));
  return 0;
}

}  // namespace

void add_logs(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("logs", "Fetch the logs of a container");
  auto flags = std::make_shared<LogsFlags>();
  sub->add_flag("-f,--follow", flags->follow, "Follow the log output until the container exits");
  sub->add_flag("-t,--timestamps", flags->timestamps, "Show timestamps");
  cli.value(*sub, "-n,--tail", flags->tail, "Output the last N lines (default: all)", Completer::none);
  cli.value(*sub, "--since", flags->since,
            "Show logs since TIMESTAMP: RFC 3339, unix seconds, or a duration such as 10m", Completer::none);
  cli.value(*sub, "--until", flags->until,
            "Show logs until TIMESTAMP: RFC 3339, unix seconds, or a duration such as 10m", Completer::none);
  cli.value(*sub, "container", flags->container, "Container (name, ID or ID prefix)", Completer::containers)
      ->required();
  cli.on_run(*sub, [&cli, flags] { return run_logs(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
