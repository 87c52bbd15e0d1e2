// ctr cp [CONTAINER:]SRC [CONTAINER:]DEST: copies files and directories
// between a container (running or not) and the host, as podman cp: modes,
// mtimes and symlinks are kept; copied out, files belong to you (container
// root is you on the host); copied in, they belong to the container's user.
// "-" as SRC reads a tar stream from stdin (extracted into the directory
// DEST); as DEST writes one to stdout. The container side runs chrooted in
// the container (container_fs.h), so its symlinks never lead to the host.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cmd/app.h"
#include "cmd/container_fs.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

struct CpFlags {
  std::string source, dest;
};

struct Location {
  std::string container;  // "" = the host
  std::string path;
};

// "name:/path" is a container path; a host path may contain ':' when it
// starts with '/' or '.' (podman's rule).
Location parse_location(const std::string& text) {
  if (text.empty() || text[0] == '/' || text[0] == '.') return {"", text};
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || text.substr(0, colon).find('/') != std::string::npos)
    return {"", text};
  std::string path = text.substr(colon + 1);
  if (path.empty() || path[0] != '/') path = "/" + path;  // relative to the container's root
  return {text.substr(0, colon), path};
}

bool ends_with_dot(const std::string& path) {
  return path.size() >= 2 && path.compare(path.size() - 2, 2, "/.") == 0;
}

std::string trimmed(const std::string& path) {
  std::string p = ends_with_dot(path) ? path.substr(0, path.size() - 2) : path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p.empty() ? "/" : p;
}

std::string top_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The container process's uid/gid from its config.json (copies in belong to it, as podman's --archive).
Result<std::pair<uid_t, gid_t>> container_user(const image::Store& store, const ContainerRecord& record) {
  TRY_ASSIGN(text, read_file(container_dir(store, record.id) + "/config.json"));
  try {
    auto spec = nlohmann::json::parse(text);
    const auto& user = spec.at("process").at("user");
    return std::pair<uid_t, gid_t>{user.value("uid", 0u), user.value("gid", 0u)};
  } catch (const std::exception& error) {
    return make_error(std::string("container config.json: ") + error.what(), EINVAL);
  }
}

struct Pipe {
  UniqueFd read, write;
};
Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Error not_found_in_container(const std::string& path, const ContainerRecord& record) {
  return make_error("\"" + path + "\" could not be found on container " + record.name + ": no such file or directory",
                    ENOENT);
}

// Container -> host (or stdout).
Status copy_out(Context& ctx, const ContainerRecord& record, const std::string& src, const std::string& dest) {
  std::string source = trimmed(src);
  bool contents_only = ends_with_dot(src) || source == "/";
  std::string top = source == "/" ? "rootfs" : top_name(source);
  if (dest == "-") {
    TRY_ASSIGN(child, start_in_container_fs(ctx, record, [&]() -> Status {
                 struct stat st {};
                 if (::lstat(source.c_str(), &st) != 0) return not_found_in_container(src, record);
                 return write_tree_tar(STDOUT_FILENO, source, top);
               }));
    return child.wait();
  }
  TRY_ASSIGN(pipe, make_pipe());
  int read_fd = pipe.read.get();
  TRY_ASSIGN(child, start_in_container_fs(ctx, record, [&]() -> Status {
               ::close(read_fd);
               struct stat st {};
               if (::lstat(source.c_str(), &st) != 0) return not_found_in_container(src, record);
               return write_tree_tar(pipe.write.get(), source, top);
             }));
  pipe.write.reset();
  ExtractOptions options;
  options.resolve_dest = dest;
  options.contents_only = contents_only;
  Status extracted = extract_tar(pipe.read.get(), {}, options);
  pipe.read.reset();  // a child still writing gets EPIPE, not a hang
  Status done = child.wait();
  if (!done) return done;
  return extracted;
}

// Host (or stdin) -> container.
Status copy_in(Context& ctx, const ContainerRecord& record, const std::string& src, const std::string& dest) {
  if (src == "-") {
    if (::isatty(STDIN_FILENO) == 1)
      return make_error("cannot read a tar stream from a terminal: redirect stdin or give a file", EINVAL);
    TRY_ASSIGN(child, start_in_container_fs(ctx, record, [&]() -> Status {
                 struct stat st {};
                 if (::stat(dest.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
                   return make_error("destination \"" + dest + "\" must be a directory in container " + record.name +
                                         " when copying from stdin",
                                     ENOTDIR);
                 ExtractOptions options;
                 options.owners = true;
                 return extract_tar(STDIN_FILENO, ExtractTarget{dest, std::nullopt}, options);
               }));
    return child.wait();
  }
  std::string source = trimmed(src);
  struct stat st {};
  if (::lstat(source.c_str(), &st) != 0)
    return make_error("\"" + src + "\" could not be found on the host: no such file or directory", ENOENT);
  TRY_ASSIGN(store, ctx.store());
  TRY_ASSIGN(owner, container_user(*store, record));
  bool contents_only = ends_with_dot(src) || source == "/";
  std::string top = source == "/" ? "rootfs" : top_name(source);
  TRY_ASSIGN(pipe, make_pipe());
  int write_fd = pipe.write.get();
  TRY_ASSIGN(child, start_in_container_fs(ctx, record, [&]() -> Status {
               ::close(write_fd);  // else the tar never ends
               ExtractOptions options;
               options.owners = true;
               options.resolve_dest = dest;
               options.contents_only = contents_only;
               // An empty stream (the host side failed) extracts nothing.
               return extract_tar(pipe.read.get(), {}, options);
             }));
  pipe.read.reset();
  ::signal(SIGPIPE, SIG_IGN);  // the child may stop reading on an error: ours is the EPIPE then
  Status written = write_tree_tar(pipe.write.get(), source, top, owner);
  pipe.write.reset();
  Status done = child.wait();
  if (!done) return done;
  return written;
}

int run_cp(Context& ctx, const CpFlags& flags) {
  Location from = parse_location(flags.source), to = parse_location(flags.dest);
  if (!from.container.empty() && !to.container.empty())
    return fail(std::string("copying between containers is not supported: copy to the host first"));
  if (from.container.empty() && to.container.empty())
    return fail("invalid arguments " + flags.source + ", " + flags.dest +
                ": you must use just one container (CONTAINER:PATH)");
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto record = find_record(**store, from.container.empty() ? to.container : from.container);
  if (!record) return fail(record.error());
  Status done = from.container.empty() ? copy_in(ctx, *record, from.path, to.path)
                                       : copy_out(ctx, *record, from.path, to.path);
  return done ? 0 : fail(done.error());
}

}  // namespace

void add_cp(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("cp", "Copy files/folders between a container and the local filesystem");
  auto flags = std::make_shared<CpFlags>();
  cli.value(*sub, "source", flags->source, "CONTAINER:SRC, a host path, or - (a tar stream on stdin)", Completer::files)
      ->required();
  cli.value(*sub, "dest", flags->dest, "CONTAINER:DEST, a host path, or - (a tar stream on stdout)", Completer::files)
      ->required();
  cli.on_run(*sub, [&cli, flags] { return run_cp(cli.ctx, *flags); });
}

}  // namespace ctr::cmd
