#include "runtime/cli/launch.h"

#include <unistd.h>

#include <cstdlib>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/cli/log.h"

namespace ctr::cli {

namespace {

Status check_process(const spec::Spec& spec, const std::string& console_socket, bool detached) {
  if (!spec.process) return make_error("config.json has no \"process\": there is nothing to run", EINVAL);
  if (spec.process->terminal && detached && console_socket.empty())
    return make_error(
        "process.terminal is true but nobody would hold the terminal: pass --console-socket, or set "
        "terminal to false",
        EINVAL);
  return {};
}

struct Bundle {
  std::string path;
  std::string config_text;
  spec::Spec spec;
};

Result<Bundle> load_bundle(const ParsedArgs& args) {
  auto path = absolute_path(args.value_or("bundle", "."));
  if (!path) return std::move(path).error().context("bundle");
  auto text = read_file(*path + "/config.json");
  if (!text) return std::move(text).error().context("bundle");
  auto spec = spec::parse_spec(*text, *path);
  if (!spec) return std::move(spec).error().context("`" + *path + "/config.json`");
  return Bundle{std::move(*path), std::move(*text), std::move(*spec)};
}

CreateRequest make_request(const ParsedArgs& args, const Bundle& bundle, const std::string& id,
                           const std::string& dir, int preserve_fds, CreateMode mode) {
  CreateRequest request;
  request.id = id;
  request.bundle = bundle.path;
  request.state_dir = dir;
  request.console_socket = args.value_or("console-socket", "");
  request.preserve_fds = preserve_fds;
  request.no_pivot = args.flag("no-pivot");
  request.no_new_keyring = args.flag("no-new-keyring");
  request.mode = mode;
  request.seccomp_cache_dir = seccomp_cache_dir(dir);
  request.hook_state = [id, path = bundle.path, annotations = bundle.spec.annotations](pid_t pid,
                                                                                      const char* status) {
    return hook_state_json(id, path, annotations, pid, status);
  };
  return request;
}

ContainerState make_state(const std::string& id, const Bundle& bundle, const Created& created,
                          std::string created_at, CreateMode mode) {
  ContainerState state;
  state.id = id;
  state.pid = created.init.pid();
  state.bundle = bundle.path;
  state.rootfs = bundle.spec.root.path;
  state.created = std::move(created_at);
  state.owner = current_user_name();
  state.annotations = bundle.spec.annotations;
  state.start_time = created.start_time;
  state.status = mode == CreateMode::create ? ContainerStatus::created : ContainerStatus::running;
  return state;
}

}  // namespace

// systemd socket activation (sd_listen_fds): the fds 3..3+N-1 we were given
// are the container's, and there LISTEN_PID must name its pid 1. Like runc,
// only when LISTEN_PID names us: an inherited LISTEN_FDS meant for a parent
// does not describe our fds.
int apply_socket_activation(spec::Process& process) {
  const char* fds = std::getenv("LISTEN_FDS");
  const char* pid = std::getenv("LISTEN_PID");
  if (!fds || !pid) return 0;
  auto count = parse_u64(fds);
  auto listen_pid = parse_i64(pid);
  if (!count || *count == 0 || *count > 65536 || !listen_pid || *listen_pid != ::getpid()) return 0;
  std::erase_if(process.env, [](const std::string& e) {
    return starts_with(e, "LISTEN_FDS=") || starts_with(e, "LISTEN_PID=");
  });
  process.env.push_back("LISTEN_FDS=" + std::to_string(*count));
  process.env.push_back("LISTEN_PID=1");
  return static_cast<int>(*count);
}

Result<Launched> launch_container(const GlobalOptions& global, const ParsedArgs& args, CreateMode mode,
                                  bool detached, std::string_view command) {
  TRY(expect_positionals(args, command, 1, 1));
  const std::string& id = args.positionals[0];
  TRY(validate_container_id(id));
  TRY_ASSIGN(bundle, load_bundle(args));
  TRY(check_process(bundle.spec, args.value_or("console-socket", ""), detached));
  TRY_ASSIGN(preserve_fds, preserve_fds_flag(args));
  preserve_fds += apply_socket_activation(*bundle.spec.process);

  TRY_ASSIGN(dir, create_container_dir(global.root, id));
  StateDirGuard cleanup(dir);
  // exec and delete read this copy: the bundle may change or vanish later.
  // Nobody reads it before state.json exists, so no fsync is needed.
  TRY_CTX(write_file_atomic(dir + "/config.json", bundle.config_text, 0600, Durability::ephemeral), "save config.json");

  std::string created_at = now_rfc3339_nano();
  auto request = make_request(args, bundle, id, dir, preserve_fds, mode);
  request.systemd_cgroup = global.systemd_cgroup;
  log_debug("creating container \"" + id + "\" from bundle " + bundle.path);
  TRY_ASSIGN(created, create_container(bundle.spec, request));

  auto state = make_state(id, bundle, created, std::move(created_at), mode);
  TRY_CTX(write_state(dir, state), "save state");
  remove_create_marker(dir);
  if (auto pid_file = args.value("pid-file")) TRY(write_pid_file(*pid_file, state.pid));
  log_debug("container \"" + id + "\" init pid " + std::to_string(state.pid));
  return Launched{std::move(state), std::move(dir), std::move(bundle.spec), std::nullopt, std::move(cleanup),
                  std::move(created)};
}

}  // namespace ctr::cli
