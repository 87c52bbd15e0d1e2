#include "cmd/create_options.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "cmd/container_launch.h"
#include "cmd/container_record.h"
#include "cmd/container_restart.h"
#include "runtime/base/files.h"

namespace ctr::cmd {
namespace {

std::string cidfile_exists_message(const std::string& path) {
  return "container id file exists. Ensure another container is not using it or delete " + path;
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Status check_pull_policy(const std::string& policy) {
  if (policy == "missing" || policy == "never") return {};
  if (policy == "always" || policy == "newer")
    return make_error("--pull " + policy +
                          " is not supported yet: ctr cannot pull images; load the image with `ctr load` or "
                          "`ctr import` and use --pull missing (the default) or never",
                      ENOTSUP);
  return make_error("unsupported pull policy \"" + policy +
                        "\": use missing or never (always and newer need pulling, "
                        "which ctr does not do yet)",
                    EINVAL);
}

Result<image::ImageRecord> image_for_create(const image::Store& store, const std::string& image,
                                            const std::string& policy) {
  auto found = store.find_image(image);
  if (found || found.error().code != ENOENT) return found;
  if (policy == "never") return make_error(image + ": image not known (--pull never: see ctr images)", ENOENT);
  return make_error("image \"" + image +
                        "\" is not in the store, and pulling images is not implemented yet: load it with `ctr load` "
                        "or `ctr import` (see ctr images)",
                    ENOENT);
}

Status check_replace_and_cidfile(bool replace, const std::string& name, const std::string& cidfile) {
  if (replace && name.empty()) return make_error("cannot replace container without --name being set", EINVAL);
  if (!cidfile.empty() && ::access(cidfile.c_str(), F_OK) == 0)
    return make_error(cidfile_exists_message(cidfile), EEXIST);
  return {};
}

Status remove_for_replace(Context& ctx, const std::string& name) {
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(records, list_records(*store));
  const ContainerRecord* old = nullptr;
  for (const auto& r : records)
    if (r.name == name) old = &r;
  if (!old) return {};
  LiveStatus live = live_status(*old);
  if (live.state == "running") {
    // SIGKILL at once, as `rm -f`; marked as a user stop so no --restart
    // policy brings it back while we remove it.
    TRY_CTX(stop_container(*old, 0, "SIGKILL"), "--replace: stop container " + name);
    live = live_status(*old);
  } else if (live.shim && live.shim->state == shim::ContainerState::exited_unknown) {
    (void)signal_container(*old, SIGKILL);  // its shim was killed; the payload may live on
  }
  if (live.shim) {
    mark_stopped_by_user(*old);
    (void)wait_shim_gone(*live.shim, std::chrono::seconds(30));
  }
  TRY_CTX(remove_container(ctx, *old), "--replace: remove container " + name);
  return {};
}

Status write_cidfile(const std::string& path, const std::string& id) {
  std::string temp = dir_of(path) + "/.ctr-cidfile-" + std::to_string(::getpid());
  TRY_CTX(write_file_atomic(temp, id, 0644), "write the container ID file " + path);
  Status linked;
  if (::link(temp.c_str(), path.c_str()) != 0)
    linked = errno == EEXIST ? make_error(cidfile_exists_message(path), EEXIST)
                             : sys_error("write the container ID file " + path);
  (void)::unlink(temp.c_str());
  return linked;
}

}  // namespace ctr::cmd
