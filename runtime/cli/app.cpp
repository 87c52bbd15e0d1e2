// run_main: global flags, dispatch, error reporting. The table of commands
// itself is in main.cpp.
#include <unistd.h>

#include <string>
#include <vector>

#include "runtime/base/files.h"
#include "runtime/cli/command.h"
#include "runtime/cli/log.h"
#include "runtime/state.h"

#ifndef CTR_VERSION
#define CTR_VERSION "unknown"
#endif
#ifndef CTR_GIT_COMMIT
#define CTR_GIT_COMMIT "unknown"
#endif

namespace ctr::cli {

namespace {

constexpr FlagSpec kGlobalFlags[] = {
    {"root", 0, FlagKind::value, "directory for container state (default $XDG_RUNTIME_DIR/ctr-runtime)", "DIR"},
    {"log", 0, FlagKind::value, "append errors (and --debug lines) to this file", "FILE"},
    {"log-format", 0, FlagKind::value, "log file format: text or json", "FORMAT"},
    {"debug", 0, FlagKind::boolean, "log debug messages"},
    {"systemd-cgroup", 0, FlagKind::boolean, "linux.cgroupsPath is slice:prefix:name: a transient systemd scope"},
    {"rootless", 0, FlagKind::value, "accepted for compatibility: true, false or auto", "MODE"},
    {"version", 'v', FlagKind::boolean, "print the version"},
};

void print_out(const std::string& text) { (void)write_all(STDOUT_FILENO, text); }

std::string usage_text(std::span<const Command* const> commands) {
  std::string out =
      "ctr-runtime: an OCI container runtime (runc/crun command line)\n\n"
      "Usage: ctr-runtime [global flags] COMMAND [flags] [arguments...]\n\nCommands:\n";
  for (const Command* c : commands) {
    std::string name = "   " + std::string(c->name);
    name.resize(17, ' ');
    out += name + std::string(c->summary) + "\n";
  }
  out += "   help          show help for a command\n   version       print the version\n\nGlobal flags:\n";
  out += describe_flags(kGlobalFlags);
  out += "   --help, -h                     show help\n";
  return out;
}

std::string command_help(const Command& command) {
  std::string out = "Usage: ctr-runtime " + std::string(command.usage) + "\n\n" + std::string(command.summary) + "\n";
  if (!command.flags.empty()) out += "\nFlags:\n" + describe_flags(command.flags);
  return out;
}

const Command* find_command(std::span<const Command* const> commands, std::string_view name) {
  for (const Command* c : commands)
    if (c->name == name) return c;
  return nullptr;
}

Result<GlobalOptions> make_global_options(const ParsedArgs& parsed) {
  GlobalOptions global;
  global.log_path = parsed.value_or("log", "");
  std::string format = parsed.value_or("log-format", "text");
  if (format == "json") global.log_format = LogFormat::json;
  else if (format != "text") return make_error("invalid --log-format \"" + format + "\": use text or json", EINVAL);
  global.debug = parsed.flag("debug");
  global.systemd_cgroup = parsed.flag("systemd-cgroup");
  global.rootless = parsed.value_or("rootless", "auto");
  if (global.rootless != "auto" && global.rootless != "true" && global.rootless != "false")
    return make_error("invalid --rootless \"" + global.rootless + "\": use true, false or auto", EINVAL);
  global.root = parsed.value_or("root", "");
  if (global.root.empty()) global.root = default_state_root();
  return global;
}

// `help` and `help COMMAND`.
int show_help(std::span<const Command* const> commands, const std::vector<std::string>& rest) {
  if (rest.size() > 1) {
    if (const Command* c = find_command(commands, rest[1])) {
      print_out(command_help(*c));
      return 0;
    }
    log_error("no help topic for \"" + rest[1] + "\"");
    return 1;
  }
  print_out(usage_text(commands));
  return 0;
}

int dispatch(const Command& command, const GlobalOptions& global, std::span<const std::string> rest) {
  ParseOptions options{command.stop_at_first_positional, command.name};
  auto parsed = parse_args(rest, command.flags, options);
  if (!parsed) {
    log_error(parsed.error().message);
    return 1;
  }
  if (parsed->help) {
    print_out(command_help(command));
    return 0;
  }
  auto status = command.run(global, *parsed);
  if (!status) {
    log_error(status.error().message);
    return 1;
  }
  return *status;
}

}  // namespace

const std::span<const FlagSpec> global_flags = kGlobalFlags;

std::string version_text() {
  return std::string("ctr-runtime version ") + CTR_VERSION + "\ncommit: " + CTR_GIT_COMMIT + "\nspec: " + kOciVersion +
         "\n";
}

int run_main(int argc, char** argv, std::span<const Command* const> commands) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto parsed = parse_args(args, kGlobalFlags, ParseOptions{true, ""});
  if (!parsed) {
    log_error(parsed.error().message);
    return 1;
  }
  if (parsed->flag("version")) {
    print_out(version_text());
    return 0;
  }
  auto global = make_global_options(*parsed);
  if (!global) {
    log_error(global.error().message);
    return 1;
  }
  configure_log(*global);
  const auto& rest = parsed->positionals;
  if (parsed->help) {  // `--help` before a command name: that command's help
    std::vector<std::string> topic{"help"};
    if (!rest.empty()) topic.push_back(rest[0]);
    return show_help(commands, topic);
  }
  if (rest.empty() || rest[0] == "help") return show_help(commands, rest);
  if (rest[0] == "version") {
    print_out(version_text());
    return 0;
  }
  const Command* command = find_command(commands, rest[0]);
  if (!command) {
    log_error("unknown command \"" + rest[0] + "\" (see ctr-runtime --help)");
    return 1;
  }
  if (debug_enabled()) {
    std::string line = "ctr-runtime";
    for (const auto& a : args) line += " " + a;
    log_debug(line);
  }
  return dispatch(*command, *global, std::span<const std::string>(rest).subspan(1));
}

}  // namespace ctr::cli
