// Choosing the root file system driver: names, overrides, probes (with the
// native overlay answer cached in the store), and the decision.
#include "image/rootfs_driver.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::image {
namespace {

using nlohmann::json;

// Written by the probe's child when the mount(2) itself was refused, so the
// parent can tell a kernel answer (cacheable) from a namespace problem.
constexpr const char* kMountRefused = "overlay mount refused: ";

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string kernel_release() {
  struct utsname uts {};
  if (::uname(&uts) != 0) return "unknown";
  return uts.release;
}

std::string probe_cache_path(const Store& store) {
  return store.root() + "/driver-probe.json";
}

// The executable `name` in $PATH (a default one when unset), "" when absent.
std::string find_program(const std::string& name) {
  std::string path = env("PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& dir : split(path, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

bool read_cached_probe(const Store& store, DriverProbe& probe) {
  auto text = read_file(probe_cache_path(store));
  if (!text) return false;
  try {
    json j = json::parse(*text);
    if (j.value("kernel", std::string()) != probe.kernel) return false;
    probe.native_overlay = j.at("nativeOverlay").get<bool>();
    probe.overlay_error = j.value("error", std::string());
    probe.overlay_probed_at = j.value("probedAt", int64_t{0});
  } catch (const json::exception&) {
    return false;  // rewritten by the next probe
  }
  probe.overlay_probed = true;
  probe.overlay_cached = true;
  return true;
}

void write_cached_probe(const Store& store, const DriverProbe& probe) {
  json j{{"kernel", probe.kernel}, {"nativeOverlay", probe.native_overlay}, {"probedAt", probe.overlay_probed_at}};
  if (!probe.overlay_error.empty()) j["error"] = probe.overlay_error;
  // Best effort: without the cache the next command probes again.
  (void)write_file_atomic(probe_cache_path(store), j.dump() + "\n", 0644);
}

std::string strip_quotes(std::string_view value) {
  value = trim(value);
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
    value = value.substr(1, value.size() - 2);
  return std::string(value);
}

}  // namespace

const char* driver_name(Driver driver) {
  switch (driver) {
    case Driver::overlay:
      return "overlay";
    case Driver::fuse_overlayfs:
      return "fuse-overlayfs";
    case Driver::vfs:
      return "vfs";
  }
  return "unknown";
}

std::vector<Driver> all_drivers() {
  return {Driver::overlay, Driver::fuse_overlayfs, Driver::vfs};
}

Result<Driver> parse_driver(std::string_view text) {
  for (Driver driver : all_drivers()) {
    if (text == driver_name(driver)) return driver;
  }
  return make_error("unknown storage driver `" + std::string(text) + "`: use overlay, fuse-overlayfs or vfs", EINVAL);
}

std::string storage_conf_path() {
  std::string config = env("XDG_CONFIG_HOME");
  if (config.empty() || config[0] != '/') config = env("HOME") + "/.config";
  return config + "/ctr/storage.conf";
}

Result<std::optional<std::string>> parse_storage_conf(const std::string& text, const std::string& path) {
  std::optional<std::string> driver;
  int number = 0;
  for (const auto& raw : split(text, '\n')) {
    ++number;
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return make_error(path + ":" + std::to_string(number) + ": expected `key = \"value\"`", EINVAL);
    if (trim(line.substr(0, eq)) != "driver") continue;  // other keys are podman's, or future ones
    std::string_view value = trim(line.substr(eq + 1));
    // A trailing `# comment` is outside the quotes (TOML).
    size_t end = value.find('#');
    if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
      size_t close = value.find(value[0], 1);
      if (close == std::string_view::npos)
        return make_error(path + ":" + std::to_string(number) + ": unterminated string", EINVAL);
      end = close + 1;
    }
    driver = strip_quotes(value.substr(0, end));
  }
  return driver;
}

Result<std::optional<DriverOverride>> driver_override(const std::string& flag_value) {
  auto make = [](const std::string& name, const std::string& source) -> Result<std::optional<DriverOverride>> {
    auto driver = parse_driver(name);
    if (!driver) return std::move(driver).error().context(source);
    return std::optional<DriverOverride>(DriverOverride{*driver, source});
  };
  if (!flag_value.empty()) return make(flag_value, "--storage-driver");
  if (auto value = env("CTR_STORAGE_DRIVER"); !value.empty()) return make(value, "CTR_STORAGE_DRIVER");
  std::string path = storage_conf_path();
  auto text = read_file(path);
  if (!text) {
    if (text.error().code == ENOENT) return std::optional<DriverOverride>();
    return std::move(text).error().context("read storage configuration");
  }
  TRY_ASSIGN(value, parse_storage_conf(*text, path));
  if (!value || value->empty()) return std::optional<DriverOverride>();
  return make(*value, path);
}

void probe_native_overlay(Store& store, const userns::StoreMaps& maps, DriverProbe& probe) {
  probe.kernel = kernel_release();
  if (read_cached_probe(store, probe)) return;
  probe.overlay_probed = true;
  probe.overlay_probed_at = static_cast<int64_t>(std::time(nullptr));
  auto dir = store.make_staging_dir("overlay-probe");
  if (!dir) {
    probe.overlay_error = dir.error().message;
    return;
  }
  std::string base = *dir;
  for (const char* sub : {"/lower", "/upper", "/work", "/merged"}) (void)mkdir_p(base + sub, 0755);
  auto status = userns::run_in_userns(maps, [&]() -> Status {
    std::string data = "lowerdir=" + base + "/lower,upperdir=" + base + "/upper,workdir=" + base + "/work,userxattr";
    if (::mount("overlay", (base + "/merged").c_str(), "overlay", 0, data.c_str()) != 0)
      return sys_error(kMountRefused + std::string("mount overlay on `") + base + "/merged`");
    ::umount2((base + "/merged").c_str(), MNT_DETACH);
    return {};
  });
  // The work dir holds a 000 directory made by the ns root: remove as owner.
  (void)remove_tree(base);
  if (path_exists(base)) (void)userns::run_in_userns(maps, [&]() -> Status { return remove_tree(base); });
  probe.native_overlay = status.ok();
  if (status.ok() || starts_with(status.error().message, kMountRefused)) {
    if (!status.ok()) probe.overlay_error = status.error().message.substr(std::string(kMountRefused).size());
    write_cached_probe(store, probe);
  } else {
    probe.overlay_error = status.error().message;
  }
}

void probe_fuse_overlayfs(DriverProbe& probe) {
  probe.fuse_probed = true;
  probe.fuse_path = find_program("fuse-overlayfs");
  if (probe.fuse_path.empty()) {
    probe.fuse_error = "fuse-overlayfs is not installed (apt-get install fuse-overlayfs)";
    return;
  }
  int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    probe.fuse_error = sys_error("open /dev/fuse").message +
                       " (it should be mode 0666; distributions set that up with udev or the fuse package)";
    return;
  }
  ::close(fd);
  probe.fuse_overlayfs = true;
}

Status forget_driver_probe(const Store& store) {
  if (::unlink(probe_cache_path(store).c_str()) != 0 && errno != ENOENT)
    return sys_error("remove `" + probe_cache_path(store) + "`");
  return {};
}

Status driver_usable(Driver driver, const DriverProbe& probe) {
  switch (driver) {
    case Driver::overlay:
      if (probe.overlay_probed && !probe.native_overlay)
        return make_error("native overlay does not work in the user namespace here: " + probe.overlay_error, EPERM);
      return {};
    case Driver::fuse_overlayfs:
      if (probe.fuse_probed && !probe.fuse_overlayfs) return make_error(probe.fuse_error, ENODEV);
      return {};
    case Driver::vfs:
      return {};
  }
  return make_error("unknown storage driver", EINVAL);
}

Result<DriverChoice> decide_driver(const DriverProbe& probe, const std::optional<DriverOverride>& override) {
  if (override) {
    auto usable = driver_usable(override->driver, probe);
    if (!usable)
      return make_error("storage driver " + std::string(driver_name(override->driver)) + " (set by " +
                            override->source + ") cannot be used: " + usable.error().message +
                            "; choose another with --storage-driver or CTR_STORAGE_DRIVER (overlay, fuse-overlayfs, "
                            "vfs), or remove the setting to choose automatically",
                        usable.error().code);
    return DriverChoice{override->driver, true, "set by " + override->source};
  }
  if (driver_usable(Driver::overlay, probe))
    return DriverChoice{Driver::overlay, false, "native overlay mounts in the user namespace"};
  std::string why_not = "native overlay refused (" + probe.overlay_error + ")";
  if (driver_usable(Driver::fuse_overlayfs, probe))
    return DriverChoice{Driver::fuse_overlayfs, false, why_not + "; fuse-overlayfs is usable"};
  return DriverChoice{Driver::vfs, false, why_not + "; fuse-overlayfs unusable (" + probe.fuse_error + ")"};
}

Result<DriverChoice> choose_driver(Store& store, const userns::StoreMaps& maps, const std::string& flag_value,
                                   DriverProbe* probe_out) {
  TRY_ASSIGN(override, driver_override(flag_value));
  DriverProbe probe;
  // Only what the decision needs: vfs needs nothing, fuse-overlayfs only its own check.
  bool want_overlay = !override || override->driver == Driver::overlay;
  if (want_overlay) probe_native_overlay(store, maps, probe);
  bool want_fuse = override ? override->driver == Driver::fuse_overlayfs : !probe.native_overlay;
  if (want_fuse) probe_fuse_overlayfs(probe);
  if (probe_out) *probe_out = probe;
  return decide_driver(probe, override);
}

Result<std::string> overlay_mount_options(const std::vector<std::string>& lowers_top_first, const std::string& upper,
                                          const std::string& work) {
  // overlayfs splits on ',' and ':' (backslash escapes aside): our own
  // paths never hold them, but say so rather than mount the wrong thing.
  auto check = [](const std::string& path) -> Status {
    if (path.find_first_of(",:\\") != std::string::npos)
      return make_error("overlay path `" + path + "` contains `,`, `:` or `\\`: use a storage root without them",
                        EINVAL);
    return {};
  };
  std::string lowers;
  for (const auto& lower : lowers_top_first) {
    TRY(check(lower));
    lowers += (lowers.empty() ? "" : ":") + lower;
  }
  TRY(check(upper));
  TRY(check(work));
  // userxattr for real root too: the layers carry user.overlay.opaque (the
  // unpacker writes one format for every store), and overlay takes the
  // option from root as well; trusted.* would need a second layer format.
  std::string options = "lowerdir=" + lowers + ",upperdir=" + upper + ",workdir=" + work + ",userxattr";
  // mount(2) copies at most one page of options.
  long page = ::sysconf(_SC_PAGESIZE);
  if (page <= 0) page = 4096;
  if (options.size() >= static_cast<size_t>(page))
    return make_error("the image has " + std::to_string(lowers_top_first.size()) +
                          " layers, more than overlay's mount options can name (" + std::to_string(options.size()) +
                          " bytes, limit " + std::to_string(page - 1) +
                          "): flatten the image (ctr save + import) or use --storage-driver vfs",
                      E2BIG);
  return options;
}

}  // namespace ctr::image
