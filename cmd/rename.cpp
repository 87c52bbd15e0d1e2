// ctr rename CONTAINER NEWNAME: changes a container's name (running or not),
// under the store lock so two renames or a create cannot take one name twice.
#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_record.h"

namespace ctr::cmd {
namespace {

struct RenameFlags {
  std::string container, name;
};

Status rename_container(Context& ctx, const RenameFlags& flags) {
  TRY(validate_name(flags.name));
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(lock, store->lock());
  TRY_ASSIGN(record, find_record(*store, flags.container));
  TRY_ASSIGN(records, list_records(*store));
  for (const auto& other : records)
    if (other.name == flags.name && other.id != record.id)
      return make_error("renaming container " + record.id + ": the name \"" + flags.name + "\" is already in use by " +
                            other.id + ": remove or rename that container first",
                        EEXIST);
  record.name = flags.name;
  return write_record(*store, record);
}

}  // namespace

void add_rename(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("rename", "Rename an existing container");
  auto flags = std::make_shared<RenameFlags>();
  cli.value(*sub, "container", flags->container, "Container to rename (name, ID or ID prefix)", Completer::containers)
      ->required();
  cli.value(*sub, "name", flags->name, "The new name", Completer::none)->required();
  cli.on_run(*sub, [&cli, flags] {
    Status renamed = rename_container(cli.ctx, *flags);
    return renamed ? 0 : fail(renamed.error());
  });
}

}  // namespace ctr::cmd
