// ctr image inspect [--format F] IMAGE...: a JSON array shaped like podman's
// (Id, Digest, RepoTags, Created, Config, RootFS, Size, Architecture, Os...),
// or one template line per image.
#include <iostream>
#include <iterator>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_inspect.h"
#include "cmd/image_common.h"
#include "cmd/output.h"

namespace ctr::cmd {
namespace {

struct InspectFlags {
  std::string format;
  std::vector<std::string> images;
};

// As podman's overlay driver reports an image: UpperDir is the top layer's
// diff, LowerDir the ones below it, topmost first (overlay's lowerdir order),
// absent for a one-layer image. ctr's layers have no work dir.
Json graph_driver_data(const image::Store& store, const image::ImageRecord& image) {
  Json data = Json::object();
  if (image.layer_chain_ids.empty()) return data;
  data["UpperDir"] = store.layer_diff_dir(image.layer_chain_ids.back());
  std::string lower_dirs;
  for (auto it = std::next(image.layer_chain_ids.rbegin()); it != image.layer_chain_ids.rend(); ++it)
    lower_dirs += (lower_dirs.empty() ? "" : ":") + store.layer_diff_dir(*it);
  if (!lower_dirs.empty()) data["LowerDir"] = lower_dirs;
  return data;
}

int run_inspect(Context& ctx, const InspectFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto format = parse_inspect_format(flags.format);
  if (!format) return fail(format.error());
  const std::optional<Template>& tpl = *format;
  Json array = Json::array();
  std::string lines;
  int status = 0;
  for (const auto& text : flags.images) {
    auto found = (*store)->find_image(text);
    if (!found) {
      status = fail(found.error());
      continue;
    }
    auto object = image_inspect_json(**store, *found);
    if (!object) {
      status = fail(object.error());
      continue;
    }
    if (tpl) {
      auto line = tpl->render(*object);
      if (!line) return fail(line.error());
      lines += *line + "\n";
    } else {
      array.push_back(std::move(object).value());
    }
  }
  if (tpl) {
    std::cout << lines;
  } else {
    std::cout << array.dump(4) << "\n";
  }
  return status;
}

}  // namespace

Result<Json> image_inspect_json(const image::Store& store, const image::ImageRecord& image) {
  TRY_ASSIGN(config_text, store.read_blob(image.config_digest));
  Json config;
  try {
    config = Json::parse(config_text);
  } catch (const std::exception& error) {
    return make_error("image " + image.id + ": config blob " + image.config_digest + " is not JSON: " + error.what());
  }
  auto field = [&](const char* key, Json fallback) { return config.contains(key) ? config[key] : fallback; };
  Json digests = Json::array();
  for (const auto& name : image.names) digests.push_back(split_name(name).first + "@" + image.manifest_digest);
  Json graph_data = graph_driver_data(store, image);
  Json inner = field("config", Json::object());
  return Json{{"Id", image_id_text(image.id, false)},
              {"Digest", image.manifest_digest},
              {"RepoTags", image.names},
              {"RepoDigests", digests},
              {"Parent", ""},
              {"Comment", field("comment", "")},
              {"Created", config.contains("created") ? config["created"] : Json(rfc3339(image.created))},
              {"Config", inner},
              {"Version", field("docker_version", "")},
              {"Author", field("author", "")},
              {"Architecture", field("architecture", "")},
              {"Os", field("os", "")},
              {"Size", image.size},
              {"VirtualSize", image.size},
              {"GraphDriver", {{"Name", "overlay"}, {"Data", graph_data}}},
              {"RootFS", {{"Type", "layers"}, {"Layers", image.diff_ids}}},
              {"Labels", inner.contains("Labels") ? inner["Labels"] : Json(nullptr)},
              {"Annotations", Json::object()},
              {"ManifestType", "application/vnd.oci.image.manifest.v1+json"},
              {"User", inner.contains("User") ? inner["User"] : Json("")},
              {"History", field("history", Json::array())},
              {"NamesHistory", image.names}};
}

void add_image_inspect(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("inspect", "Display the configuration of images");
  auto flags = std::make_shared<InspectFlags>();
  cli.value(*sub, "-f,--format", flags->format, "Output: json (default) or a Go template such as '{{.Id}}'",
            Completer::formats,
            {"json", "{{.Id}}", "{{.Digest}}", "{{.RepoTags}}", "{{.Config.Cmd}}", "{{json .RootFS}}"});
  cli.value(*sub, "image", flags->images, "Images to inspect (name, ID or ID prefix)", Completer::images)->required();
  cli.on_run(*sub, [&cli, flags] { return run_inspect(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
