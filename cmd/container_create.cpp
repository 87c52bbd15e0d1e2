#include "cmd/container_create.h"

#include <unistd.h>

#include <ctime>

#include "cmd/container_launch.h"
#include "cmd/container_restart.h"
#include "cmd/create_options.h"
#include "cmd/volume_store.h"
#include "image/container_layers.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/capabilities.h"

namespace ctr::cmd {
namespace {

Status apply_log_opts(const CreateFlags& flags, ContainerRecord& record) {
  for (const auto& opt : flags.log_opts) {
    auto eq = opt.find('=');
    std::string key = opt.substr(0, eq), value = eq == std::string::npos ? "" : opt.substr(eq + 1);
    if (eq == std::string::npos || value.empty())
      return make_error("invalid --log-opt `" + opt + "`: use KEY=VALUE (path, max-size, max-file)", EINVAL);
    if (key == "path") {
      if (value[0] != '/') return make_error("--log-opt path=`" + value + "` must be an absolute path", EINVAL);
      record.log_path = value;
    } else if (key == "max-size") {
      TRY_ASSIGN(size, parse_size(value));
      record.log_max_size = size;
    } else if (key == "max-file") {
      auto files = parse_u64(value);
      if (!files || *files == 0 || *files > 1000)
        return make_error("invalid --log-opt max-file=`" + value + "`: use a number from 1 to 1000", EINVAL);
      record.log_max_files = static_cast<unsigned>(*files);
    } else {
      return make_error("unknown --log-opt `" + key + "`: known options are path, max-size and max-file", EINVAL);
    }
  }
  return {};
}

Result<std::map<std::string, std::string>> user_labels(const CreateFlags& flags);

// Under the store lock: storage, config.json, ctr.json (last: a container
// without it is not shown, so a crash in between leaves nothing visible).
Status make_container(image::Store& store, const image::ImageRecord& image, const CreateFlags& flags,
                      image::Driver driver, bool single_id, ContainerRecord& record) {
  TRY(image::create_container_layer(store, record.id, image, driver, flags.image));
  auto undo = [&](Error error) -> Status {
    (void)image::remove_container_layer(store, record.id);
    return error;
  };
  ProcessFlags process;
  process.env = flags.env;
  if (flags.workdir_set) process.workdir = flags.workdir;
  if (flags.user_set) process.user = flags.user;
  if (flags.entrypoint_set) process.entrypoint = flags.entrypoint;
  if (flags.hostname_set) process.hostname = flags.hostname;
  process.command = flags.command;
  process.tty = flags.tty;
  if (flags.init) {
    process.init_binary = helper_binary("ctr-init", "CTR_INIT_BIN");
    if (::access(process.init_binary.c_str(), X_OK) != 0)
      return undo(make_error("--init: cannot find ctr-init (looked for `" + process.init_binary +
                                 "`): install it next to ctr or set CTR_INIT_BIN",
                             ENOENT));
  }
  process.env_files = flags.env_files;
  process.env_host = flags.env_host;
  process.annotations = flags.annotations;
  process.security = flags.security;
  process.mounts = spec_mounts(record.mounts);  // -v/--mount/--tmpfs, resolved by create_container
  auto paths = image::container_paths(store, record.id);
  auto spec = build_spec(store, image, process, record.id, paths.merged, single_id);
  if (!spec) return undo(std::move(spec).error());
  record.command = spec->args;
  record.stop_signal = flags.stop_signal_set ? flags.stop_signal : spec->stop_signal;
  for (const auto& [key, value] : spec->image_labels) record.labels.emplace(key, value);
  if (auto labels = user_labels(flags); labels) {
    for (const auto& [key, value] : *labels) record.labels[key] = value;
  } else {
    return undo(std::move(labels).error());
  }
  if (auto written = write_file_atomic(paths.dir + "/config.json", spec->json, 0600); !written)
    return undo(std::move(written).error());
  if (auto written = write_record(store, record); !written) return undo(std::move(written).error());
  return {};
}

constexpr const char* kKeepIdUnsupported =
    "keep-id is not supported yet: ctr runs every container in the store's user namespace (0 = you), and mapping "
    "your UID to itself needs a nested user namespace plus an ID-shifted view of the image layers";

void add_security_flags(Cli& cli, CLI::App& sub, CreateFlags& flags) {
  SecurityFlags& s = flags.security;
  std::vector<std::string> caps = all_capability_names();
  caps.insert(caps.begin(), "ALL");
  cli.value(sub, "--cap-add", s.cap_add, "Add a capability (e.g. NET_ADMIN, or ALL)", Completer::fixed, caps);
  cli.value(sub, "--cap-drop", s.cap_drop, "Drop a capability (e.g. CHOWN, or ALL)", Completer::fixed, caps);
  sub.add_flag("--privileged", s.privileged,
               "Give the container every capability the user namespace allows, no seccomp, no masked paths and "
               "the host's devices");
  cli.value(sub, "--security-opt", s.security_opts,
            "Security option: seccomp=FILE|unconfined, no-new-privileges, mask=PATHS, unmask=ALL|PATHS, "
            "label=disable",
            Completer::fixed,
            {"seccomp=unconfined", "seccomp=", "no-new-privileges", "mask=", "unmask=ALL", "unmask=", "label=disable",
             "apparmor=unconfined"});
  sub.add_flag("--read-only", s.read_only, "Mount the container's root file system read-only");
  sub.add_flag("--read-only-tmpfs{true}", s.read_only_tmpfs,
               "With --read-only, mount tmpfs on /run, /tmp and /var/tmp (default true)");
  cli.value(sub, "--ulimit", s.ulimits, "Resource limit NAME=SOFT[:HARD], e.g. nofile=1024:2048", Completer::none);
  cli.value(sub, "--shm-size", s.shm_size, "Size of /dev/shm (e.g. 64m)", Completer::none);
  cli.value(sub, "--device", s.devices, "Give the container a host device: /dev/HOST[:/dev/CONTAINER][:rwm]",
            Completer::files);
  cli.value(sub, "--group-add", s.group_add, "Add a supplementary group (name from the image, or GID)",
            Completer::none);
  cli.value(sub, "--userns", flags.userns, "User namespace: host (the store's namespace, the default)",
            Completer::fixed, {"host"});
}

// --label-file lines, then --label (later ones win), as podman.
Result<std::map<std::string, std::string>> user_labels(const CreateFlags& flags) {
  std::map<std::string, std::string> labels;
  for (const auto& file : flags.label_files) {
    auto text = read_file(file);
    if (!text) return text.error().context("--label-file " + file);
    for (const auto& line : split(*text, '\n')) {
      size_t start = line.find_first_not_of(" \t\r");
      if (start == std::string::npos || line[start] == '#') continue;
      std::string entry = line.substr(start);
      if (!entry.empty() && entry.back() == '\r') entry.pop_back();
      TRY_ASSIGN(kv, parse_key_value(entry, "label in " + file));
      labels[kv.first] = kv.second;
    }
  }
  for (const auto& text : flags.labels) {
    TRY_ASSIGN(kv, parse_key_value(text, "--label"));
    labels[kv.first] = kv.second;
  }
  return labels;
}

// Checks the flags that need nothing from the store, before any work.
Status check_create_flags(const CreateFlags& flags) {
  if (flags.stop_signal_set) TRY(parse_signal(flags.stop_signal));
  if (!flags.userns.empty() && flags.userns != "host")
    return make_error("--userns " + flags.userns + ": " +
                          (flags.userns == "keep-id" ? std::string(kKeepIdUnsupported)
                                                     : "unsupported value: ctr supports --userns=host (the store's "
                                                       "user namespace, the default)"),
                      ENOTSUP);
  TRY(parse_security_opts(flags.security.security_opts));
  TRY(resolve_capabilities(flags.security.cap_add, flags.security.cap_drop, flags.security.privileged));
  for (const auto& text : flags.security.ulimits) {
    TRY_ASSIGN(limit, parse_ulimit(text));
    TRY(check_ulimit(limit, text));
  }
  for (const auto& text : flags.security.devices) TRY(parse_device(text));
  return {};
}

}  // namespace

Result<uint64_t> parse_size(const std::string& text) {
  std::string digits = text;
  uint64_t unit = 1;
  if (!digits.empty()) {
    char last = static_cast<char>(std::tolower(static_cast<unsigned char>(digits.back())));
    if (last == 'b') digits.pop_back();
    last = digits.empty() ? 0 : static_cast<char>(std::tolower(static_cast<unsigned char>(digits.back())));
    if (last == 'k') unit = 1024;
    if (last == 'm') unit = 1024 * 1024;
    if (last == 'g') unit = 1024ULL * 1024 * 1024;
    if (unit != 1) digits.pop_back();
  }
  auto value = parse_u64(digits);
  if (!value || *value == 0) return make_error("invalid size `" + text + "`: use a number with k, m or g", EINVAL);
  return *value * unit;
}

void add_create_flags(Cli& cli, CLI::App& sub, CreateFlags& flags) {
  // Everything after IMAGE is the container's command (`ctr run img sh -c ...`).
  sub.prefix_command();
  sub.fallthrough(false);
  cli.value(sub, "--name", flags.name, "Assign a name to the container", Completer::none);
  cli.value(sub, "-e,--env", flags.env, "Set environment variables (KEY=VALUE, or KEY to pass ctr's value)",
            Completer::none);
  cli.value(sub, "-w,--workdir", flags.workdir, "Working directory inside the container", Completer::none);
  cli.value(sub, "-u,--user", flags.user, "User (name or UID, optionally :group) to run as", Completer::none);
  cli.value(sub, "--entrypoint", flags.entrypoint, "Overwrite the image's ENTRYPOINT (\"\" clears it)",
            Completer::commands);
  cli.value(sub, "--hostname", flags.hostname, "Container host name (default: the short ID)", Completer::none);
  cli.value(sub, "-v,--volume", flags.mount_flags.volumes,
            "Bind mount a host path or a named volume: [SRC:]DST[:OPTS] (OPTS: ro, rw, z, Z, U, propagation)",
            Completer::volumes)
      ->allow_extra_args(false);
  cli.value(sub, "--mount", flags.mount_flags.mounts,
            "Attach a mount: type=bind|volume|tmpfs,source=SRC,target=DST[,ro][,tmpfs-size=N][,tmpfs-mode=M]",
            Completer::fixed, {"type=bind,source=,target=", "type=volume,source=,target=", "type=tmpfs,target="})
      ->allow_extra_args(false);
  cli.value(sub, "--tmpfs", flags.mount_flags.tmpfs, "Mount a tmpfs: DST[:size=N,mode=M,...]", Completer::none)
      ->allow_extra_args(false);
  cli.value(sub, "--log-driver", flags.log_driver, "Logging driver: k8s-file, json-file or none",
            Completer::log_drivers)
      ->check(CLI::IsMember({"k8s-file", "json-file", "none"}));
  cli.value(sub, "--log-opt", flags.log_opts, "Logging option: path=FILE, max-size=SIZE, max-file=N", Completer::none);
  cli.value(sub, "--timeout", flags.timeout, "Kill the container after this many seconds (0: never)", Completer::none);
  cli.value(sub, "--restart", flags.restart, "Restart policy: no, on-failure[:N], always or unless-stopped",
            Completer::fixed, {"no", "on-failure", "always", "unless-stopped"});
  cli.value(sub, "--env-file", flags.env_files, "Read environment variables from a file (KEY=VALUE lines)",
            Completer::files);
  sub.add_flag("--env-host", flags.env_host, "Use ctr's environment in the container");
  cli.value(sub, "-l,--label", flags.labels, "Set a label on the container (KEY=VALUE)", Completer::none);
  cli.value(sub, "--label-file", flags.label_files, "Read labels from a file (KEY=VALUE lines)", Completer::files);
  cli.value(sub, "--annotation", flags.annotations, "Add an annotation to the OCI config (KEY=VALUE)",
            Completer::none);
  cli.value(sub, "--stop-signal", flags.stop_signal, "Signal that stops the container (default: the image's, else "
            "SIGTERM)", Completer::signals);
  cli.value(sub, "--stop-timeout", flags.stop_timeout, "Seconds to wait for a stop before killing the container",
            Completer::none);
  add_security_flags(cli, sub, flags);
  sub.add_flag("--replace", flags.replace, "If a container with the same --name exists, remove it first (as rm -f)");
  cli.value(sub, "--cidfile", flags.cidfile, "Write the container ID to this file (which must not exist)",
            Completer::files);
  cli.value(sub, "--pull", flags.pull,
            "Pull policy: missing (default) or never; always and newer are not supported yet", Completer::fixed,
            {"missing", "never", "always", "newer"});
  sub.add_flag("--rm", flags.rm, "Remove the container when it exits");
  sub.add_flag("-t,--tty", flags.tty, "Allocate a pseudo-TTY");
  sub.add_flag("--init", flags.init, "Run a minimal init (ctr-init) as PID 1 that forwards signals and reaps zombies");
  sub.add_flag("-i,--interactive", flags.interactive, "Keep STDIN open");
  cli.value(sub, "image", flags.image, "Image to create the container from, then the command and its arguments",
            Completer::images)
      ->required();
  // Each repeatable option (-e, --cap-add, -v...) takes one value per use,
  // as in podman: otherwise CLI11 lets a list option swallow IMAGE and the
  // command (`-e A=1 busybox sh`).
  for (CLI::Option* option : sub.get_options())
    if (!option->get_positional() && option->get_items_expected_max() > 1) option->allow_extra_args(false);
}

void finish_create_flags(CLI::App& sub, CreateFlags& flags) {
  flags.command = sub.remaining();
  flags.workdir_set = sub.count("--workdir") > 0;
  flags.user_set = sub.count("--user") > 0;
  flags.entrypoint_set = sub.count("--entrypoint") > 0;
  flags.hostname_set = sub.count("--hostname") > 0;
  flags.stop_signal_set = sub.count("--stop-signal") > 0;
  flags.stop_timeout_set = sub.count("--stop-timeout") > 0;
}

Result<ContainerRecord> create_container(Context& ctx, const CreateFlags& flags) {
  if (!flags.name.empty()) TRY(validate_name(flags.name));
  ContainerRecord record;
  record.image_name = flags.image;
  record.rm = flags.rm;
  record.tty = flags.tty;
  record.init = flags.init;
  record.stdin = flags.interactive;
  record.log_driver = flags.log_driver;
  record.timeout = flags.timeout;
  TRY_ASSIGN(restart, parse_restart_policy(flags.restart));
  if (flags.rm && restart.name != "no")
    return make_error("the --rm option conflicts with --restart, when the restartPolicy is not \"\" and \"no\"", EINVAL);
  record.restart_policy = restart.name;
  record.restart_max = restart.max_retries;
  record.stop_timeout = flags.stop_timeout;
  TRY(check_create_flags(flags));
  TRY(check_pull_policy(flags.pull));
  TRY(check_replace_and_cidfile(flags.replace, flags.name, flags.cidfile));
  TRY(apply_log_opts(flags, record));
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(maps, ctx.maps());
  TRY_ASSIGN(driver, ctx.driver());
  TRY_ASSIGN(image, image_for_create(*store, flags.image, flags.pull));
  if (flags.replace) TRY(remove_for_replace(ctx, flags.name));
  record.image_id = image.id;
  char cwd[4096];
  TRY_ASSIGN(mount_requests, parse_mount_flags(flags.mount_flags, ::getcwd(cwd, sizeof cwd) ? cwd : "/"));
  TRY_ASSIGN(lock, store->lock());
  TRY_ASSIGN(existing, list_records(*store));
  for (const auto& other : existing)
    if (!flags.name.empty() && other.name == flags.name)
      return make_error("the container name \"" + flags.name + "\" is already in use by " + other.id +
                            ". You have to remove that container to be able to reuse that name: that name is already "
                            "in use",
                        EEXIST);
  record.name = flags.name.empty() ? generate_name(existing) : flags.name;
  record.id = new_container_id();
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  record.created = now.tv_sec;
  record.created_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  if (record.log_path.empty()) record.log_path = container_dir(*store, record.id) + "/ctr.log";
  TRY_ASSIGN(mounts, resolve_mounts(*store, image, mount_requests));
  record.mounts = std::move(mounts);
  Status made = make_container(*store, image, flags, driver.driver, maps->single_id, record);
  if (made) {  // the U option needs the process user, which config.json now has
    auto spec_text = read_file(container_dir(*store, record.id) + "/config.json");
    made = spec_text ? chown_mount_sources(*maps, record.mounts, *spec_text) : Status(std::move(spec_text).error());
  }
  if (made && !flags.cidfile.empty()) made = write_cidfile(flags.cidfile, record.id);
  if (!made) {
    if (path_exists(container_dir(*store, record.id))) (void)image::remove_container_layer(*store, record.id);
    for (const auto& mount : record.mounts)
      if (mount.anonymous) (void)remove_volume(*store, mount.name);
    return std::move(made).error();
  }
  return record;
}

}  // namespace ctr::cmd
