// ctr info [--format json|TEMPLATE]: the host, the store and the ID maps,
// as podman info (YAML by default).
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/output.h"
#include "runtime/base/files.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace ctr::cmd {
namespace {

struct InfoFlags {
  std::string format;
};

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

// Native rootless overlay (kernel >= 5.11): mount one in the store's user
// namespace on the store's file system, which is what containers will do.
Json overlay_check(image::Store& store, const userns::StoreMaps& maps) {
  auto started = std::chrono::steady_clock::now();
  auto dir = store.make_staging_dir("overlay-check");
  if (!dir) return {{"native", false}, {"error", dir.error().message}};
  std::string base = *dir;
  for (const char* sub : {"/lower", "/upper", "/work", "/merged"}) (void)mkdir_p(base + sub, 0755);
  auto status = userns::run_in_userns(maps, [&]() -> Status {
    std::string data = "lowerdir=" + base + "/lower,upperdir=" + base + "/upper,workdir=" + base + "/work,userxattr";
    if (::mount("overlay", (base + "/merged").c_str(), "overlay", 0, data.c_str()) != 0)
      return sys_error("mount overlay on " + base + "/merged");
    ::umount2((base + "/merged").c_str(), MNT_DETACH);
    return {};
  });
  (void)remove_tree(base);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  Json out{{"native", status.ok()}, {"checkMilliseconds", static_cast<int>(ms)}};
  if (!status) out["error"] = status.error().message;
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
  Json overlay;
  if (maps) {
    id_mappings = {{"uidmap", id_map_json((*maps)->uid)}, {"gidmap", id_map_json((*maps)->gid)}};
    if ((*maps)->single_id) id_mappings["warning"] = (*maps)->warning;
    overlay = overlay_check(**store, **maps);
  } else {
    id_mappings = {{"error", maps.error().message}};
    overlay = {{"native", false}, {"error", "no user namespace maps: " + maps.error().message}};
  }
  std::string os_name = "linux";
  if (auto release = read_file("/etc/os-release")) {
    size_t at = release->find("PRETTY_NAME=");
    if (at != std::string::npos) {
      size_t end = release->find('\n', at);
      os_name = release->substr(at + 12, end - at - 12);
      if (os_name.size() >= 2 && os_name.front() == '"') os_name = os_name.substr(1, os_name.size() - 2);
    }
  }
  Json info{{"host",
             {{"arch", uts.machine},
              {"os", "linux"},
              {"distribution", os_name},
              {"kernel", uts.release},
              {"hostname", uts.nodename},
              {"cgroupVersion", cgroup_version()},
              {"cgroupManager", "none (issue 6)"},
              {"rootless", ::geteuid() != 0},
              {"idMappings", id_mappings},
              {"ociRuntime", {{"name", "ctr-runtime"}, {"path", runtime_path()}}}}},
            {"store",
             {{"graphRoot", (*store)->root()},
              {"graphDriverName", "overlay"},
              {"graphStatus", {{"Native Overlay Diff", overlay.value("native", false)}, {"Check", overlay}}},
              {"imageStore", {{"number", images->size()}}}}},
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
