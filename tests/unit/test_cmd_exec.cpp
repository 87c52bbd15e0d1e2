// Unit tests of what `ctr exec`, `attach`, `top` and `--init` decide without
// running anything: the exec session's process.json, detach-key and
// --sig-proxy parsing, the signals run/attach forward, top's descriptors and
// formats, and the init mount in the spec.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "cmd/app.h"
#include "cmd/container_attach.h"
#include "cmd/container_top.h"
#include "cmd/detach_keys.h"
#include "cmd/exec_session.h"

namespace ctr::cmd {
namespace {

const char* kConfig = R"({
  "ociVersion": "1.1.0",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sleep", "1000"],
    "env": ["PATH=/bin", "HOME=/root", "A=container"], "cwd": "/srv",
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}
  },
  "root": {"path": "/x"}
})";

const char* kPasswd = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
const char* kGroup = "root:x:0:\nalice:x:1000:\nwheel:x:10:alice\n";

nlohmann::json process_for(const ExecProcessFlags& flags) {
  auto text = exec_process_json(kConfig, flags, kPasswd, kGroup);
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
  return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json();
}

TEST(CmdExecProcess, KeepsTheContainersProcessAndReplacesTheCommand) {
  ExecProcessFlags flags;
  flags.command = {"ls", "-l"};
  auto p = process_for(flags);
  EXPECT_EQ(p["args"], nlohmann::json({"ls", "-l"}));
  EXPECT_EQ(p["cwd"], "/srv");
  EXPECT_EQ(p["user"]["uid"], 0);
  EXPECT_EQ(p["terminal"], false);
  EXPECT_EQ(p["env"], nlohmann::json({"PATH=/bin", "HOME=/root", "A=container"}));
  EXPECT_EQ(p["capabilities"]["effective"], nlohmann::json({"CAP_KILL"}));
}

TEST(CmdExecProcess, AppliesEnvFilesThenEnvWorkdirTtyAndUser) {
  ExecProcessFlags flags;
  flags.command = {"env"};
  flags.env_file_entries = {"A=file", "B=file"};
  flags.env = {"B=flag", "C=flag"};
  flags.workdir = "/tmp";
  flags.tty = true;
  flags.user = "alice";
  auto p = process_for(flags);
  EXPECT_EQ(p["env"], nlohmann::json({"PATH=/bin", "HOME=/root", "A=file", "TERM=xterm", "B=flag", "C=flag"}));
  EXPECT_EQ(p["cwd"], "/tmp");
  EXPECT_EQ(p["terminal"], true);
  EXPECT_EQ(p["user"]["uid"], 1000);
  EXPECT_EQ(p["user"]["gid"], 1000);
  EXPECT_EQ(p["user"]["additionalGids"], nlohmann::json({10}));
  EXPECT_EQ(p["capabilities"]["effective"], nlohmann::json::array()) << "a non-root user has no effective caps";
}

TEST(CmdExecProcess, RejectsBadInput) {
  ExecProcessFlags flags;
  auto empty = exec_process_json(kConfig, flags, kPasswd, kGroup);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("non-empty command"), std::string::npos);
  flags.command = {"true"};
  flags.workdir = "relative";
  EXPECT_FALSE(exec_process_json(kConfig, flags, kPasswd, kGroup).ok());
  flags.workdir.reset();
  flags.user = "nosuchuser";
  auto user = exec_process_json(kConfig, flags, kPasswd, kGroup);
  ASSERT_FALSE(user.ok());
  EXPECT_NE(user.error().message.find("nosuchuser"), std::string::npos);
  flags.user.reset();
  flags.env = {"=x"};
  EXPECT_FALSE(exec_process_json(kConfig, flags, kPasswd, kGroup).ok());
  ExecProcessFlags plain;
  plain.command = {"true"};
  EXPECT_FALSE(exec_process_json("not json", plain, "", "").ok());
}

TEST(CmdDetachKeys, ParsesPodmanSyntaxAndNamesTheFlag) {
  EXPECT_EQ(*detach_key_bytes("ctrl-p,ctrl-q"), "\x10\x11");
  EXPECT_EQ(*detach_key_bytes("ctrl-x,x"), "\x18x");
  EXPECT_EQ(*detach_key_bytes(""), "");
  auto bad = detach_key_bytes("ctrl-p,alt-q");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--detach-keys"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("alt-q"), std::string::npos) << bad.error().message;
}

TEST(CmdDetachKeys, RunStartAttachExecHaveTheFlags) {
  auto cli = build_cli();
  for (const char* path : {"run", "start", "attach", "exec"}) {
    CLI::App* sub = cli->app.get_subcommand(path);
    ASSERT_NE(sub, nullptr) << path;
    EXPECT_NO_THROW(sub->get_option("--detach-keys")) << path;
  }
  for (const char* path : {"run", "start", "attach"})
    EXPECT_NO_THROW(cli->app.get_subcommand(path)->get_option("--sig-proxy")) << path;
  EXPECT_NO_THROW(cli->app.get_subcommand("run")->get_option("--init"));
  EXPECT_NO_THROW(cli->app.get_subcommand("create")->get_option("--init"));
}

TEST(CmdSigProxy, ForwardsWhatUsersSendButNotFaultsOrChildren) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGRTMIN, SIGRTMAX})
    EXPECT_TRUE(SignalProxy::forwards(sig)) << sig;
  for (int sig : {SIGKILL, SIGSTOP, SIGCHLD, SIGPIPE, SIGWINCH, SIGSEGV, SIGBUS, SIGTSTP})
    EXPECT_FALSE(SignalProxy::forwards(sig)) << sig;
}

TEST(CmdSigProxy, HandsCaughtSignalsToTheCallback) {
  std::mutex mutex;
  std::vector<int> seen;
  auto count = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return seen.size();
  };
  {
    SignalProxy proxy([&](int sig) {
      std::lock_guard<std::mutex> lock(mutex);
      seen.push_back(sig);
    });
    ::kill(::getpid(), SIGUSR1);
    ::kill(::getpid(), SIGHUP);
    for (int i = 0; i < 200 && count() < 2; ++i) ::usleep(5000);
  }
  EXPECT_EQ(seen, (std::vector<int>{SIGUSR1, SIGHUP}));
  struct sigaction now {};
  ::sigaction(SIGUSR1, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL) << "the previous handler is restored";
}

TEST(CmdTop, DescriptorsDefaultCommaListsAndErrors) {
  EXPECT_EQ(*parse_top_descriptors({}), default_top_descriptors());
  EXPECT_EQ(*parse_top_descriptors({"pid,user", "args"}), (std::vector<std::string>{"pid", "user", "args"}));
  auto bad = parse_top_descriptors({"pid", "bogus"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bogus"), std::string::npos);
  EXPECT_NE(bad.error().message.find("etime"), std::string::npos) << "lists the valid ones";
}

TEST(CmdTop, GoDurations) {
  EXPECT_EQ(go_duration(0), "0s");
  EXPECT_EQ(go_duration(10000000), "10ms");
  EXPECT_EQ(go_duration(1500), "1.5µs");
  EXPECT_EQ(go_duration(3389613018), "3.389613018s");
  EXPECT_EQ(go_duration(62500000000), "1m2.5s");
  EXPECT_EQ(go_duration(3600000000000), "1h0m0s");
}

TEST(CmdTop, RendersPodmansTable) {
  TopProcess p;
  p.pid = 1;
  p.ppid = 0;
  p.user = "root";
  p.args = "sleep 1000";
  p.comm = "sleep";
  p.elapsed_ns = 2000000000;
  p.cpu_ns = 0;
  std::string table = render_top(default_top_descriptors(), {p});
  EXPECT_EQ(table,
            "USER        PID         PPID        %CPU        ELAPSED     TTY         TIME        COMMAND\n"
            "root        1           0           0.000       2s          ?           0s          sleep 1000\n");
  p.args.clear();
  EXPECT_NE(render_top({"args"}, {p}).find("[sleep]"), std::string::npos) << "no cmdline: [comm]";
}

}  // namespace
}  // namespace ctr::cmd
