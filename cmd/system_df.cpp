// ctr system df: what the store holds and what could be reclaimed, plus the
// store's real disk usage (a layer shared by several images counts once,
// and hard links count once, as `du` does).
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <set>

#include "cmd/app.h"
#include "cmd/output.h"
#include "runtime/base/unique_fd.h"

namespace ctr::cmd {
namespace {

struct DfFlags {
  std::string format;
};

// nftw has no user pointer: the walk state lives here for the walk's duration.
std::set<std::pair<dev_t, ino_t>>* walk_seen = nullptr;
uint64_t walk_bytes = 0;

int count_entry(const char*, const struct stat* st, int, struct FTW*) {
  if (walk_seen->insert({st->st_dev, st->st_ino}).second) walk_bytes += static_cast<uint64_t>(st->st_blocks) * 512;
  return 0;
}

uint64_t disk_usage(const std::string& root) {
  std::set<std::pair<dev_t, ino_t>> seen;
  walk_seen = &seen;
  walk_bytes = 0;
  ::nftw(root.c_str(), count_entry, 64, FTW_PHYS | FTW_MOUNT);
  walk_seen = nullptr;
  return walk_bytes;
}

// Layer files belong to subordinate IDs and some directories are private to
// them: walk inside the store's user namespace, where every entry is readable,
// and bring the number back through a pipe. Falls back to walking from here.
uint64_t store_disk_usage(Context& ctx, const std::string& root) {
  auto maps = ctx.maps();
  int fds[2];
  if (maps && ::pipe2(fds, O_CLOEXEC) == 0) {
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    auto status = userns::run_in_userns(**maps, [&]() -> Status {
      uint64_t bytes = disk_usage(root);
      if (::write(write_end.get(), &bytes, sizeof bytes) != sizeof bytes) return sys_error("write");
      return {};
    });
    write_end.reset();
    uint64_t bytes = 0;
    if (status && ::read(read_end.get(), &bytes, sizeof bytes) == sizeof bytes) return bytes;
  }
  return disk_usage(root);
}

std::string with_percent(uint64_t part, uint64_t whole) {
  int percent = whole ? static_cast<int>(part * 100 / whole) : 0;
  return human_size(part) + " (" + std::to_string(percent) + "%)";
}

int run_df(Context& ctx, const DfFlags& flags) {
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto images = (*store)->list_images();
  if (!images) return fail(images.error());
  auto used = images_in_use(**store);
  std::set<std::string> all_layers, active_layers;
  size_t active = 0;
  for (const auto& image : *images) {
    bool is_used = std::find(used.begin(), used.end(), image.id) != used.end();
    active += is_used;
    for (const auto& chain : image.layer_chain_ids) {
      all_layers.insert(chain);
      if (is_used) active_layers.insert(chain);
    }
  }
  uint64_t size = 0, reclaimable = 0;
  for (const auto& chain : all_layers) {
    auto layer = (*store)->read_layer(chain);
    if (!layer) continue;
    size += layer->size;
    if (!active_layers.count(chain)) reclaimable += layer->size;
  }
  uint64_t on_disk = store_disk_usage(ctx, (*store)->root());
  std::vector<Json> rows{
      {{"Type", "Images"},
       {"Total", images->size()},
       {"Active", active},
       {"Size", human_size(size)},
       {"Reclaimable", with_percent(reclaimable, size)},
       {"RawSize", size},
       {"RawReclaimable", reclaimable}},
      {{"Type", "Containers"},
       {"Total", 0},
       {"Active", 0},
       {"Size", human_size(0)},
       {"Reclaimable", with_percent(0, 0)},
       {"RawSize", 0},
       {"RawReclaimable", 0}},
      {{"Type", "Local Volumes"},
       {"Total", 0},
       {"Active", 0},
       {"Size", human_size(0)},
       {"Reclaimable", with_percent(0, 0)},
       {"RawSize", 0},
       {"RawReclaimable", 0}},
  };
  if (flags.format == "json") {
    Json out{{"Rows", rows}, {"StoreRoot", (*store)->root()}, {"StoreDiskUsage", on_disk}};
    std::cout << out.dump(4) << "\n";
    return 0;
  }
  static const std::vector<Column> columns{
      {"Type", "TYPE"}, {"Total", "TOTAL"}, {"Active", "ACTIVE"}, {"Size", "SIZE"}, {"Reclaimable", "RECLAIMABLE"}};
  auto text = render_rows(flags.format, rows, columns);
  if (!text) return fail(text.error());
  std::cout << *text;
  if (flags.format.empty() || flags.format == "table")
    std::cout << "\nStore " << (*store)->root() << ": " << human_size(on_disk)
              << " on disk (shared layers and hard links counted once)\n";
  return 0;
}

}  // namespace

void add_system_df(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("df", "Show ctr disk usage");
  auto flags = std::make_shared<DfFlags>();
  cli.value(*sub, "--format", flags->format, "Output: json, table or a Go template", Completer::formats,
            {"json", "table", "{{.Type}}\\t{{.Size}}"});
  cli.on_run(*sub, [&cli, flags] { return run_df(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
