// ctr system prune [-f] [-a] [--volumes]: removes the containers that are
// not running, then dangling images (with -a every image no container
// uses), then with --volumes the volumes no container uses; prints what
// went in podman's sections and the space the image store freed.
#include <algorithm>
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_prune.h"
#include "cmd/image_common.h"
#include "cmd/output.h"
#include "cmd/volume_store.h"
#include "image/container_layers.h"

namespace ctr::cmd {
namespace {

struct SystemPruneFlags {
  bool force = false, all = false, volumes = false;
};

struct ImagesPruned {
  std::vector<std::string> ids;
  uint64_t freed = 0;
};

// As `ctr image prune [-a]` (image_prune.cpp): under the store lock, images
// no container was created from, then the unreferenced layers and blobs.
Result<ImagesPruned> prune_images(Context& ctx, bool all) {
  TRY_ASSIGN(store, ctx.store());
  (void)ctx.maps();
  ImagesPruned pruned;
  TRY_ASSIGN(lock, store->lock());
  TRY_ASSIGN(images, store->list_images());
  TRY_ASSIGN(users, image::image_users(*store));
  for (const auto& image : images) {
    if (!(all || image.names.empty()) || users.count(image.id)) continue;
    TRY(store->remove_image(image.id));
    pruned.ids.push_back(image.id);
  }
  TRY_ASSIGN(freed, store->garbage_collect());
  pruned.freed = freed;
  return pruned;
}

std::string warning_text(const SystemPruneFlags& flags) {
  std::string text = "WARNING! This command removes:\n\t- all stopped containers\n";
  if (flags.volumes) text += "\t- all volumes not used by at least one container\n";
  text += flags.all ? "\t- all images without at least one container associated with them\n"
                    : "\t- all dangling images\n";
  return text + "\n";
}

int run_system_prune(Context& ctx, const SystemPruneFlags& flags) {
  if (!flags.force) {
    auto confirmed = confirm_prune(warning_text(flags));
    if (!confirmed) return fail(confirmed.error());
    if (!*confirmed) return 0;
  }
  auto containers = prune_containers(ctx);
  if (!containers) return fail(containers.error());
  if (!containers->empty()) {
    std::cout << "Deleted Containers\n";
    for (const auto& id : *containers) std::cout << id << "\n";
  }
  if (flags.volumes) {
    auto volumes = prune_volumes(ctx);
    if (!volumes) return fail(volumes.error());
    if (!volumes->empty()) {
      std::cout << "Deleted Volumes\n";
      for (const auto& name : *volumes) std::cout << name << "\n";
    }
  }
  auto images = prune_images(ctx, flags.all);
  if (!images) return fail(images.error());
  if (!images->ids.empty()) {
    std::cout << "Deleted Images\n";
    for (const auto& id : images->ids) std::cout << image_id_text(id, false) << "\n";
  }
  std::string size = human_size(images->freed);
  size.erase(std::remove(size.begin(), size.end(), ' '), size.end());  // podman: "1.2MB"
  std::cout << "Total reclaimed space: " << size << "\n";
  return 0;
}

}  // namespace

void add_system_prune(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("prune", "Remove unused containers, images and (with --volumes) volumes");
  auto flags = std::make_shared<SystemPruneFlags>();
  sub->add_flag("-f,--force", flags->force, "Do not ask for confirmation");
  sub->add_flag("-a,--all", flags->all, "Remove all images no container uses, not just dangling ones");
  sub->add_flag("--volumes", flags->volumes, "Also remove the volumes no container uses");
  cli.on_run(*sub, [&cli, flags] { return run_system_prune(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
