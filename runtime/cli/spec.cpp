// ctr-runtime spec [--rootless] [--bundle B]: write a starting config.json.
#include <fcntl.h>

#include "runtime/base/files.h"
#include "runtime/cli/command.h"
#include "runtime/spec.h"

namespace ctr::cli {

namespace {

constexpr FlagSpec kFlags[] = {
    {"bundle", 'b', FlagKind::value, "directory to write config.json into (default: the current directory)", "DIR"},
    {"rootless", 0, FlagKind::boolean, "a config for running without root (user namespace, single-ID maps)"},
};

Result<int> run_spec(const GlobalOptions&, const ParsedArgs& args) {
  TRY(expect_positionals(args, "spec", 0, 0));
  std::string path = args.value_or("bundle", ".") + "/config.json";
  // O_EXCL, not a check then a write: never overwrite someone's config.
  auto fd = open_fd(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (!fd) {
    if (fd.error().code == EEXIST) return make_error("File config.json exists. Remove it first", EEXIST);
    return std::move(fd).error();
  }
  TRY_CTX(write_all(fd->get(), spec::default_spec_json(args.flag("rootless"))), "write `" + path + "`");
  return 0;
}

}  // namespace

const Command spec_command{
    "spec", "spec [flags]", "write a new config.json", kFlags, run_spec,
};

}  // namespace ctr::cli
