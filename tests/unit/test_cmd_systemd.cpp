// systemd units: Exec= quoting and splitting, unit-file parsing, `generate
// systemd` rendering and --new's command rewrite, the .container
// conversion, and the --sdnotify helpers.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd/app.h"
#include "cmd/sdnotify.h"
#include "cmd/systemd_unit.h"
#include "runtime/base/files.h"
#include "runtime/base/unique_fd.h"

namespace ctr::cmd {
namespace {

TEST(CmdSystemdQuote, BareWordsStayBare) {
  EXPECT_EQ(systemd_quote("busybox"), "busybox");
  EXPECT_EQ(systemd_quote("--name=web"), "--name=web");
}

TEST(CmdSystemdQuote, SpacesQuotesAndSpecialsAreQuoted) {
  EXPECT_EQ(systemd_quote("A=b c"), "\"A=b c\"");
  EXPECT_EQ(systemd_quote("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(systemd_quote("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(systemd_quote(""), "\"\"");
  EXPECT_EQ(systemd_quote(";"), "\";\"");
  // Specifiers and variables are doubled so the program gets them verbatim.
  EXPECT_EQ(systemd_quote("100%"), "100%%");
  EXPECT_EQ(systemd_quote("$HOME"), "$$HOME");
}

TEST(CmdSystemdQuote, SplitUndoesQuote) {
  std::vector<std::string> argv{"/usr/bin/ctr", "run", "-e", "A=b c", "img", "sh", "-c", "echo \"x\" \\ y", ""};
  auto line = systemd_command_line(argv);
  auto back = systemd_split(line);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, argv);
}

TEST(CmdSystemdQuote, SplitHandlesSingleQuotesAndRejectsUnbalanced) {
  auto words = systemd_split("a 'b c'  \"d\\\"e\" f\\ g");
  ASSERT_TRUE(words);
  EXPECT_EQ(*words, (std::vector<std::string>{"a", "b c", "d\"e", "f g"}));
  auto bad = systemd_split("sh -c \"echo");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unbalanced"), std::string::npos);
}

TEST(CmdSystemdUnitFile, ParsesSectionsRepeatsAndContinuations) {
  auto unit = parse_unit_file(
      "# comment\n[Unit]\nDescription=x\n\n[Container]\nImage=busybox\nEnvironment=A=1\nEnvironment=B=2\n"
      "Exec=sh -c \\\n  'sleep 1'\n; other comment\n");
  ASSERT_TRUE(unit) << unit.error().message;
  ASSERT_EQ(unit->sections.size(), 2u);
  const UnitSection* container = unit->find("Container");
  ASSERT_NE(container, nullptr);
  ASSERT_EQ(container->entries.size(), 4u);
  EXPECT_EQ(container->entries[2].second, "B=2");
  EXPECT_EQ(container->entries[3].second, "sh -c 'sleep 1'");
}

TEST(CmdSystemdUnitFile, BadLinesAreErrorsWithTheLineNumber) {
  auto outside = parse_unit_file("Image=busybox\n");
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message.find("line 1"), std::string::npos);
  auto no_equals = parse_unit_file("[Container]\nImage busybox\n");
  ASSERT_FALSE(no_equals);
  EXPECT_NE(no_equals.error().message.find("line 2"), std::string::npos);
  EXPECT_FALSE(parse_unit_file("[Container\n"));
}

bool run_takes_value(const std::string& flag, bool global) {
  if (global) return flag == "--root" || flag == "--runroot";
  for (const char* f : {"--name", "-e", "--env", "-v", "--sdnotify", "--cidfile", "--stop-timeout", "-w"})
    if (flag == f) return true;
  return false;
}

TEST(CmdGenerateSystemd, RecreateCommandRewritesCreate) {
  std::vector<std::string> created{"ctr",   "--root",     "/s",   "create",   "--name", "web", "-e",
                                   "A=b c", "--sdnotify", "ignore", "--rm", "--cidfile=/x", "busybox",
                                   "sleep", "-d"};
  auto argv = recreate_command(created, "/usr/bin/ctr", "web", run_takes_value);
  ASSERT_TRUE(argv) << argv.error().message;
  EXPECT_EQ(*argv, (std::vector<std::string>{"/usr/bin/ctr", "--root", "/s", "run", "--rm", "--sdnotify=conmon", "-d",
                                             "--replace", "--name", "web", "-e", "A=b c", "--cgroups=split", "busybox", "sleep",
                                             "-d"}));
}

TEST(CmdGenerateSystemd, RecreateCommandAddsTheNameAndDropsDetachFromClusters) {
  std::vector<std::string> created{"ctr", "container", "run", "-dit", "-eX=1", "busybox"};
  auto argv = recreate_command(created, "/bin/ctr", "happy_cat", run_takes_value);
  ASSERT_TRUE(argv) << argv.error().message;
  EXPECT_EQ(*argv, (std::vector<std::string>{"/bin/ctr", "run", "--rm", "--sdnotify=conmon", "-d", "--replace", "-it",
                                             "-eX=1", "--name", "happy_cat", "--cgroups=split", "busybox"}));
  EXPECT_FALSE(recreate_command({"ctr", "ps"}, "/bin/ctr", "x", run_takes_value));
}

TEST(CmdGenerateSystemd, RendersPodmansShape) {
  GenerateSettings s;
  s.ctr_binary = "/usr/bin/ctr";
  s.global_args = {"--root", "/home/u/store"};
  s.recreate = true;
  s.unit_name = "container-web.service";
  s.container = "web";
  s.stop_timeout = 5;
  s.version = "1.0";
  auto text = render_generated_unit(s, {"/usr/bin/ctr", "run", "-d", "-e", "A=b c", "busybox"});
  ASSERT_TRUE(text) << text.error().message;
  for (const char* line :
       {"# container-web.service\n", "[Unit]\n", "[Service]\n", "Type=notify\n", "NotifyAccess=all\n",
        "KillMode=mixed\n", "Delegate=yes\n", "Restart=on-failure\n", "TimeoutStopSec=65\n",
        "ExecStart=/usr/bin/ctr run -d -e \"A=b c\" busybox\n",
        "ExecStop=-/usr/bin/ctr --root /home/u/store stop -t 5 web\n",
        "ExecStopPost=-/usr/bin/ctr --root /home/u/store rm -f web\n", "[Install]\nWantedBy=default.target\n"})
    EXPECT_NE(text->find(line), std::string::npos) << line << "\n" << *text;
  s.recreate = false;
  text = render_generated_unit(s, {});
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("ExecStart=/usr/bin/ctr --root /home/u/store start --attach web\n"), std::string::npos) << *text;
  s.restart_policy = "sometimes";
  EXPECT_FALSE(render_generated_unit(s, {}));
}

TEST(CmdSystemdGenerator, ConvertsAContainerFile) {
  std::vector<std::string> warnings;
  auto unit = convert_container_file("web", "/home/u/.config/ctr/systemd/web.container",
                                     "[Unit]\nDescription=Web\n[Container]\nImage=busybox\nExec=sh -c 'sleep 100'\n"
                                     "Environment=A=1 \"B=two words\"\nVolume=/srv:/srv:ro\nMemory=64m\n"
                                     "PublishPort=127.0.0.1:8080:80\nNetwork=slirp4netns\n"
                                     "CtrArgs=--init --stop-timeout 3\nPodmanArgs=--label a=b\n"
                                     "[Service]\nRestart=always\n[Install]\nWantedBy=default.target multi-user.target\n",
                                     "/usr/bin/ctr", warnings);
  ASSERT_TRUE(unit) << unit.error().message;
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(unit->service_name, "web.service");
  EXPECT_EQ(unit->wanted_by, (std::vector<std::string>{"default.target", "multi-user.target"}));
  for (const char* line :
       {"Description=Web\n", "SourcePath=/home/u/.config/ctr/systemd/web.container\n", "Type=notify\n",
        "NotifyAccess=all\n", "Restart=always\n", "WantedBy=default.target multi-user.target\n",
        "ExecStart=/usr/bin/ctr run --name systemd-web --replace --rm --cgroups=split --sdnotify=conmon -d -e A=1 -e \"B=two words\" "
        "-v /srv:/srv:ro --memory=64m -p 127.0.0.1:8080:80 --network=slirp4netns --init --stop-timeout 3 --label a=b busybox sh -c \"sleep 100\"\n",
        "ExecStop=-/usr/bin/ctr stop -t 10 systemd-web\n", "ExecStopPost=-/usr/bin/ctr rm -f systemd-web\n"})
    EXPECT_NE(unit->text.find(line), std::string::npos) << line << "\n" << unit->text;
  EXPECT_EQ(unit->text.find("[Container]"), std::string::npos);
}

TEST(CmdSystemdGenerator, ContainerNameKeepsSpecifiers) {
  std::vector<std::string> warnings;
  auto unit = convert_container_file("x", "/x.container", "[Container]\nImage=img\nContainerName=app-%N\n",
                                     "/usr/bin/ctr", warnings);
  ASSERT_TRUE(unit) << unit.error().message;
  EXPECT_NE(unit->text.find("run --name app-%N "), std::string::npos) << unit->text;
  EXPECT_NE(unit->text.find("stop -t 10 app-%N\n"), std::string::npos) << unit->text;
}

TEST(CmdSystemdGenerator, UnknownKeysWarnAndBadFilesFail) {
  std::vector<std::string> warnings;
  auto unit = convert_container_file("x", "/x.container", "[Container]\nImage=img\nPod=p\n", "/c", warnings);
  ASSERT_TRUE(unit);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("Pod="), std::string::npos);
  for (const char* text : {"[Service]\nType=simple\n", "[Container]\nExec=true\n", "[Container]\nImage=i\nExec='x\n",
                           "[Container]\nImage=i\nPublishPort=8080:80:70000\n", "[Container]\nImage=i\nEnvironment=novalue\n",
                           "garbage"}) {
    warnings.clear();
    auto bad = convert_container_file("x", "/x.container", text, "/c", warnings);
    EXPECT_FALSE(bad) << text;
  }
}

TEST(CmdSdNotify, Modes) {
  EXPECT_TRUE(check_sdnotify_mode("container"));
  EXPECT_TRUE(check_sdnotify_mode("conmon"));
  EXPECT_TRUE(check_sdnotify_mode("ignore"));
  auto bad = check_sdnotify_mode("always");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("container, conmon or ignore"), std::string::npos);
  EXPECT_EQ(started_message("conmon", true, 42), "MAINPID=42\nREADY=1");
  EXPECT_EQ(started_message("conmon", false, 42), "READY=1");
  EXPECT_EQ(started_message("container", true, 42), "MAINPID=42");
  EXPECT_EQ(started_message("container", false, 42), "");
  EXPECT_EQ(started_message("ignore", true, 42), "");
}

TEST(CmdSdNotify, OwnCgroup) {
  EXPECT_TRUE(inside_cgroup_of_self(::getpid()));
}

TEST(CmdSdNotify, ContainerModeMountsTheRelaySocket) {
  auto notify = container_notify("/run/user/1000/systemd/notify", "/run/user/1000/ctr/containers/abc/notify.sock");
  ASSERT_TRUE(notify);
  EXPECT_EQ(notify->mount.destination, "/run/notify/notify");
  EXPECT_EQ(notify->mount.source, "/run/user/1000/ctr/containers/abc/notify.sock");
  EXPECT_EQ(notify->env, "NOTIFY_SOCKET=/run/notify/notify");
  // The shim sends from the host's network namespace: abstract works too.
  EXPECT_TRUE(container_notify("@/org/freedesktop/systemd1/notify", "/x/notify.sock"));
  auto bad = container_notify("relative/notify", "/x/notify.sock");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--sdnotify=conmon"), std::string::npos);
  EXPECT_TRUE(notify_relayed("container", "/run/user/1000/systemd/notify"));
  EXPECT_FALSE(notify_relayed("container", ""));
  EXPECT_FALSE(notify_relayed("conmon", "/run/user/1000/systemd/notify"));
}

TEST(CmdSdNotify, SendsADatagram) {
  auto made = TempDir::create();
  ASSERT_TRUE(made);
  TempDir& dir = *made;
  std::string path = dir.path() + "/notify";
  UniqueFd server(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, path.size());
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_TRUE(send_notify(path, "MAINPID=7\nREADY=1"));
  char buffer[64] = {};
  ASSERT_EQ(::recv(server.get(), buffer, sizeof buffer, 0), 17);
  EXPECT_EQ(std::string(buffer), "MAINPID=7\nREADY=1");
  EXPECT_FALSE(send_notify("relative", "READY=1"));
  EXPECT_FALSE(send_notify(dir.path() + "/missing", "READY=1"));
}

}  // namespace
}  // namespace ctr::cmd
