#include "cmd/container_inspect.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "cmd/container_launch.h"
#include "cmd/container_spec.h"
#include "cmd/inspect_limits.h"
#include "cmd/publish.h"
#include "image/container_layers.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

// The config.json the container was created with; an empty object when it
// is unreadable (inspect still shows what the record knows).
Json read_spec(const image::Store& store, const std::string& id) {
  auto text = read_file(container_dir(store, id) + "/config.json");
  if (!text) return Json::object();
  try {
    return Json::parse(*text);
  } catch (const std::exception&) {
    return Json::object();
  }
}

const Json& at(const Json& object, const char* key) {
  static const Json null_value = nullptr;
  return object.is_object() && object.contains(key) ? object[key] : null_value;
}

Json string_or(const Json& value, const std::string& fallback) {
  return value.is_string() ? value : Json(fallback);
}

// Finished time: exit.json's own timestamp (nanoseconds), else the file's mtime.
int64_t finished_ns(const LiveStatus& live, const std::string& state_dir) {
  if (live.state != "exited") return 0;
  int64_t ns = mtime_ns(state_dir + "/" + shim::kExitFile);
  if (!ns) ns = mtime_ns(state_dir + "/" + shim::kShimPidFile);
  return ns;
}

// podman's Config.StopSignal is the number.
Json stop_signal_number(const std::string& name) {
  auto number = parse_signal(name);
  return number ? Json(*number) : Json(name);
}

// The image's entrypoint when the process args start with it, so Cmd and
// Entrypoint come apart as podman shows them.
std::pair<Json, Json> entrypoint_and_cmd(const image::Store& store, const ContainerRecord& record,
                                         const std::vector<std::string>& args) {
  std::vector<std::string> entrypoint;
  if (auto image = store.find_image(record.image_id); image)
    if (auto config = read_image_run_config(store, *image); config) entrypoint = config->entrypoint;
  if (!entrypoint.empty() && args.size() >= entrypoint.size() &&
      std::equal(entrypoint.begin(), entrypoint.end(), args.begin())) {
    std::vector<std::string> cmd(args.begin() + static_cast<std::ptrdiff_t>(entrypoint.size()), args.end());
    return {Json(join(entrypoint, " ")), Json(cmd)};
  }
  return {Json(""), Json(args)};
}

// The mounts the user asked for (-v, --mount, --tmpfs, image VOLUMEs), not
// the runtime's /proc, /dev, /sys.
Json user_mounts(const ContainerRecord& record) {
  Json mounts = Json::array();
  for (const auto& mount : record.mounts) {
    Json entry = {{"Type", mount.type}};
    if (mount.type == "volume") entry["Name"] = mount.name;
    entry["Source"] = mount.source;
    entry["Destination"] = mount.destination;
    entry["Driver"] = mount.type == "volume" ? "local" : "";
    entry["Mode"] = "";
    entry["Options"] = mount.options;
    entry["RW"] = mount.rw;
    std::string propagation;
    for (const auto& option : mount.options)
      if (option.find("private") != std::string::npos || option.find("shared") != std::string::npos ||
          option.find("slave") != std::string::npos)
        propagation = option;
    entry["Propagation"] = propagation;
    mounts.push_back(std::move(entry));
  }
  return mounts;
}

// Where a file the runtime bind-mounts into the container comes from ("" if not).
std::string bind_source(const Json& spec, const std::string& destination) {
  for (const auto& mount : at(spec, "mounts").is_array() ? at(spec, "mounts") : Json::array())
    if (at(mount, "destination") == destination) return string_or(at(mount, "source"), "").get<std::string>();
  return "";
}

Json state_json(const Json& spec, const ContainerRecord& record, const LiveStatus& live, const std::string& dir) {
  bool running = live.state == "running";
  const auto& exit = live.shim ? live.shim->exit : std::nullopt;
  int64_t started = live.shim ? mtime_ns(dir + "/" + shim::kContainerPidFile) : 0;
  Json state = {{"OciVersion", string_or(at(spec, "ociVersion"), "")},
                {"Status", live.shown_state()},
                {"Running", running && !live.paused},
                {"Paused", live.paused},
                {"Restarting", false},
                {"OOMKilled", exit ? exit->oom_killed : false},
                {"Dead", false},
                {"Pid", running && live.shim ? live.shim->pid : 0}};
  if (running && live.shim) state["ConmonPid"] = live.shim->shim_pid;
  state["ExitCode"] = exit ? exit->exit_code : 0;
  state["Error"] = "";
  state["StartedAt"] = go_rfc3339_nano(started);
  state["FinishedAt"] = go_rfc3339_nano(finished_ns(live, dir));
  (void)record;
  return state;
}

Json config_json(const image::Store& store, const ContainerRecord& record, const Json& spec) {
  const Json& process = at(spec, "process");
  std::vector<std::string> args =
      at(process, "args").is_array() ? at(process, "args").get<std::vector<std::string>>() : record.command;
  auto [entrypoint, cmd] = entrypoint_and_cmd(store, record, args);
  const Json& user = at(process, "user");
  std::string user_text;
  if (user.is_object()) {
    int64_t uid = at(user, "uid").is_number() ? at(user, "uid").get<int64_t>() : 0;
    int64_t gid = at(user, "gid").is_number() ? at(user, "gid").get<int64_t>() : 0;
    if (uid != 0 || gid != 0) user_text = std::to_string(uid) + ":" + std::to_string(gid);
  }
  Json labels = Json::object();
  for (const auto& [key, value] : record.labels) labels[key] = value;
  return {{"Hostname", string_or(at(spec, "hostname"), "")},
          {"Domainname", ""},
          {"User", user_text},
          {"AttachStdin", false},
          {"AttachStdout", false},
          {"AttachStderr", false},
          {"Tty", record.tty},
          {"OpenStdin", record.stdin},
          {"StdinOnce", false},
          {"Env", at(process, "env").is_array() ? at(process, "env") : Json::array()},
          {"Cmd", cmd},
          {"Image", record.image_name},
          {"Volumes", nullptr},
          {"WorkingDir", string_or(at(process, "cwd"), "/")},
          {"Entrypoint", entrypoint},
          {"OnBuild", nullptr},
          {"Labels", record.labels.empty() ? Json(nullptr) : labels},
          {"Annotations", at(spec, "annotations").is_object() ? at(spec, "annotations") : Json::object()},
          {"StopSignal", stop_signal_number(record.stop_signal)},
          {"Timeout", record.timeout},
          {"StopTimeout", record.stop_timeout},
          // podman's spelling (4.3: lower-case s); CreateCommand is what
          // `generate systemd --new` replays.
          {"CreateCommand", record.create_command},
          {"sdNotifyMode", record.sdnotify_mode}};
}

Json host_config_json(const ContainerRecord& record) {
  return {{"LogConfig",
           {{"Type", record.log_driver},
            {"Config", nullptr},
            {"Path", record.log_driver == "none" ? "" : record.log_path},
            {"Tag", ""},
            {"Size", record.log_max_size ? std::to_string(record.log_max_size) + "B" : "0B"}}},
          {"RestartPolicy",
           {{"Name", record.restart_policy == "no" ? "" : record.restart_policy},
            {"MaximumRetryCount", record.restart_max}}},
          {"AutoRemove", record.rm},
          {"UsernsMode", record.userns == "host" ? "" : record.userns},
          // As podman: the flags as given (network_files.h), [] when none.
          {"Dns", record.dns_servers},
          {"DnsOptions", record.dns_options},
          {"DnsSearch", record.dns_search},
          {"ExtraHosts", record.extra_hosts},
          // Records from before networking ran without a helper: none.
          {"NetworkMode", record.network_mode.empty() ? "none" : record.network_mode}};
}

// The limits (inspect_limits.h): the record's, which `ctr update` keeps
// current; the OOM score from the spec (update does not change it).
void add_limits(Json& host_config, const ContainerRecord& record, const Json& spec) {
  auto limits = cgroup::parse_resources(record.resources_json);
  const Json& adj = at(at(spec, "process"), "oomScoreAdj");
  add_limit_fields(host_config, limits ? *limits : cgroup::Resources{},
                   adj.is_number_integer() ? std::optional<int>(adj.get<int>()) : std::nullopt);
}

// "80/tcp" -> [{"HostIp": "127.0.0.1", "HostPort": "8080"}] for every
// published port (one key per port of a range), null for ports only
// exposed: podman's NetworkSettings.Ports and HostConfig.PortBindings.
Json port_bindings(const ContainerRecord& record) {
  std::map<std::string, Json> sorted;  // keys in Go's map order, as podman prints them
  for (const auto& exposed : record.exposed_ports) sorted[exposed] = nullptr;
  for (const auto& m : record_port_mappings(record.ports))
    for (unsigned i = 0; i < m.range; ++i) {
      Json& list = sorted[std::to_string(m.container_port + i) + "/" + m.protocol];
      if (!list.is_array()) list = Json::array();
      list.push_back({{"HostIp", m.host_ip == "0.0.0.0" ? "" : m.host_ip},
                      {"HostPort", std::to_string(m.host_port + i)}});
    }
  Json bindings = Json::object();
  for (auto& [key, value] : sorted) bindings[key] = std::move(value);
  return bindings;
}

// The port parts of inspect. Config.ExposedPorts is docker's (podman 4.3
// has none): every exposed or published container port.
void add_port_fields(Json& object, const ContainerRecord& record) {
  Json bindings = port_bindings(record);
  Json& settings = object["NetworkSettings"];
  if (!settings.is_object()) settings = Json::object();
  settings["Ports"] = bindings;
  object["HostConfig"]["PortBindings"] = bindings;
  object["HostConfig"]["PublishAllPorts"] = record.publish_all;
  if (!bindings.empty()) {
    Json exposed = Json::object();
    for (const auto& item : bindings.items()) exposed[item.key()] = Json::object();
    object["Config"]["ExposedPorts"] = exposed;
  }
}

}  // namespace

int64_t mtime_ns(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

Result<Json> container_inspect_json(const image::Store& store, const ContainerRecord& record) {
  Json spec = read_spec(store, record.id);
  LiveStatus live = live_status(record);
  std::string state_dir = shim_state_dir(record.id);
  const Json& args = at(at(spec, "process"), "args");
  std::vector<std::string> argv = args.is_array() ? args.get<std::vector<std::string>>() : record.command;
  auto paths = image::container_paths(store, record.id);
  auto layer = image::find_container_layer(store, record.id);
  std::string driver = layer ? image::driver_name(layer->driver) : "";
  std::string image_id = record.image_id.rfind("sha256:", 0) == 0 ? record.image_id.substr(7) : record.image_id;
  Json object = {{"Id", record.id},
                 {"Created", go_rfc3339_nano(record.created_ns)},
                 {"Path", argv.empty() ? "" : argv.front()},
                 {"Args", argv.empty() ? std::vector<std::string>{}
                                       : std::vector<std::string>(argv.begin() + 1, argv.end())},
                 {"State", state_json(spec, record, live, state_dir)},
                 {"Image", image_id}};
  if (auto image = store.find_image(record.image_id); image) object["ImageDigest"] = image->manifest_digest;
  object["ImageName"] = record.image_name;
  object["Rootfs"] = "";
  object["ResolvConfPath"] = bind_source(spec, "/etc/resolv.conf");
  object["HostnamePath"] = bind_source(spec, "/etc/hostname");
  object["HostsPath"] = bind_source(spec, "/etc/hosts");
  object["StaticDir"] = container_dir(store, record.id);
  object["OCIRuntime"] = "ctr-runtime";
  object["ConmonPidFile"] = state_dir + "/" + shim::kShimPidFile;
  object["PidFile"] = state_dir + "/" + shim::kContainerPidFile;
  object["Name"] = record.name;
  object["RestartCount"] = record.restart_count;
  object["Driver"] = driver;
  object["MountLabel"] = "";
  object["ProcessLabel"] = "";
  object["AppArmorProfile"] = "";
  const Json& caps = at(at(at(spec, "process"), "capabilities"), "effective");
  const Json& bounding = at(at(at(spec, "process"), "capabilities"), "bounding");
  object["EffectiveCaps"] = caps.is_array() ? caps : Json::array();
  object["BoundingCaps"] = bounding.is_array() ? bounding : Json::array();
  Json graph_data = Json::object();
  if (driver != "vfs") {
    graph_data["UpperDir"] = paths.upper;
    graph_data["WorkDir"] = paths.work;
  }
  if (live.state == "running") graph_data["MergedDir"] = paths.merged;
  object["GraphDriver"] = {{"Name", driver}, {"Data", graph_data.empty() ? Json(nullptr) : graph_data}};
  object["Mounts"] = user_mounts(record);
  object["Config"] = config_json(store, record, spec);
  object["HostConfig"] = host_config_json(record);
  add_limits(object["HostConfig"], record, spec);
  add_port_fields(object, record);
  return object;
}

}  // namespace ctr::cmd
