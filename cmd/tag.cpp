// ctr tag IMAGE NEWNAME...: add names to an image (a name moves from any
// image that had it, as in podman).
#include <algorithm>
#include <memory>

#include "cmd/app.h"
#include "image/reference.h"

namespace ctr::cmd {
namespace {

struct TagFlags {
  std::string image;
  std::vector<std::string> names;
};

int run_tag(Context& ctx, const TagFlags& flags) {
  std::vector<std::string> names;
  for (const auto& text : flags.names) {
    auto reference = image::parse_reference(text);
    if (!reference) return fail(reference.error());
    if (reference->tag.empty()) return fail("cannot tag `" + text + "`: a tag name cannot contain a digest");
    names.push_back(reference->full());
  }
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto lock = (*store)->lock();
  if (!lock) return fail(lock.error());
  auto found = (*store)->find_image(flags.image);
  if (!found) return fail(found.error());
  image::ImageRecord image = std::move(found).value();
  for (const auto& name : names) {
    if (std::find(image.names.begin(), image.names.end(), name) == image.names.end()) image.names.push_back(name);
  }
  if (auto status = (*store)->put_image(image); !status) return fail(status.error());
  return 0;
}

}  // namespace

void add_tag(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("tag", "Add an additional name to a local image");
  auto flags = std::make_shared<TagFlags>();
  cli.value(*sub, "image", flags->image, "Image to tag (name, ID or ID prefix)", Completer::images)->required();
  cli.value(*sub, "target_names", flags->names, "New names, NAME[:TAG]", Completer::none)->required();
  cli.on_run(*sub, [&cli, flags] { return run_tag(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
