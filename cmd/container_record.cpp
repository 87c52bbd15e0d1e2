#include "cmd/container_record.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cmd/container_pause.h"
#include "image/container_layers.h"
#include "runtime/base/files.h"
#include "userns/idmap.h"

namespace ctr::cmd {
namespace {

using nlohmann::json;

uint64_t random_u64() {
  uint64_t value = 0;
  if (::getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value))
    value = static_cast<uint64_t>(::getpid()) * 0x9e3779b97f4a7c15ULL ^ static_cast<uint64_t>(::time(nullptr));
  return value;
}

int64_t mtime_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtim.tv_sec) : 0;
}

}  // namespace

std::string record_to_json(const ContainerRecord& r) {
  json j = {{"id", r.id},
            {"name", r.name},
            {"image_id", r.image_id},
            {"image_name", r.image_name},
            {"command", r.command},
            {"created", r.created},
            {"created_ns", r.created_ns},
            {"rm", r.rm},
            {"tty", r.tty},
            {"init", r.init},
            {"stdin", r.stdin},
            {"log_driver", r.log_driver},
            {"log_path", r.log_path},
            {"log_max_size", r.log_max_size},
            {"log_max_files", r.log_max_files},
            {"stop_signal", r.stop_signal},
            {"stop_timeout", r.stop_timeout},
            {"timeout", r.timeout},
            {"labels", r.labels},
            {"restart_policy", r.restart_policy},
            {"restart_max", r.restart_max},
            {"restart_count", r.restart_count},
            {"sdnotify_mode", r.sdnotify_mode},
            {"sdnotify_socket", r.sdnotify_socket},
            {"create_command", r.create_command},
            {"userns", r.userns},
            {"cgroup_manager", r.cgroup_manager},
            {"cgroups_path", r.cgroups_path},
            {"cgroup_parent", r.cgroup_parent},
            {"resources_json", r.resources_json},
            {"network_mode", r.network_mode},
            {"network_options", r.network_options},
            {"ports", r.ports},
            {"exposed_ports", r.exposed_ports},
            {"publish_all", r.publish_all},
            {"dns_servers", r.dns_servers},
            {"dns_search", r.dns_search},
            {"dns_options", r.dns_options},
            {"extra_hosts", r.extra_hosts}};
  json mounts = json::array();
  for (const auto& m : r.mounts)
    mounts.push_back({{"type", m.type},
                      {"name", m.name},
                      {"source", m.source},
                      {"destination", m.destination},
                      {"options", m.options},
                      {"rw", m.rw},
                      {"anonymous", m.anonymous}});
  j["mounts"] = mounts;
  return j.dump(2) + "\n";
}

Result<ContainerRecord> record_from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    ContainerRecord r;
    r.id = j.at("id").get<std::string>();
    r.name = j.at("name").get<std::string>();
    r.image_id = j.value("image_id", "");
    r.image_name = j.value("image_name", "");
    r.command = j.value("command", std::vector<std::string>{});
    r.created = j.value("created", int64_t{0});
    r.created_ns = j.value("created_ns", r.created * 1000000000);
    r.rm = j.value("rm", false);
    r.tty = j.value("tty", false);
    r.init = j.value("init", false);
    r.stdin = j.value("stdin", false);
    r.log_driver = j.value("log_driver", "k8s-file");
    r.log_path = j.value("log_path", "");
    r.log_max_size = j.value("log_max_size", uint64_t{0});
    r.log_max_files = j.value("log_max_files", 1u);
    r.stop_signal = j.value("stop_signal", "SIGTERM");
    r.stop_timeout = j.value("stop_timeout", 10u);
    r.timeout = j.value("timeout", 0u);
    if (auto it = j.find("mounts"); it != j.end() && it->is_array())
      for (const auto& m : *it)
        r.mounts.push_back(RecordMount{m.value("type", ""), m.value("name", ""), m.value("source", ""),
                                       m.value("destination", ""),
                                       m.value("options", std::vector<std::string>{}), m.value("rw", true),
                                       m.value("anonymous", false)});
    r.labels = j.value("labels", std::map<std::string, std::string>{});
    r.restart_policy = j.value("restart_policy", "no");
    r.restart_max = j.value("restart_max", 0u);
    r.restart_count = j.value("restart_count", 0u);
    r.sdnotify_mode = j.value("sdnotify_mode", "container");
    r.sdnotify_socket = j.value("sdnotify_socket", "");
    r.create_command = j.value("create_command", std::vector<std::string>{});
    r.userns = j.value("userns", "");
    r.cgroup_manager = j.value("cgroup_manager", "");
    r.cgroups_path = j.value("cgroups_path", "");
    r.cgroup_parent = j.value("cgroup_parent", "");
    r.resources_json = j.value("resources_json", "");
    r.network_mode = j.value("network_mode", "");
    r.network_options = j.value("network_options", std::vector<std::string>{});
    r.ports = j.value("ports", std::vector<std::string>{});
    r.exposed_ports = j.value("exposed_ports", std::vector<std::string>{});
    r.publish_all = j.value("publish_all", false);
    r.dns_servers = j.value("dns_servers", std::vector<std::string>{});
    r.dns_search = j.value("dns_search", std::vector<std::string>{});
    r.dns_options = j.value("dns_options", std::vector<std::string>{});
    r.extra_hosts = j.value("extra_hosts", std::vector<std::string>{});
    return r;
  } catch (const std::exception& error) {
    return make_error(std::string("malformed container record: ") + error.what(), EINVAL);
  }
}

std::string container_dir(const image::Store& store, const std::string& id) {
  return store.root() + "/containers/" + id;
}

std::string runtime_state_root() {
  // --runroot (the CLI exports it as CTR_RUNROOT, so the shim's exit
  // command and any ctr it starts see the same state).
  if (const char* runroot = std::getenv("CTR_RUNROOT"); runroot && *runroot) return runroot;
  // Real root keeps its state system-wide, as podman's /run/containers:
  // $XDG_RUNTIME_DIR of a root login session must not split the view.
  static const bool real_root = !userns::running_rootless();
  if (real_root) return "/run/ctr";
  const char* dir = std::getenv("XDG_RUNTIME_DIR");
  if (dir && *dir) return std::string(dir) + "/ctr";
  // No session runtime dir (cron, su): a private per-user dir under /tmp.
  return "/tmp/ctr-run-" + std::to_string(::getuid());
}

std::string shim_state_dir(const std::string& id) {
  return runtime_state_root() + "/containers/" + id;
}
std::string oci_runtime_root() {
  return runtime_state_root() + "/runtime";
}

Status write_record(const image::Store& store, const ContainerRecord& record) {
  return write_file_atomic(container_dir(store, record.id) + "/" + kContainerRecordFile, record_to_json(record), 0600);
}

Result<std::vector<ContainerRecord>> list_records(const image::Store& store) {
  TRY_ASSIGN(layers, image::list_container_layers(store));
  std::vector<ContainerRecord> records;
  for (const auto& layer : layers) {
    std::string path = container_dir(store, layer.id) + "/" + kContainerRecordFile;
    auto text = read_file(path);
    if (!text) {
      if (text.error().code == ENOENT) continue;
      return std::move(text).error();
    }
    auto record = record_from_json(*text);
    if (!record) return std::move(record).error().context("`" + path + "`");
    records.push_back(std::move(*record));
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const auto& a, const auto& b) { return a.created_ns < b.created_ns; });
  return records;
}

Result<ContainerRecord> find_record(const image::Store& store, const std::string& text) {
  if (text.empty()) return make_error("container name or ID must not be empty", EINVAL);
  TRY_ASSIGN(records, list_records(store));
  for (const auto& r : records)
    if (r.id == text || r.name == text) return r;
  const ContainerRecord* match = nullptr;
  for (const auto& r : records) {
    if (r.id.compare(0, text.size(), text) != 0) continue;
    if (match)
      return make_error("more than one container matches `" + text + "` (" + match->id.substr(0, 12) + ", " +
                            r.id.substr(0, 12) + "): give more of the ID, or the name",
                        EINVAL);
    match = &r;
  }
  if (!match) return make_error("no container with name or ID `" + text + "` found: no such container", ENOENT);
  return *match;
}

std::string new_container_id() {
  static const char* hex = "0123456789abcdef";
  std::string id;
  while (id.size() < 64) {
    uint64_t bits = random_u64();
    for (int i = 0; i < 16; ++i, bits >>= 4) id.push_back(hex[bits & 15]);
  }
  // Like docker, never all digits in the short form (it would read as a number).
  if (id.substr(0, 12).find_first_not_of("0123456789") == std::string::npos) id[0] = 'a';
  return id;
}

std::string generate_name(const std::vector<ContainerRecord>& existing) {
  static const char* adjectives[] = {"brave",  "calm",  "eager", "fancy",   "gentle", "happy",  "jolly",
                                     "keen",   "lucid", "merry", "nifty",   "proud",  "quirky", "silly",
                                     "tender", "vivid", "witty", "zealous", "bold",   "clever"};
  static const char* nouns[] = {"turing", "lovelace", "hopper", "knuth", "ritchie",  "thompson", "torvalds",
                                "curie",  "noether",  "euler",  "gauss", "dijkstra", "hamilton", "shannon",
                                "boole",  "babbage",  "kepler", "tesla", "fermat",   "pascal"};
  auto taken = [&](const std::string& name) {
    return std::any_of(existing.begin(), existing.end(), [&](const auto& r) { return r.name == name; });
  };
  for (int attempt = 0;; ++attempt) {
    uint64_t bits = random_u64();
    std::string name = std::string(adjectives[bits % 20]) + "_" + nouns[(bits >> 8) % 20];
    if (attempt > 20) name += "_" + std::to_string((bits >> 16) % 10000);
    if (!taken(name)) return name;
  }
}

Status validate_name(const std::string& name) {
  // podman's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*
  bool ok = !name.empty() && std::isalnum(static_cast<unsigned char>(name[0])) && name.size() <= 128;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') ok = false;
  if (!ok)
    return make_error("container name `" + name + "` is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", EINVAL);
  return {};
}

LiveStatus live_status(const ContainerRecord& record) {
  LiveStatus live;
  std::string dir = shim_state_dir(record.id);
  auto status = shim::read_container_status(dir);
  if (!status) return live;  // no shim was ever started: created
  live.shim = *status;
  live.started = mtime_of(dir + "/" + shim::kContainerPidFile);
  if (status->state == shim::ContainerState::running) {
    live.state = "running";
    live.paused = container_paused(record.id);
  } else {
    live.state = "exited";
    live.finished = mtime_of(dir + "/" + shim::kExitFile);
    if (!live.finished) live.finished = mtime_of(dir + "/" + shim::kShimPidFile);
  }
  return live;
}

}  // namespace ctr::cmd
