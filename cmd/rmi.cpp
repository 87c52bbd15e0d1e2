// ctr rmi / ctr image rm [-f] [-a] IMAGE...: removing one name of a
// multi-name image only untags it (`Untagged: NAME`); removing by ID, or the
// last name, deletes the image (`Untagged:` per name, then `Deleted: ID`, as
// podman prints it), then unreferenced layers and blobs are collected.
// An image containers were created from is refused (exit 2) unless -f,
// which removes those containers' storage first, as podman rmi -f removes
// the containers.
// Exit codes as podman's rmi: 1 when an image is not known, 2 when one is in
// use, 125 for anything else.
#include <algorithm>
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_launch.h"
#include "cmd/image_common.h"
#include "image/container_layers.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

constexpr int kExitNoSuchImage = 1;
constexpr int kExitImageInUse = 2;

struct RmiFlags {
  bool force = false;
  bool all = false;
  std::vector<std::string> images;
};

// The containers created from `image` (sorted), or an error when their
// records cannot be read (then nobody can tell whether removing is safe).
Result<std::vector<std::string>> users_of(const image::Store& store, const image::ImageRecord& image) {
  TRY_ASSIGN(users, image::image_users(store));
  auto it = users.find(image.id);
  return it == users.end() ? std::vector<std::string>{} : it->second;
}

// Without -f, an image in use is refused, naming a container; with it,
// the containers' storage goes first (podman rmi -f removes them).
int handle_users(image::Store& store, const image::ImageRecord& image, const std::string& text, bool force) {
  auto users = users_of(store, image);
  if (!users) return fail(users.error());
  if (users->empty()) return 0;
  if (!force) {
    const std::string& first = users->front();
    std::string more = users->size() > 1 ? " (and " + std::to_string(users->size() - 1) + " more)" : "";
    fail("image " + text + " is in use by container " + first + more + ": remove the container first (ctr rm " + first +
         ") or use ctr rmi -f");
    return kExitImageInUse;
  }
  for (const auto& id : *users) {
    // A running container is killed first (its shim and runtime state go too).
    if (auto killed = kill_for_removal(store, id); !killed) return fail(killed.error());
    if (auto removed = image::remove_container_layer(store, id); !removed) return fail(removed.error());
  }
  return 0;
}

// Removes or untags what `text` names. Returns an exit code (0 on success).
// Called with the store lock held.
int remove_one(image::Store& store, const std::string& text, bool force, bool all_names) {
  auto found = store.resolve_image(text);
  if (!found) {
    fail(found.error());
    return kExitNoSuchImage;
  }
  image::ImageRecord image = std::move(found->image);
  std::string name = found->name;
  if (!name.empty() && image.names.size() > 1) {
    image.names.erase(std::find(image.names.begin(), image.names.end(), name));
    if (auto status = store.put_image(image); !status) return fail(status.error());
    std::cout << "Untagged: " << name << "\n";
    return 0;
  }
  if (name.empty() && image.names.size() > 1 && !force && !all_names) {
    return fail("unable to delete image `" + text + "` by ID with more than one tag (" + join(image.names, ", ") +
                "): please force removal");
  }
  if (int code = handle_users(store, image, text, force); code != 0) return code;
  if (auto status = store.remove_image(image.id); !status) return fail(status.error());
  for (const auto& n : image.names) std::cout << "Untagged: " << n << "\n";
  std::cout << "Deleted: " << image_id_text(image.id, false) << "\n";
  return 0;
}

int run_rmi(Context& ctx, const RmiFlags& flags) {
  if (flags.all == !flags.images.empty())
    return fail(std::string(flags.all ? "when using the --all switch, you may not pass any images names or IDs"
                                      : "image name or ID must be specified"));
  auto store = ctx.store();
  if (!store) return fail(store.error());
  std::vector<std::string> targets = flags.images;
  if (flags.all) {
    auto images = (*store)->list_images();
    if (!images) return fail(images.error());
    for (const auto& image : *images) targets.push_back(image.id);
  }
  (void)ctx.maps();              // layer files belong to subordinate IDs: removing them needs the user namespace
  auto lock = (*store)->lock();  // one read-modify-write of the index, and the collection after it
  if (!lock) return fail(lock.error());
  int status = 0;
  for (const auto& text : targets) {
    int code = remove_one(**store, text, flags.force, flags.all);
    if (code != 0 && (status == 0 || code == kExitError)) status = code;
  }
  if (auto freed = (*store)->garbage_collect(); !freed) return fail(freed.error());
  return status;
}

}  // namespace

void add_rmi(Cli& cli, CLI::App& parent, const std::string& name) {
  CLI::App* sub = parent.add_subcommand(name, "Remove images from local storage");
  auto flags = std::make_shared<RmiFlags>();
  sub->add_flag("-f,--force", flags->force, "Remove images even if containers use them or they have several names");
  sub->add_flag("-a,--all", flags->all, "Remove all images");
  cli.value(*sub, "image", flags->images, "Images to remove (name, ID or ID prefix)", Completer::images);
  cli.on_run(*sub, [&cli, flags] { return run_rmi(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
