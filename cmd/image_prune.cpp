// ctr image prune [-a] [-f]: remove dangling (unnamed) images, or with -a
// every image no container uses; prints the removed IDs, as podman.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/image_common.h"
#include "image/container_layers.h"

namespace ctr::cmd {
namespace {

struct PruneFlags {
  bool all = false;
  bool force = false;
};

bool confirm(bool all) {
  std::cout << (all ? "WARNING! This command removes all images without at least one container associated with them.\n"
                    : "WARNING! This command removes all dangling images.\n")
            << "Are you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

int run_prune(Context& ctx, const PruneFlags& flags) {
  if (!flags.force && !confirm(flags.all)) return 0;
  auto store = ctx.store();
  if (!store) return fail(store.error());
  (void)ctx.maps();
  std::vector<std::string> removed;
  auto lock = (*store)->lock();  // the index change and the collection after it, as one
  if (!lock) return fail(lock.error());
  {
    auto images = (*store)->list_images();
    if (!images) return fail(images.error());
    // Unreadable container records stop the prune: it cannot tell what is in use.
    auto users = image::image_users(**store);
    if (!users) return fail(users.error());
    for (const auto& image : *images) {
      bool dangling = image.names.empty();
      if (!(flags.all || dangling)) continue;
      if (users->count(image.id)) continue;  // containers were created from it
      if (auto status = (*store)->remove_image(image.id); !status) return fail(status.error());
      removed.push_back(image.id);
    }
  }
  auto freed = (*store)->garbage_collect();
  if (!freed) return fail(freed.error());
  for (const auto& id : removed) std::cout << image_id_text(id, false) << "\n";
  return 0;
}

}  // namespace

void add_image_prune(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("prune", "Remove unused images");
  auto flags = std::make_shared<PruneFlags>();
  sub->add_flag("-a,--all", flags->all, "Remove all images not used by containers, not just dangling ones");
  sub->add_flag("-f,--force", flags->force, "Do not prompt for confirmation");
  cli.on_run(*sub, [&cli, flags] { return run_prune(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
