#include "cmd/container_create.h"
#include "cmd/container_network.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "cmd/container_launch.h"
#include "cmd/container_restart.h"
#include "cmd/create_options.h"
#include "cmd/network_files.h"
#include "cmd/network_mode.h"
#include "cmd/publish.h"
#include "cmd/sdnotify.h"
#include "cmd/systemd_unit.h"
#include "cmd/volume_store.h"
#include "image/container_layers.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"
#include "runtime/capabilities.h"
#include "shim/records.h"
#include "userns/keep_id.h"

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

std::string own_user_name() {
  const passwd* entry = ::getpwuid(::getuid());
  return entry && entry->pw_name ? entry->pw_name : "user" + std::to_string(::getuid());
}

// podman's keep-id: your user and group in the container's /etc/passwd and
// /etc/group when the image lacks them. Written into the upper dir (owned by
// you = the store's root, so the shifted view shows root's files).
Status add_keep_id_user(image::Store& store, const image::ImageRecord& image, const std::string& id,
                        const ProcessFlags::KeepId& keep) {
  std::string upper = image::container_paths(store, id).upper;
  std::string name = own_user_name();
  std::string passwd = passwd_with_user(read_image_file(store, image, "/etc/passwd"), name, keep.uid, keep.gid, "/");
  std::string group = group_with_group(read_image_file(store, image, "/etc/group"), name, keep.gid);
  if (passwd.empty() && group.empty()) return {};
  if (::mkdir((upper + "/etc").c_str(), 0755) != 0 && errno != EEXIST)
    return sys_error("--userns keep-id: create `" + upper + "/etc`");
  if (!passwd.empty()) TRY_CTX(write_file_atomic(upper + "/etc/passwd", passwd, 0644), "--userns keep-id");
  if (!group.empty()) TRY_CTX(write_file_atomic(upper + "/etc/group", group, 0644), "--userns keep-id");
  return {};
}

// The U volume option chowns to the process user as the store's namespace
// numbers it; with keep-id the container's own namespace numbers it, so
// translate through the keep-id maps first.
Result<std::string> user_in_store_ids(const std::string& spec_text, const ProcessFlags::KeepId& keep) {
  try {
    auto spec = nlohmann::json::parse(spec_text);
    auto& user = spec.at("process").at("user");
    auto uid = userns::map_to_outside(keep.uid_map, user.value("uid", 0u));
    auto gid = userns::map_to_outside(keep.gid_map, user.value("gid", 0u));
    if (!uid || !gid)
      return make_error("the U volume option: the container's user is not mapped (--userns keep-id)", EINVAL);
    user["uid"] = *uid, user["gid"] = *gid;
    return spec.dump();
  } catch (const std::exception& error) {
    return make_error(std::string("the U volume option: cannot read the container's user: ") + error.what(), EINVAL);
  }
}

// keep-id needs subordinate IDs (the container still has a root and the
// image's other owners) and fuse-overlayfs (the only driver that can show
// the layers shifted: the kernel refuses to idmap an overlay mount, EINVAL
// from mount_setattr on Linux 6.18, and a vfs copy is not shifted).
Result<ProcessFlags::KeepId> prepare_keep_id(Context& ctx, const userns::KeepId& keep, image::DriverChoice& driver) {
  TRY_ASSIGN(maps, ctx.maps());
  if (maps->uid.empty()) return make_error("--userns keep-id is only for rootless use (ctr runs as root here)", EINVAL);
  if (maps->single_id)
    return make_error("--userns keep-id needs subordinate IDs for the container's root and the image's other users, "
                      "and you have none: add ranges to /etc/subuid and /etc/subgid (usermod --add-subuids "
                      "100000-165535 --add-subgids 100000-165535 " + own_user_name() + ")",
                      EINVAL);
  ProcessFlags::KeepId out;
  out.uid = keep.uid, out.gid = keep.gid;
  TRY_ASSIGN(uid_map, userns::keep_id_store_map(keep.uid, userns::map_size(maps->uid), "uid"));
  TRY_ASSIGN(gid_map, userns::keep_id_store_map(keep.gid, userns::map_size(maps->gid), "gid"));
  out.uid_map = std::move(uid_map), out.gid_map = std::move(gid_map);
  if (driver.driver == image::Driver::fuse_overlayfs) return out;
  std::string why = "--userns keep-id needs the fuse-overlayfs storage driver (it shows the image's files with "
                    "their owners shifted; the kernel cannot idmap overlay mounts and vfs copies are not shifted)";
  if (driver.overridden)
    return make_error(why + ", but this container would use " + image::driver_name(driver.driver) + " (" +
                          driver.reason + "): use --storage-driver fuse-overlayfs",
                      EINVAL);
  image::DriverProbe probe;
  image::probe_fuse_overlayfs(probe);
  if (!probe.fuse_overlayfs) return make_error(why + ", which cannot be used here: " + probe.fuse_error, ENODEV);
  driver.driver = image::Driver::fuse_overlayfs;
  return out;
}

// Under the store lock: storage, config.json, ctr.json (last: a container
// without it is not shown, so a crash in between leaves nothing visible).
Status make_container(image::Store& store, const image::ImageRecord& image, const CreateFlags& flags,
                      image::Driver driver, bool single_id, ContainerRecord& record,
                      const std::optional<ProcessFlags::KeepId>& keep_id) {
  std::optional<image::LayerIdShift> shift;
  if (keep_id)
    shift = image::LayerIdShift{userns::fuse_overlayfs_mapping(keep_id->uid_map),
                                userns::fuse_overlayfs_mapping(keep_id->gid_map)};
  TRY(image::create_container_layer(store, record.id, image, driver, flags.image, shift ? &*shift : nullptr));
  auto undo = [&](Error error) -> Status {
    (void)image::remove_container_layer(store, record.id);
    return error;
  };
  // As podman 4.3: only for your own uid (keep-id:uid=N gets no entry).
  if (keep_id && !flags.user_set && keep_id->uid == ::getuid())
    if (auto added = add_keep_id_user(store, image, record.id, *keep_id); !added) return undo(std::move(added).error());
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
  process.keep_id = keep_id;
  process.cgroups_path = record.cgroups_path;
  process.resources_json = record.resources_json;
  NetworkMode network = record_network_mode(record.network_mode, record.network_options);
  process.host_network = network.kind == NetworkMode::Kind::host;
  if (network.kind == NetworkMode::Kind::ns) process.network_ns_path = network.target;
  // A notify relay must stay in the unit's cgroup with ctr (sdnotify.h).
  process.cgroup_supervisor =
      !record.cgroups_path.empty() && !notify_relayed(record.sdnotify_mode, record.sdnotify_socket);
  if (auto parsed = parse_resource_flags(flags.resources, block_device_numbers); parsed)  // checked by the caller
    process.oom_score_adj = parsed->oom_score_adj;
  if (notify_relayed(record.sdnotify_mode, record.sdnotify_socket)) {
    auto notify = container_notify(record.sdnotify_socket, shim_state_dir(record.id) + "/" + shim::kNotifySocket);
    if (!notify) return undo(std::move(notify).error());
    process.mounts.push_back(notify->mount);
    process.env.push_back(notify->env);
  }
  // /etc/hosts, /etc/resolv.conf, /etc/hostname (network_files.h).
  if (auto files = add_network_files(store, flags.network, flags.security.read_only, record, process); !files)
    return undo(std::move(files).error());
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
  // The marker first: one without its record is ignored (container_network.h).
  if (auto joined = record_network_joiner(store, record); !joined) return undo(std::move(joined).error());
  if (auto written = write_record(store, record); !written) return undo(std::move(written).error());
  return {};
}


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
  cli.value(sub, "--userns", flags.userns,
            "User namespace: host (the store's namespace, the default), or keep-id[:uid=N,gid=N] (your IDs map to "
            "themselves, or to N)",
            Completer::fixed, {"host", "keep-id", "keep-id:uid=,gid="});
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

// -p, -P and --expose into the record: host ports picked now, so ps and
// port show them before the container starts (as podman does).
Status plan_record_ports(const image::Store& store, const image::ImageRecord& image, const NetworkFlags& flags,
                         ContainerRecord& record) {
  std::vector<std::string> image_exposed;
  if (auto config = store.read_blob(image.config_digest); config) image_exposed = image_exposed_ports(*config);
  TRY_ASSIGN(plan, plan_ports(flags, record.network_mode, image_exposed, record.network_options));
  record.ports.clear();
  for (const auto& mapping : plan.ports) record.ports.push_back(shim::format_port_mapping(mapping));
  record.exposed_ports = plan.exposed;
  record.publish_all = flags.publish_all;
  return {};
}

// --network container:NAME|ID: the target must exist (it must run only at
// start) and shares its user namespace, so --userns must be the default.
Status resolve_network_target(const image::Store& store, const CreateFlags& flags, NetworkMode& network) {
  if (network.kind != NetworkMode::Kind::container) return {};
  if (!flags.userns.empty() && flags.userns != "host")
    return make_error("--network container:" + network.target + " cannot be combined with --userns " + flags.userns +
                          ": the container joins the user namespace of " + network.target +
                          ", so it cannot have its own",
                      EINVAL);
  auto target = find_record(store, network.target);
  if (!target) return std::move(target).error().context("--network container:" + network.target);
  network.target = target->id;
  return {};
}

// Checks the flags that need nothing from the store, before any work.
Status check_create_flags(const CreateFlags& flags) {
  if (flags.stop_signal_set) TRY(parse_signal(flags.stop_signal));
  TRY_ASSIGN(keep, userns::parse_keep_id(flags.userns, ::getuid(), ::getgid()));
  if (!keep && !flags.userns.empty() && flags.userns != "host")
    return make_error("--userns " + flags.userns +
                          ": unsupported value: ctr supports host (the store's user namespace, the default) and "
                          "keep-id[:uid=N,gid=N]",
                      ENOTSUP);
  TRY(check_dns_flags(flags.network));  // --dns, --add-host ... (network_files.h)
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
  // Everything from IMAGE on is the image and the container's command, never
  // ctr's options (`ctr run img ls -l --name x`): positionals_at_end makes the
  // parser stop looking for options once IMAGE is seen. prefix_command keeps
  // unknown words before IMAGE in remaining() (finish_create_flags refuses
  // them with podman's message) and tells completion the command follows.
  sub.prefix_command();
  sub.positionals_at_end();
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
  cli.value(sub, "--sdnotify", flags.sdnotify,
            "How a systemd Type=notify unit learns the container is ready: container (it sends READY=1 itself; "
            "the default), conmon (ctr sends it once the container runs) or ignore",
            Completer::fixed, {"container", "conmon", "ignore"});
  add_resource_flags(cli, sub, flags.resources);
  add_network_mode_flags(cli, sub, flags.network);
  add_publish_flags(cli, sub, flags.network);
  add_dns_flags(cli, sub, flags.network);
  sub.add_flag("--rm", flags.rm, "Remove the container when it exits");
  sub.add_flag("-t,--tty", flags.tty, "Allocate a pseudo-TTY");
  sub.add_flag("--init", flags.init, "Run a minimal init (ctr-init) as PID 1 that forwards signals and reaps zombies");
  sub.add_flag("-i,--interactive", flags.interactive, "Keep STDIN open");
  cli.value(sub, "image", flags.image_and_command,
            "Image to create the container from, then the command and its arguments", Completer::images)
      ->required();
  // Each repeatable option (-e, --cap-add, -v...) takes one value per use,
  // as in podman: otherwise CLI11 lets a list option swallow IMAGE and the
  // command (`-e A=1 busybox sh`).
  for (CLI::Option* option : sub.get_options())
    if (!option->get_positional() && option->get_items_expected_max() > 1) option->allow_extra_args(false);
}

std::string unknown_create_flag(const std::vector<std::string>& left, const std::string& command_path) {
  for (const auto& word : left) {
    if (word == "--") continue;  // `ctr run -- IMAGE`: the end of ctr's flags, as in podman
    std::string hint = "\nSee '" + command_path + " --help'";
    if (word.size() >= 2 && word[0] == '-' && word[1] != '-')
      return "unknown shorthand flag: '" + word.substr(1, 1) + "' in " + word + hint;
    if (word[0] == '-') return "unknown flag: " + word.substr(0, word.find('=')) + hint;
    return "unexpected argument `" + word + "` before the image" + hint;
  }
  return {};
}

Status finish_create_flags(CLI::App& sub, CreateFlags& flags) {
  std::string path;
  for (const CLI::App* at = &sub; at; at = at->get_parent()) path = at->get_name() + (path.empty() ? "" : " " + path);
  if (auto message = unknown_create_flag(sub.remaining(), path); !message.empty()) return make_error(message, EINVAL);
  if (!flags.image_and_command.empty()) {
    flags.image = flags.image_and_command.front();
    flags.command.assign(flags.image_and_command.begin() + 1, flags.image_and_command.end());
  }
  flags.workdir_set = sub.count("--workdir") > 0;
  flags.user_set = sub.count("--user") > 0;
  flags.entrypoint_set = sub.count("--entrypoint") > 0;
  flags.hostname_set = sub.count("--hostname") > 0;
  flags.stop_signal_set = sub.count("--stop-signal") > 0;
  flags.stop_timeout_set = sub.count("--stop-timeout") > 0;
  return {};
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
  TRY(check_sdnotify_mode(flags.sdnotify));
  record.sdnotify_mode = flags.sdnotify;
  // Taken out of the environment in every mode, before anything is started.
  const std::string& notify_socket = take_notify_socket();
  if (flags.sdnotify != "ignore") record.sdnotify_socket = notify_socket;
  record.create_command = own_command_line();
  // Checked before anything is made; the cgroup's path needs the ID (below).
  TRY_ASSIGN(resources, parse_resource_flags(flags.resources, block_device_numbers));
  TRY_ASSIGN(cgroup_manager, global_cgroup_manager(ctx, cgroup_facts()));
  TRY(plan_cgroup(cgroup_manager, cgroup_facts(), flags.resources, resources, "ID"));
  TRY(check_pull_policy(flags.pull));
  TRY(check_replace_and_cidfile(flags.replace, flags.name, flags.cidfile));
  TRY(apply_log_opts(flags, record));
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(maps, ctx.maps());
  TRY_ASSIGN(driver, ctx.driver());
  std::optional<ProcessFlags::KeepId> keep_id;
  if (auto keep = userns::parse_keep_id(flags.userns, ::getuid(), ::getgid()); keep && *keep) {
    TRY_ASSIGN(prepared, prepare_keep_id(ctx, **keep, driver));
    keep_id = std::move(prepared);
  }
  record.userns = flags.userns;
  TRY_ASSIGN(network, parse_network_mode(flags.network.network));
  TRY(resolve_network_target(*store, flags, network));
  record.network_mode = network_mode_name(network);
  record.network_options = network.options;
  TRY_ASSIGN(image, image_for_create(*store, flags.image, flags.pull));
  TRY(plan_record_ports(*store, image, flags.network, record));  // -p, -P, --expose (publish.h)
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
  TRY_ASSIGN(cgroup, plan_cgroup(cgroup_manager, cgroup_facts(), flags.resources, resources, record.id));
  record.cgroup_manager = cgroup::manager_name(cgroup.manager);
  record.cgroups_path = cgroup.cgroups_path;
  record.cgroup_parent = cgroup.parent;
  if (!cgroup.limits.empty()) record.resources_json = cgroup::resources_json(cgroup.limits);
  // Once per session, unless asked for (--cgroup-manager none, --cgroups=disabled).
  if (cgroup.manager == cgroup::Manager::none && ctx.cgroup_manager.empty() && flags.resources.cgroups == "enabled")
    warn_no_cgroup_once(cgroup.reason);
  TRY_ASSIGN(mounts, resolve_mounts(*store, image, mount_requests));
  record.mounts = std::move(mounts);
  Status made = make_container(*store, image, flags, driver.driver, maps->single_id, record, keep_id);
  if (made) {  // the U option needs the process user, which config.json now has
    auto spec_text = read_file(container_dir(*store, record.id) + "/config.json");
    if (spec_text && keep_id) spec_text = user_in_store_ids(*spec_text, *keep_id);
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
