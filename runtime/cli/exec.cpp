// ctr-runtime exec [flags] ID CMD [ARGS...] or exec --process P.json ID: run
// another process inside a running container.
#include <algorithm>
#include <cstdint>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/capabilities.h"
#include "runtime/cli/command.h"
#include "runtime/cli/common.h"
#include "runtime/cli/foreground.h"
#include "runtime/cli/log.h"
#include "runtime/container.h"

namespace ctr::cli {

namespace {

constexpr FlagSpec kFlags[] = {
    {"process", 'p', FlagKind::value, "process.json to run (the other process flags are then ignored)", "FILE"},
    {"tty", 't', FlagKind::boolean, "allocate a terminal"},
    {"env", 'e', FlagKind::list, "set an environment variable", "KEY=VALUE"},
    {"cwd", 0, FlagKind::value, "working directory in the container", "DIR"},
    {"user", 'u', FlagKind::value, "run as UID[:GID]", "UID[:GID]"},
    {"additional-gids", 'g', FlagKind::list, "supplementary group", "GID"},
    {"cap", 'c', FlagKind::list, "add a capability", "CAP"},
    {"no-new-privs", 0, FlagKind::boolean, "set no_new_privs"},
    {"apparmor", 0, FlagKind::value, "AppArmor profile (accepted, not applied)", "PROFILE"},
    {"process-label", 0, FlagKind::value, "SELinux label (accepted, not applied)", "LABEL"},
    {"detach", 'd', FlagKind::boolean, "do not wait for the process"},
    {"pid-file", 0, FlagKind::value, "write the process's pid to this file", "FILE"},
    {"console-socket", 0, FlagKind::value, "unix socket to send the terminal's pty master to", "PATH"},
    {"preserve-fds", 0, FlagKind::value, "pass fds 3..3+N-1 into the process", "N"},
    {"cgroup", 0, FlagKind::value, "accepted for compatibility with runc", "PATH"},
    {"ignore-paused", 0, FlagKind::boolean, "accepted for compatibility with runc"},
};

Result<uint32_t> parse_id(const std::string& text, const char* what) {
  auto n = parse_u64(text);
  if (!n || *n > UINT32_MAX) return make_error("invalid " + std::string(what) + " \"" + text + "\": expected a number", EINVAL);
  return static_cast<uint32_t>(*n);
}

Status apply_user(const ParsedArgs& args, spec::User& user) {
  if (auto text = args.value("user")) {
    auto parts = split(*text, ':');
    if (parts.size() > 2) return make_error("invalid --user \"" + *text + "\": use UID[:GID]", EINVAL);
    TRY_ASSIGN(uid, parse_id(parts[0], "uid"));
    user.uid = uid;
    if (parts.size() == 2) {
      TRY_ASSIGN(gid, parse_id(parts[1], "gid"));
      user.gid = gid;
    }
  }
  if (args.has("additional-gids")) {
    user.additional_gids.clear();
    for (const auto& g : args.values("additional-gids")) {
      TRY_ASSIGN(gid, parse_id(g, "additional gid"));
      user.additional_gids.push_back(gid);
    }
  }
  return {};
}

// KEY=VALUE over the container's environment: same key replaced, else appended.
void merge_env(std::vector<std::string>& env, const std::vector<std::string>& overrides) {
  for (const auto& entry : overrides) {
    std::string key = entry.substr(0, entry.find('=')) + "=";
    auto same = std::find_if(env.begin(), env.end(), [&](const std::string& e) { return starts_with(e, key); });
    if (same != env.end()) *same = entry;
    else env.push_back(entry);
  }
}

Status add_capabilities(const std::vector<std::string>& names, std::optional<spec::Capabilities>& caps) {
  if (names.empty()) return {};
  if (!caps) caps.emplace();
  for (const auto& name : names) {
    auto cap = capability_from_name(name);
    if (!cap) return make_error("unknown capability \"" + name + "\"", EINVAL);
    for (auto* set : {&caps->bounding, &caps->effective, &caps->permitted})
      if (std::find(set->begin(), set->end(), *cap) == set->end()) set->push_back(*cap);
  }
  return {};
}

// The container's own process, adjusted by the flags (runc's rules).
Result<spec::Process> process_from_flags(const ParsedArgs& args, const spec::Spec& spec) {
  if (args.positionals.size() < 2)
    return make_error("exec needs a command: ctr-runtime exec ID CMD [ARGS...], or --process FILE", EINVAL);
  spec::Process p = spec.process ? *spec.process : spec::Process{};
  p.args.assign(args.positionals.begin() + 1, args.positionals.end());
  p.terminal = args.flag("tty");
  p.console_size.reset();
  merge_env(p.env, args.values("env"));
  if (auto cwd = args.value("cwd")) p.cwd = *cwd;
  TRY(apply_user(args, p.user));
  TRY(add_capabilities(args.values("cap"), p.capabilities));
  if (args.flag("no-new-privs")) p.no_new_privileges = true;
  if (auto profile = args.value("apparmor")) p.apparmor_profile = *profile;
  if (auto label = args.value("process-label")) p.selinux_label = *label;
  return p;
}

Result<spec::Process> build_process(const ParsedArgs& args, const spec::Spec& spec) {
  auto file = args.value("process");
  if (!file) return process_from_flags(args, spec);
  TRY(expect_positionals(args, "exec", 1, 1));
  TRY_ASSIGN(text, read_file(*file));
  auto process = spec::parse_process(text);
  if (!process) return std::move(process).error().context("`" + *file + "`");
  return process;
}

Result<Executed> start_exec(const GlobalOptions& global, const ParsedArgs& args, const std::string& id) {
  // Shared lock: a delete must not remove the container while we join it.
  TRY_ASSIGN(lock, lock_container_dir(global.root, id, FileLock::Mode::shared));
  TRY_ASSIGN(state, load_state(global, id));
  if (state.status == ContainerStatus::stopped) return make_error("cannot exec in a stopped container", EINVAL);
  TRY_ASSIGN(spec, load_saved_spec(state_dir(global, id), state));
  TRY_ASSIGN(process, build_process(args, spec));
  std::string console_socket = args.value_or("console-socket", "");
  if (process.terminal && args.flag("detach") && console_socket.empty())
    return make_error("a detached exec with a terminal needs --console-socket", EINVAL);
  TRY_ASSIGN(preserve_fds, preserve_fds_flag(args));
  ExecRequest request{state.pid,   &spec, std::move(process), console_socket, preserve_fds, args.flag("detach"),
                      seccomp_cache_dir(state_dir(global, id))};
  log_debug("exec in container \"" + id + "\" (init pid " + std::to_string(state.pid) + ")");
  return exec_in_container(request);
}

Result<int> run_exec(const GlobalOptions& global, const ParsedArgs& args) {
  TRY(expect_positionals(args, "exec", 1, SIZE_MAX));
  TRY_ASSIGN(executed, start_exec(global, args, args.positionals[0]));
  if (auto pid_file = args.value("pid-file")) TRY(write_pid_file(*pid_file, executed.process.pid()));
  if (args.flag("detach")) {
    executed.process.release();
    return 0;
  }
  int pty = executed.pty_master.valid() ? executed.pty_master.get() : -1;
  TRY_ASSIGN(exit, wait_in_foreground(executed.process, pty));
  return exit.shell_code();
}

}  // namespace

const Command exec_command{
    "exec",
    "exec [flags] ID CMD [ARGS...]  |  exec --process FILE [flags] ID",
    "run a process in a running container",
    kFlags,
    run_exec,
    /*stop_at_first_positional=*/true,
};

}  // namespace ctr::cli
