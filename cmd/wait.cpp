// ctr wait [--condition C]... [-i INTERVAL] [-l] CONTAINER...: blocks until
// each container meets one of the conditions and prints its exit code
// (-1 for running/created, or when its shim was killed and the status is
// unknown), as podman wait. Every container is looked up before any wait:
// an unknown one is an error (125) and nothing is waited for.
#include <iostream>
#include <memory>
#include <set>
#include <thread>

#include "cmd/app.h"
#include "cmd/container_launch.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

struct WaitFlags {
  std::vector<std::string> conditions;
  std::string interval = "250ms";
  bool latest = false;
  std::vector<std::string> containers;
};

// podman's container states; only those a ctr container can be in are
// supported ("stopped" and "exited" are the same here: ctr has no stopped
// state between the payload's exit and the shim's cleanup).
Result<std::set<std::string>> parse_conditions(const std::vector<std::string>& texts) {
  static const std::set<std::string> supported = {"created", "running", "stopped", "exited"};
  static const std::set<std::string> podman_only = {"configured", "initialized", "paused",   "removing",
                                                    "stopping",   "healthy",     "unhealthy"};
  std::set<std::string> out;
  for (const auto& text : texts) {
    for (const auto& part : split(text, ',')) {
      std::string condition(trim(part));
      if (supported.count(condition)) {
        out.insert(condition == "stopped" ? "exited" : condition);
      } else if (podman_only.count(condition)) {
        return make_error("--condition " + condition +
                              " is not supported: ctr containers are never in that state; use created, running, "
                              "stopped or exited",
                          ENOTSUP);
      } else {
        return make_error("unknown container state: " + condition + ": invalid argument", EINVAL);
      }
    }
  }
  if (out.empty()) out.insert("exited");
  return out;
}

// Go durations as podman takes them: "250ms", "2s", "1m", "1h", a bare
// number meaning milliseconds.
Result<std::chrono::milliseconds> parse_interval(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  auto number = parse_u64(text.substr(0, digits));
  std::string unit = text.substr(digits);
  uint64_t scale = unit.empty() || unit == "ms" ? 1
                   : unit == "s"                ? 1000
                   : unit == "m"                ? 60000
                   : unit == "h"                ? 3600000
                                                : 0;
  if (!number || scale == 0 || *number == 0 || *number > 24ull * 3600000)
    return make_error("invalid --interval `" + text + "`: use a duration like 250ms, 2s or 1m", EINVAL);
  return std::chrono::milliseconds(*number * scale);
}

// The exit code to print once `record` meets a condition; polls every
// `interval` for created/running, and waits on the shim (no polling) for
// exited once a shim exists.
Result<int> wait_one(const image::Store& store, const ContainerRecord& record, const std::set<std::string>& conditions,
                     std::chrono::milliseconds interval) {
  for (;;) {
    LiveStatus live = live_status(record);
    if (conditions.count(live.state)) return live.state == "exited" ? live.exit_code() : -1;
    bool only_exit = conditions.size() == 1 && conditions.count("exited");
    if (only_exit && live.state == "running") {
      // Until it exits (a --restart policy may start it again: checked above).
      TRY_ASSIGN(ended, shim::wait_container(shim_state_dir(record.id), std::chrono::hours(24 * 365)));
      if (ended.state != shim::ContainerState::running) return ended.exit ? ended.exit->exit_code : -1;
      continue;
    }
    // A created container has no shim to wait on yet (someone runs `ctr start`).
    if (!path_exists(container_dir(store, record.id)))
      return make_error("container " + record.name + " was removed while waiting: no such container", ENOENT);
    std::this_thread::sleep_for(interval);
  }
}

int run_wait(Context& ctx, const WaitFlags& flags) {
  auto conditions = parse_conditions(flags.conditions);
  if (!conditions) return fail(conditions.error());
  auto interval = parse_interval(flags.interval);
  if (!interval) return fail(interval.error());
  if (flags.latest == !flags.containers.empty())
    return fail(std::string(flags.latest ? "--latest and containers cannot be used together"
                                         : "you must provide at least one container name or id"));
  auto store = ctx.store();
  if (!store) return fail(store.error());
  std::vector<ContainerRecord> records;
  if (flags.latest) {
    auto all = list_records(**store);
    if (!all) return fail(all.error());
    if (all->empty()) return fail(std::string("no containers to wait for (--latest): no such container"));
    records.push_back(all->back());
  }
  for (const auto& text : flags.containers) {
    auto record = find_record(**store, text);
    if (!record) return fail(record.error());
    records.push_back(std::move(*record));
  }
  for (const auto& record : records) {
    auto code = wait_one(**store, record, *conditions, *interval);
    if (!code) return fail(code.error().context("wait for container " + record.name));
    std::cout << *code << std::endl;
  }
  return 0;
}

}  // namespace

void add_wait(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("wait", "Wait for containers to exit and print their exit codes");
  auto flags = std::make_shared<WaitFlags>();
  cli.value(*sub, "--condition", flags->conditions,
            "State to wait for: stopped/exited (default), running or created (several: the first met)",
            Completer::fixed, {"stopped", "exited", "running", "created"})
      ->allow_extra_args(false);  // one value per --condition: the containers follow
  cli.value(*sub, "-i,--interval", flags->interval, "Time between polls of a container's state (default 250ms)",
            Completer::none);
  sub->add_flag("-l,--latest", flags->latest, "Act on the latest container ctr knows of");
  cli.value(*sub, "container", flags->containers, "Containers to wait for (name, ID or ID prefix)",
            Completer::containers);
  cli.on_run(*sub, [&cli, flags] { return run_wait(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
