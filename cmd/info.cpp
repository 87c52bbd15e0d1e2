// ctr info [--format json|TEMPLATE]: the host, the store and the ID maps,
// as podman info (YAML by default), including the root file system driver
// new containers get and why (image/rootfs_driver.h).
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/cgroup_flags.h"
#include "cmd/output.h"
#include "image/rootfs_driver.h"
#include "runtime/base/files.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace ctr::cmd {
namespace {

struct InfoFlags {
  std::string format;
};

// The manager new containers get and why (cmd/cgroup_flags.h); a
// --cgroup-manager that cannot work here shows as none with the reason.
std::pair<std::string, std::string> cgroup_manager_info(const Context& ctx) {
  auto choice = global_cgroup_manager(ctx, cgroup_facts());
  if (!choice) return {"none", choice.error().message};
  return {cgroup::manager_name(choice->manager), choice->reason};
}

std::string cgroup_version() {
  struct statfs fs {};
  if (::statfs("/sys/fs/cgroup", &fs) != 0) return "unknown";
  if (fs.f_type == CGROUP2_SUPER_MAGIC) return "v2";
  if (::statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
    return "v1 (hybrid: v2 tree at /sys/fs/cgroup/unified)";
  return "v1";
}

std::string self_dir() {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return "";
  std::string path(buffer, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

// The OCI runtime ctr uses: next to the ctr binary (installed or in the
// build tree), else in $PATH.
std::string runtime_path() {
  std::string dir = self_dir();
  for (const std::string& candidate : {dir + "/ctr-runtime", dir + "/../runtime/ctr-runtime"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "ctr-runtime (not found next to ctr; looked up in $PATH at run time)";
}

Json id_map_json(const userns::IdMap& map) {
  Json out = Json::array();
  for (const auto& range : map)
    out.push_back({{"container_id", range.inside}, {"host_id", range.outside}, {"size", range.count}});
  return out;
}

// Every driver is probed (the overlay answer comes from the store's cache
// when the kernel is the same), so the output says why each one is or is
// not usable, and which one a new container would get and why.
Json storage_driver_json(Context& ctx, image::Store& store, const Result<const userns::StoreMaps*>& maps) {
  image::DriverProbe probe;
  if (maps) {
    image::probe_native_overlay(store, **maps, probe);
  } else {
    probe.overlay_probed = true;
    probe.overlay_error = "no user namespace maps: " + maps.error().message;
  }
  image::probe_fuse_overlayfs(probe);
  Json supported = Json::array();
  for (image::Driver driver : image::all_drivers()) {
    auto usable = image::driver_usable(driver, probe);
    Json entry{{"name", image::driver_name(driver)}, {"usable", usable.ok()}};
    if (!usable) entry["reason"] = usable.error().message;
    supported.push_back(entry);
  }
  Json check{{"native", probe.native_overlay},
             {"kernel", probe.kernel},
             {"cached", probe.overlay_cached},
             {"probedAt", probe.overlay_probed_at}};
  if (!probe.overlay_error.empty()) check["error"] = probe.overlay_error;
  Json out{{"graphDriverName", ""},
           {"graphDriverReason", ""},
           {"graphDriversSupported", supported},
           {"graphStatus", {{"Native Overlay Diff", probe.native_overlay}, {"Check", check}}}};
  auto override = image::driver_override(ctx.storage_driver);
  if (!override) {
    out["graphDriverReason"] = override.error().message;
    return out;
  }
  if (*override) out["graphDriverName"] = image::driver_name((*override)->driver);
  auto choice = image::decide_driver(probe, *override);
  if (!choice) {
    out["graphDriverReason"] = choice.error().message;
    return out;
  }
  out["graphDriverName"] = image::driver_name(choice->driver);
  out["graphDriverReason"] = choice->reason;
  return out;
}

void print_yaml(const Json& value, int indent, std::ostream& out) {
  std::string pad(static_cast<size_t>(indent), ' ');
  for (auto it = value.begin(); it != value.end(); ++it) {
    const Json& item = it.value();
    if (item.is_object() && !item.empty()) {
      out << pad << it.key() << ":\n";
      print_yaml(item, indent + 2, out);
    } else if (item.is_array() && !item.empty()) {
      out << pad << it.key() << ":\n";
      for (const auto& element : item) {
        if (element.is_object()) {
          bool first = true;
          for (auto e = element.begin(); e != element.end(); ++e) {
            out << pad << (first ? "- " : "  ") << e.key() << ": " << go_print(e.value()) << "\n";
            first = false;
          }
        } else {
          out << pad << "- " << go_print(element) << "\n";
        }
      }
    } else {
      out << pad << it.key() << ": " << (item.is_string() ? item.get<std::string>() : item.dump()) << "\n";
    }
  }
}

int run_info(Context& ctx, const InfoFlags& flags) {
  struct utsname uts {};
  ::uname(&uts);
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto images = (*store)->list_images();
  if (!images) return fail(images.error());
  auto maps = ctx.maps();
  Json id_mappings;
  if (maps) {
    id_mappings = {{"uidmap", id_map_json((*maps)->uid)}, {"gidmap", id_map_json((*maps)->gid)}};
    if ((*maps)->single_id) id_mappings["warning"] = (*maps)->warning;
  } else {
    id_mappings = {{"error", maps.error().message}};
  }
  Json storage = {{"graphRoot", (*store)->root()}};
  storage.update(storage_driver_json(ctx, **store, maps));
  storage["imageStore"] = {{"number", images->size()}};
  std::string os_name = "linux";
  if (auto release = read_file("/etc/os-release")) {
    size_t at = release->find("PRETTY_NAME=");
    if (at != std::string::npos) {
      size_t end = release->find('\n', at);
      os_name = release->substr(at + 12, end - at - 12);
      if (os_name.size() >= 2 && os_name.front() == '"') os_name = os_name.substr(1, os_name.size() - 2);
    }
  }
  auto cgroup_manager = cgroup_manager_info(ctx);
  Json info{{"host",
             {{"arch", uts.machine},
              {"os", "linux"},
              {"distribution", os_name},
              {"kernel", uts.release},
              {"hostname", uts.nodename},
              {"cgroupVersion", cgroup_version()},
              {"cgroupManager", cgroup_manager.first},
              {"cgroupManagerReason", cgroup_manager.second},
              {"cgroupControllers", cgroup_facts().own_controllers},
              {"rootless", ::geteuid() != 0},
              {"idMappings", id_mappings},
              {"ociRuntime", {{"name", "ctr-runtime"}, {"path", runtime_path()}}}}},
            {"store", storage},
            {"version", {{"Version", CTR_VERSION}, {"GitCommit", CTR_GIT_COMMIT}}}};
  if (flags.format == "json") {
    std::cout << info.dump(4) << "\n";
  } else if (!flags.format.empty()) {
    auto tpl = Template::parse(flags.format);
    if (!tpl) return fail(tpl.error());
    auto line = tpl->render(info);
    if (!line) return fail(line.error());
    std::cout << *line << "\n";
  } else {
    print_yaml(info, 0, std::cout);
  }
  return 0;
}

}  // namespace

void add_info(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("info", "Display ctr system information");
  auto flags = std::make_shared<InfoFlags>();
  cli.value(*sub, "-f,--format", flags->format, "Output: json or a Go template such as '{{.host.kernel}}'",
            Completer::formats, {"json", "{{.host.kernel}}", "{{.store.graphRoot}}"});
  cli.on_run(*sub, [&cli, flags] { return run_info(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
