// ctr exec [-i] [-t] [-d] [-e KEY=VAL]... [--env-file F]... [-u USER] [-w DIR]
// [--detach-keys K] CONTAINER CMD [ARG...]: a process in a running container.
//
// Each session gets a shim of its own (`ctr-shim --exec`, state in
// STATE/exec/EID/), started inside the container shim's user and mount
// namespaces like the container's, which runs `ctr-runtime exec --detach`.
// The session has no log, so its shim holds the process's output, and its
// end, until a first client connects to the session's attach socket (see
// shim/attach_server.h): the process may well have run and exited before
// ctr got to connect. In the foreground ctr is that client, relays every
// byte and returns the process's exit status; with -d it connects only for
// a moment, so the process runs on and its output is discarded. The
// session's exit command (`ctr container exec-cleanup`) removes its state
// directory when the process ends, in the foreground or with -d.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cmd/app.h"
#include "cmd/container_attach.h"
#include "cmd/container_launch.h"
#include "cmd/container_spec.h"
#include "cmd/detach_keys.h"
#include "cmd/exec_session.h"
#include "runtime/base/child_process.h"
#include "runtime/base/files.h"
#include "runtime/base/strings.h"

namespace ctr::cmd {
namespace {

using namespace std::chrono_literals;

constexpr int kSyncFd = 3;

struct ExecFlags {
  bool interactive = false, tty = false, detach = false;
  std::vector<std::string> env, env_files;
  std::string user, workdir, detach_keys;
  bool user_set = false, workdir_set = false;
  std::string container;
  std::vector<std::string> command;
};

std::string self_exe() {
  char buffer[4096];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string("ctr");
}

bool same_namespace(pid_t pid, const char* ns) {
  struct stat mine {}, theirs{};
  std::string self = std::string("/proc/self/ns/") + ns, other = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  return ::stat(self.c_str(), &mine) == 0 && ::stat(other.c_str(), &theirs) == 0 && mine.st_ino == theirs.st_ino &&
         mine.st_dev == theirs.st_dev;
}

// /etc/passwd or /etc/group as the container sees it: its live root first
// (a user added inside the container counts), else the image's layers.
std::string container_file(Context& ctx, const ContainerRecord& record, pid_t init_pid, const std::string& path) {
  if (init_pid > 0)
    if (auto text = read_file("/proc/" + std::to_string(init_pid) + "/root" + path)) return *text;
  auto store = ctx.store();
  if (!store) return {};
  auto image = (*store)->find_image(record.image_id);
  return image ? read_image_file(**store, *image, path) : std::string();
}

Result<ExecProcessFlags> process_flags(const ExecFlags& flags) {
  ExecProcessFlags out;
  out.command = flags.command;
  out.env = flags.env;
  out.tty = flags.tty;
  if (flags.user_set) out.user = flags.user;
  if (flags.workdir_set) out.workdir = flags.workdir;
  for (const auto& file : flags.env_files) {
    auto text = read_file(file);
    if (!text) return std::move(text).error().context("--env-file `" + file + "`");
    TRY_ASSIGN(entries, parse_env_file(*text, file));
    out.env_file_entries.insert(out.env_file_entries.end(), entries.begin(), entries.end());
  }
  return out;
}

shim::ShimOptions session_options(Context& ctx, const ContainerRecord& record, const ExecFlags& flags,
                                  const std::string& exec_id, const std::string& process_file) {
  auto store = ctx.store();
  shim::ShimOptions o;
  o.id = record.id;
  o.bundle = store ? container_dir(**store, record.id) : std::string();
  o.state_dir = shim_state_dir(record.id);  // the shim keeps the session's records in exec/EID/ below
  o.runtime = helper_binary("ctr-runtime", "CTR_RUNTIME_BIN");
  o.runtime_args = {"--root", oci_runtime_root()};
  o.log_driver = shim::LogDriver::none;  // as podman: exec output is not in the container's log
  o.terminal = flags.tty;
  o.stdin = flags.interactive;
  o.sync_fd = kSyncFd;
  o.exec = true;
  o.exec_id = exec_id;
  o.process_json = process_file;
  o.exit_command = self_exe();
  if (store) o.exit_args = {"--root", (*store)->root()};
  if (!ctx.storage_driver.empty()) o.exit_args.insert(o.exit_args.end(), {"--storage-driver", ctx.storage_driver});
  o.exit_args.insert(o.exit_args.end(), {"container", "exec-cleanup", record.id, exec_id});
  return o;
}

// Starts the session's shim inside the user and mount namespaces of the
// container's shim (where the runtime's state and rights are); returns the
// read end of its sync pipe.
Result<UniqueFd> start_session_shim(pid_t container_shim, std::vector<std::string> argv) {
  std::string proc = "/proc/" + std::to_string(container_shim) + "/ns/";
  bool join = !same_namespace(container_shim, "user");
  TRY_ASSIGN(user_ns, open_fd(proc + "user", O_RDONLY));
  TRY_ASSIGN(mnt_ns, open_fd(proc + "mnt", O_RDONLY));
  TRY_ASSIGN(null_fd, open_fd("/dev/null", O_RDWR));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd sync_read(fds[0]), sync_write(fds[1]);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork");
  if (child == 0) {  // only syscalls from here to exec
    if (join && (::setns(user_ns.get(), CLONE_NEWUSER) != 0 || ::setns(mnt_ns.get(), CLONE_NEWNS) != 0)) ::_exit(125);
    for (int fd = 0; fd < 3; ++fd) ::dup2(null_fd.get(), fd);
    if (::dup2(sync_write.get(), kSyncFd) < 0) ::_exit(125);  // dup2 clears close-on-exec
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  sync_write.reset();
  TRY_ASSIGN(process, ChildProcess::adopt(child));
  // The shim's first process exits as soon as the shim detached.
  TRY_ASSIGN(ended, process.wait(30s));
  if (ended.code == 125 && ended.signal == 0) {
    pollfd pfd{sync_read.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 0) <= 0) return make_error("cannot join the namespaces of the container's shim", EPERM);
  }
  if (ended.code == 127 && ended.signal == 0)
    return make_error("cannot run the shim `" + argv[0] + "`: install it next to ctr or set CTR_SHIM_BIN", ENOENT);
  return sync_read;
}

// Connects to the session's attach socket as soon as the shim listens on
// it, which is before the runtime starts the process. Empty when the shim
// reported on the sync pipe first (it failed, or we were slow: then it
// holds the output for us, and attach() connects).
Result<std::optional<shim::AttachConnection>> connect_session(const std::string& dir, int sync_fd) {
  auto deadline = std::chrono::steady_clock::now() + 5min;
  while (std::chrono::steady_clock::now() < deadline) {
    auto connection = shim::AttachConnection::connect(dir);
    if (connection) return std::optional<shim::AttachConnection>(std::move(*connection));
    // ENOENT before bind(), ECONNREFUSED between bind() and listen().
    int code = connection.error().code;
    if (code != ENOENT && code != ECONNREFUSED) return std::move(connection).error();
    pollfd pfd{sync_fd, POLLIN, 0};
    int n = ::poll(&pfd, 1, 2);
    if (n < 0 && errno != EINTR) return sys_error("poll");
    if (n > 0) return std::optional<shim::AttachConnection>();
  }
  return make_error("the exec session's shim did not start within 5 minutes", ETIMEDOUT);
}

// The session's shim reported a failure: podman's message and code. A
// shim that failed runs no exit command, so its records go here.
int report_failure(const shim::CreateResult& report, const std::string& session_dir) {
  (void)remove_tree(session_dir);
  std::cerr << "Error: " << report.error << std::endl;
  return report.exit_code ? report.exit_code : kExitError;
}

Result<shim::CreateResult> read_report(int sync_fd) {
  TRY_ASSIGN(report, shim::read_create_report(sync_fd, 5min));
  if (!report) return make_error("the exec session's shim exited without reporting", EPROTO);
  return *report;
}

int run_foreground(const ContainerRecord& record, const ExecFlags& flags, const std::string& keys,
                   const std::string& session_dir, int sync_fd) {
  auto connected = connect_session(session_dir, sync_fd);
  if (!connected) return fail(connected.error().context("exec in container " + record.name));
  // The session's shim (its pid file is written before it listens), to
  // wait for its exit command at the end.
  UniqueFd shim_pidfd;
  if (auto text = read_file(session_dir + "/" + shim::kShimPidFile))
    if (auto identity = shim::parse_identity(*text); identity && shim::identity_alive(*identity))
      shim_pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, identity->pid, 0)));
  std::optional<shim::CreateResult> report;
  if (!*connected) {  // the shim reported before we could connect
    auto got = read_report(sync_fd);
    if (!got) return fail(got.error());
    if (!got->ok()) return report_failure(*got, session_dir);
    report = *got;
  }
  shim::AttachOptions options;
  options.stdin_fd = flags.interactive ? STDIN_FILENO : -1;
  options.detach_keys = keys;
  bool terminal = flags.tty && ::isatty(STDIN_FILENO) == 1;
  if (terminal) options.terminal_fd = STDIN_FILENO;
  if (!report)
    options.on_connected = [&]() -> Status {
      TRY_ASSIGN(got, read_report(sync_fd));
      report = got;
      if (!got.ok()) return make_error(got.error, ECANCELED);
      return {};
    };
  std::optional<RawTerminal> raw;
  if (terminal && flags.interactive) raw.emplace(STDIN_FILENO);
  auto result = *connected ? shim::attach(std::move(**connected), session_dir, options)
                           : shim::attach(session_dir, options);
  raw.reset();
  if (report && !report->ok()) return report_failure(*report, session_dir);
  if (!result) return fail(result.error().context("exec in container " + record.name));
  for (const auto& message : result->messages) warn(message);
  if (result->end == shim::AttachEnd::detached) return 0;
  if (!result->exit)
    return fail("lost the connection to the exec session in container " + record.name +
                " before it reported an exit status");
  // Let the exit command remove the session's state before we return.
  if (shim_pidfd) {
    pollfd pfd{shim_pidfd.get(), POLLIN, 0};
    (void)::poll(&pfd, 1, 5000);
  }
  return result->exit->exit_code;
}

// -d: the shim holds the output for a first client, so be one for a
// moment (the connection closes on return) and let the process run on.
int run_detached(const ContainerRecord& record, const std::string& exec_id, const std::string& session_dir,
                 int sync_fd) {
  auto connected = connect_session(session_dir, sync_fd);
  if (!connected) return fail(connected.error().context("exec in container " + record.name));
  auto report = read_report(sync_fd);
  if (!report) return fail(report.error());
  if (!report->ok()) return report_failure(*report, session_dir);
  if (!*connected) (void)shim::AttachConnection::connect(session_dir);  // it reported before we connected
  std::cout << exec_id << std::endl;  // as podman: the exec session's ID
  return 0;
}

int exec_container(Context& ctx, const ExecFlags& flags) {
  auto keys = detach_key_bytes(flags.detach_keys);
  if (!keys) return fail(keys.error());
  if (flags.command.empty())
    return fail("must provide a non-empty command to start an exec session: give it after the container");
  auto store = ctx.store();
  if (!store) return fail(store.error());
  auto record = find_record(**store, flags.container);
  if (!record) return fail(record.error());
  LiveStatus live = live_status(*record);
  if (live.state != "running" || !live.shim || live.shim->shim_pid <= 0)
    return fail("can only create exec sessions on running containers: container " + record->name + " is " +
                live.state + " (start it first)");
  auto process_input = process_flags(flags);
  if (!process_input) return fail(process_input.error());
  auto config = read_file(container_dir(**store, record->id) + "/config.json");
  if (!config) return fail(config.error().context("container " + record->name));
  std::string passwd, group;
  if (flags.user_set) {
    passwd = container_file(ctx, *record, live.shim->pid, "/etc/passwd");
    group = container_file(ctx, *record, live.shim->pid, "/etc/group");
  }
  auto process = exec_process_json(*config, *process_input, passwd, group);
  if (!process) return fail(process.error());

  std::string exec_id = new_container_id();
  std::string session_dir = shim::exec_state_dir(shim_state_dir(record->id), exec_id);
  if (auto made = mkdir_p(session_dir, 0700); !made) return fail(made.error());
  std::string process_file = session_dir + "/process.json";
  if (auto written = write_file_atomic(process_file, *process, 0600, Durability::ephemeral); !written) {
    (void)remove_tree(session_dir);
    return fail(written.error());
  }
  std::string shim_binary = helper_binary("ctr-shim", "CTR_SHIM_BIN");
  std::vector<std::string> argv{shim_binary};
  for (auto& arg : shim::shim_arguments(session_options(ctx, *record, flags, exec_id, process_file)))
    argv.push_back(std::move(arg));
  auto sync = start_session_shim(live.shim->shim_pid, argv);
  if (!sync) {
    (void)remove_tree(session_dir);
    return fail(sync.error().context("exec in container " + record->name));
  }
  if (!flags.detach) return run_foreground(*record, flags, *keys, session_dir, sync->get());
  return run_detached(*record, exec_id, session_dir, sync->get());
}

}  // namespace

void add_exec(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("exec", "Run a process in a running container");
  auto flags = std::make_shared<ExecFlags>();
  // Everything after CONTAINER is the command (`ctr exec box sh -c ...`).
  sub->prefix_command();
  sub->fallthrough(false);
  sub->add_flag("-i,--interactive", flags->interactive, "Keep STDIN open and send it to the process");
  sub->add_flag("-t,--tty", flags->tty, "Allocate a pseudo-TTY");
  sub->add_flag("-d,--detach", flags->detach, "Run the process in the background and print the exec session ID");
  cli.value(*sub, "-e,--env", flags->env, "Set environment variables (KEY=VALUE, or KEY to pass ctr's value)",
            Completer::none)
      ->allow_extra_args(false);
  cli.value(*sub, "--env-file", flags->env_files, "Read environment variables from a file (KEY=VALUE lines)",
            Completer::files)
      ->allow_extra_args(false);
  cli.value(*sub, "-u,--user", flags->user, "User (name or UID, optionally :group) to run as", Completer::none);
  cli.value(*sub, "-w,--workdir", flags->workdir, "Working directory inside the container", Completer::none);
  add_detach_keys_option(cli, *sub, flags->detach_keys);
  cli.value(*sub, "container", flags->container, "Running container (name, ID or ID prefix), then the command",
            Completer::running_containers)
      ->required();
  cli.on_run(*sub, [&cli, flags, sub] {
    flags->command = sub->remaining();
    flags->user_set = sub->count("--user") > 0;
    flags->workdir_set = sub->count("--workdir") > 0;
    return exec_container(cli.ctx, *flags);
  });
}

void add_exec_cleanup(Cli& cli, CLI::App& parent) {
  CLI::App* sub = parent.add_subcommand("exec-cleanup", "Remove an ended exec session's state (run by ctr-shim)");
  sub->group("");  // hidden: not for people
  auto id = std::make_shared<std::string>();
  auto exec_id = std::make_shared<std::string>();
  cli.value(*sub, "container", *id, "Container ID", Completer::none)->required();
  cli.value(*sub, "exec-id", *exec_id, "Exec session ID", Completer::none)->required();
  cli.on_run(*sub, [id, exec_id] {
    for (const auto* part : {id.get(), exec_id.get()})
      if (part->empty() || part->find('/') != std::string::npos || *part == "." || *part == "..")
        return fail("invalid ID `" + *part + "`");
    Status removed = remove_tree(shim::exec_state_dir(shim_state_dir(*id), *exec_id));
    return removed ? 0 : fail(removed.error().context("remove exec session " + *exec_id));
  });
}

}  // namespace ctr::cmd
