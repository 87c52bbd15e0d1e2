// ctr version [--format json|TEMPLATE]: no store, no namespace, no I/O.
#include <sys/utsname.h>

#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/output.h"

namespace ctr::cmd {
namespace {

struct VersionFlags {
  std::string format;
};

int run_version(const VersionFlags& flags) {
  struct utsname uts {};
  ::uname(&uts);
  std::string arch = uts.machine;
  if (arch == "x86_64") arch = "amd64";
  if (arch == "aarch64") arch = "arm64";
  Json version{{"Version", CTR_VERSION},
               {"GitCommit", CTR_GIT_COMMIT},
               {"Built", __DATE__ " " __TIME__},
               {"OsArch", "linux/" + arch}};
  if (flags.format == "json") {
    std::cout << Json{{"Client", version}}.dump(4) << "\n";
    return 0;
  }
  if (!flags.format.empty()) {
    auto tpl = Template::parse(flags.format);
    if (!tpl) return fail(tpl.error());
    auto line = tpl->render(Json{{"Client", version}});
    if (!line) return fail(line.error());
    std::cout << *line << "\n";
    return 0;
  }
  std::cout << align_columns("Version:\t" + version["Version"].get<std::string>() + "\nGit Commit:\t" +
                             version["GitCommit"].get<std::string>() + "\nBuilt:\t" +
                             version["Built"].get<std::string>() + "\nOS/Arch:\t" +
                             version["OsArch"].get<std::string>() + "\n");
  return 0;
}

}  // namespace

void add_version(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("version", "Display the ctr version");
  auto flags = std::make_shared<VersionFlags>();
  cli.value(*sub, "-f,--format", flags->format, "Output: json or a Go template such as '{{.Client.Version}}'",
            Completer::formats, {"json", "{{.Client.Version}}"});
  cli.on_run(*sub, [flags] { return run_version(*flags); });
}

}  // namespace ctr::cmd
