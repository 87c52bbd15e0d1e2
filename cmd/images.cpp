// ctr images / ctr image ls|list: the podman listing. One row per name
// (an unnamed image shows <none> <none>), newest first.
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include "cmd/app.h"
#include "cmd/image_common.h"
#include "cmd/output.h"

namespace ctr::cmd {
namespace {

struct ImagesFlags {
  bool all = false;
  bool quiet = false;
  bool no_trunc = false;
  std::string format;
  std::vector<std::string> filters;
};

struct Filter {
  std::vector<std::string> references;
  std::optional<bool> dangling;
  std::optional<int64_t> before, since;  // created times of the named images
};

Result<Filter> parse_filters(image::Store& store, const std::vector<std::string>& texts) {
  Filter filter;
  for (const auto& text : texts) {
    size_t eq = text.find('=');
    std::string key = text.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : text.substr(eq + 1);
    if (eq == std::string::npos || value.empty())
      return make_error("invalid filter `" + text + "`: expected KEY=VALUE");
    if (key == "reference") {
      filter.references.push_back(value);
    } else if (key == "dangling") {
      if (value != "true" && value != "false")
        return make_error("invalid filter `" + text + "`: dangling takes true or false");
      filter.dangling = value == "true";
    } else if (key == "before" || key == "since") {
      auto found = store.find_image(value);
      if (!found) return std::move(found).error().context("filter `" + text + "`");
      (key == "before" ? filter.before : filter.since) = found->created;
    } else {
      return make_error("invalid filter `" + text + "`: unknown key `" + key +
                        "` (supported: reference, dangling, before, since)");
    }
  }
  return filter;
}

bool keep(const Filter& filter, const image::ImageRecord& image) {
  if (filter.dangling && image.names.empty() != *filter.dangling) return false;
  if (filter.before && image.created >= *filter.before) return false;
  if (filter.since && image.created <= *filter.since) return false;
  if (!filter.references.empty()) {
    bool any = false;
    for (const auto& pattern : filter.references) {
      for (const auto& name : image.names) any = any || reference_matches(pattern, name);
    }
    if (!any) return false;
  }
  return true;
}

// podman's `images --format json` element: one per image, not per name.
Json image_json(const image::ImageRecord& image) {
  Json names = Json::array();
  for (const auto& name : image.names) names.push_back(name);
  Json digests = Json::array();
  if (!image.manifest_digest.empty()) {
    for (const auto& name : image.names) digests.push_back(split_name(name).first + "@" + image.manifest_digest);
  }
  return Json{{"Id", image_id_text(image.id, false)},
              {"ParentId", ""},
              {"RepoTags", nullptr},
              {"RepoDigests", digests},
              {"Size", image.size},
              {"SharedSize", 0},
              {"VirtualSize", image.size},
              {"Labels", nullptr},
              {"Containers", 0},
              {"Names", names},
              {"Digest", image.manifest_digest},
              {"Created", image.created},
              {"CreatedAt", rfc3339(image.created)}};
}

Json image_row(const image::ImageRecord& image, const std::string& name, bool no_trunc) {
  auto [repository, tag] = name.empty() ? std::pair<std::string, std::string>{"<none>", "<none>"} : split_name(name);
  Json names = Json::array();
  for (const auto& n : image.names) names.push_back(n);
  return Json{{"ID", no_trunc ? image.id : image_id_text(image.id, true)},
              {"Repository", repository},
              {"Tag", tag},
              {"Digest", image.manifest_digest},
              {"Created", human_age(image.created)},
              {"CreatedSince", human_age(image.created)},
              {"CreatedAt", rfc3339(image.created)},
              {"Size", human_size(image.size)},
              {"Names", names},
              {"Dangling", image.names.empty()}};
}

int run_images(Context& ctx, const ImagesFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto filter = parse_filters(**store, flags.filters);
  if (!filter) return fail(filter.error());
  auto images = (*store)->list_images();
  if (!images) return fail(images.error());
  std::vector<image::ImageRecord> shown;
  for (auto& image : *images) {
    if (keep(*filter, image)) shown.push_back(std::move(image));
  }
  std::stable_sort(shown.begin(), shown.end(), [](const auto& a, const auto& b) { return a.created > b.created; });

  if (flags.quiet) {
    std::set<std::string> seen;
    for (const auto& image : shown) {
      if (seen.insert(image.id).second)
        std::cout << (flags.no_trunc ? image.id : image_id_text(image.id, true)) << "\n";
    }
    return 0;
  }
  if (flags.format == "json") {
    Json array = Json::array();
    for (const auto& image : shown) array.push_back(image_json(image));
    std::cout << array.dump(4) << "\n";
    return 0;
  }
  std::vector<Json> rows;
  for (const auto& image : shown) {
    if (image.names.empty()) rows.push_back(image_row(image, "", flags.no_trunc));
    for (const auto& name : image.names) {
      // With a reference filter, only the names that match get a row (as docker).
      bool wanted = filter->references.empty() ||
                    std::any_of(filter->references.begin(), filter->references.end(),
                                [&](const std::string& pattern) { return reference_matches(pattern, name); });
      if (wanted) rows.push_back(image_row(image, name, flags.no_trunc));
    }
  }
  static const std::vector<Column> columns{
      {"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"ID", "IMAGE ID"}, {"Created", "CREATED"}, {"Size", "SIZE"}};
  auto text = render_rows(flags.format, rows, columns);
  if (!text) return fail(text.error());
  std::cout << *text;
  return 0;
}

}  // namespace

void add_images(Cli& cli, CLI::App& parent, const std::string& name) {
  CLI::App* sub = parent.add_subcommand(name, "List images in local storage");
  if (name == "ls") sub->alias("list");
  auto flags = std::make_shared<ImagesFlags>();
  sub->add_flag("-a,--all", flags->all, "Show all images (ctr keeps no intermediate images, so the same list)");
  sub->add_flag("-q,--quiet", flags->quiet, "Show image IDs only");
  sub->add_flag("--no-trunc", flags->no_trunc, "Do not truncate image IDs");
  cli.value(*sub, "--format", flags->format,
            "Output: json, table, or a Go template such as 'table {{.ID}}\\t{{.Repository}}'", Completer::formats,
            {"json", "table", "{{.ID}}", "{{.Repository}}", "{{.Tag}}", "{{.Size}}", "{{.Created}}"});
  cli.value(*sub, "-f,--filter", flags->filters,
            "Filter: reference=PATTERN, dangling=true|false, before=IMAGE, since=IMAGE", Completer::fixed,
            {"reference=", "dangling=true", "dangling=false", "before=", "since="})
      ->allow_extra_args(false);
  cli.on_run(*sub, [&cli, flags] { return run_images(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
