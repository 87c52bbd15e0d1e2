// `ctr inspect`, `ctr ps` (filters, JSON, --latest/--last), `ctr rename`
// and container lookup (ambiguous prefixes), for real as the unprivileged
// user on a fresh store with busybox.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <map>
#include <string>

#include "runtime/base/strings.h"
#include "tests/integration/ctr_container_fixture.h"

namespace ctr::itest {
namespace {

using nlohmann::json;

std::string first_line(const std::string& text) {
  return std::string(trim(text.substr(0, text.find('\n'))));
}

TEST_F(CtrContainerTest, InspectRunningAndExitedContainers) {
  auto run = ctr({"run", "-d", "--name", "sleeper", "busybox", "sleep", "100"});
  ASSERT_EQ(run.code, 0) << run.describe();
  std::string id = first_line(run.out);
  auto done = ctr({"run", "--name", "three", "busybox", "sh", "-c", "exit 3"});
  ASSERT_EQ(done.code, 3) << done.describe();

  auto inspected = ctr({"inspect", "sleeper"});
  ASSERT_EQ(inspected.code, 0) << inspected.describe();
  json array = json::parse(inspected.out);
  ASSERT_TRUE(array.is_array());
  ASSERT_EQ(array.size(), 1u);
  const json& c = array[0];
  EXPECT_EQ(c["Id"], id);
  EXPECT_EQ(c["Name"], "sleeper");
  EXPECT_EQ(c["Path"], "sleep");
  EXPECT_EQ(c["Args"], json::array({"100"}));
  EXPECT_EQ(c["State"]["Status"], "running");
  EXPECT_EQ(c["State"]["Running"], true);
  EXPECT_GT(c["State"]["Pid"].get<int>(), 0);
  EXPECT_NE(c["State"]["StartedAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(c["Config"]["Cmd"], json::array({"sleep", "100"}));
  EXPECT_EQ(c["HostConfig"]["AutoRemove"], false);
  EXPECT_EQ(c["RestartCount"], 0);
  EXPECT_TRUE(c["Created"].get<std::string>().ends_with("Z"));

  auto pid = ctr({"inspect", "--format", "{{.State.Pid}} {{.Name}}", "sleeper"});
  ASSERT_EQ(pid.code, 0) << pid.describe();
  EXPECT_EQ(first_line(pid.out), std::to_string(c["State"]["Pid"].get<int>()) + " sleeper");
  auto config = ctr({"container", "inspect", "--format", "{{json .Config}}", "sleeper"});
  ASSERT_EQ(config.code, 0) << config.describe();
  EXPECT_EQ(json::parse(config.out)["Hostname"], id.substr(0, 12));

  auto exited = ctr({"inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}", "three"});
  ASSERT_EQ(exited.code, 0) << exited.describe();
  EXPECT_EQ(first_line(exited.out), "exited 3 false");
  auto latest = ctr({"inspect", "-l", "--format", "{{.Name}}"});
  EXPECT_EQ(first_line(latest.out), "three") << latest.describe();
}

TEST_F(CtrContainerTest, InspectMissingNamesImagesAndBadTemplates) {
  ASSERT_EQ(ctr({"create", "--name", "box", "busybox", "true"}).code, 0);
  // Every object found is printed, then the missing ones are errors (125).
  auto mixed = ctr({"inspect", "--format", "{{.Name}}", "box", "nosuch"});
  EXPECT_EQ(mixed.code, 125) << mixed.describe();
  EXPECT_EQ(first_line(mixed.out), "box");
  EXPECT_NE(mixed.err.find("no such object: \"nosuch\""), std::string::npos) << mixed.err;
  // A name that is only an image: the image's object (default type).
  auto image = ctr({"inspect", "--format", "{{.Id}}", "busybox"});
  ASSERT_EQ(image.code, 0) << image.describe();
  EXPECT_EQ(first_line(image.out).size(), 64u);
  auto typed = ctr({"inspect", "--type", "image", "--format", "{{.RepoTags}}", "busybox"});
  EXPECT_EQ(typed.code, 0) << typed.describe();
  auto not_container = ctr({"container", "inspect", "busybox"});
  EXPECT_EQ(not_container.code, 125);
  EXPECT_NE(not_container.err.find("no such container busybox"), std::string::npos) << not_container.err;
  auto bad_type = ctr({"inspect", "--type", "pod", "box"});
  EXPECT_EQ(bad_type.code, 125);
  EXPECT_NE(bad_type.err.find("invalid type \"pod\""), std::string::npos) << bad_type.err;
  auto bad_field = ctr({"inspect", "--format", "{{.Nope}}", "box"});
  EXPECT_EQ(bad_field.code, 125);
  EXPECT_NE(bad_field.err.find("Nope"), std::string::npos) << bad_field.err;
  auto unclosed = ctr({"inspect", "--format", "{{.Name", "box"});
  EXPECT_EQ(unclosed.code, 125);
  EXPECT_NE(unclosed.err.find("unclosed"), std::string::npos) << unclosed.err;
}

TEST_F(CtrContainerTest, PsFiltersJsonLatestAndLast) {
  ASSERT_EQ(ctr({"run", "-d", "--label", "tier=front", "--name", "web-1", "busybox", "sleep", "100"}).code, 0);
  ASSERT_EQ(ctr({"run", "--name", "job", "busybox", "sh", "-c", "exit 2"}).code, 2);
  ASSERT_EQ(ctr({"create", "--name", "web-2", "busybox", "true"}).code, 0);
  auto names = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "ps");
    args.insert(args.end(), {"--format", "{{.Names}}"});
    auto out = ctr(args);
    EXPECT_EQ(out.code, 0) << out.describe();
    std::vector<std::string> lines;
    for (auto& line : split(std::string(trim(out.out)), '\n'))
      if (!line.empty()) lines.push_back(line);
    return lines;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names({}), V{"web-1"});
  EXPECT_EQ(names({"-a"}), (V{"web-2", "job", "web-1"}));  // newest first
  EXPECT_EQ(names({"--filter", "status=exited"}), V{"job"});  // a status filter shows every state
  EXPECT_EQ(names({"-a", "--filter", "status=exited", "--filter", "status=created"}), (V{"web-2", "job"}));
  EXPECT_EQ(names({"-a", "--filter", "name=^web-[0-9]$"}), (V{"web-2", "web-1"}));
  EXPECT_EQ(names({"-a", "--filter", "name=web", "--filter", "status=running"}), V{"web-1"});
  EXPECT_EQ(names({"-a", "--filter", "label=tier=front"}), V{"web-1"});
  EXPECT_EQ(names({"-a", "--filter", "exited=2"}), V{"job"});
  EXPECT_EQ(names({"-a", "--filter", "ancestor=localhost/busybox"}).size(), 3u);
  EXPECT_EQ(names({"-l"}), V{"web-2"});
  EXPECT_EQ(names({"-n", "2"}), (V{"web-2", "job"}));
  EXPECT_EQ(names({"-a", "--sort", "names"}), (V{"job", "web-1", "web-2"}));

  auto as_json = ctr({"ps", "-a", "--format", "json", "--filter", "name=job"});
  ASSERT_EQ(as_json.code, 0) << as_json.describe();
  json rows = json::parse(as_json.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Names"], json::array({"job"}));
  EXPECT_EQ(rows[0]["State"], "exited");
  EXPECT_EQ(rows[0]["ExitCode"], 2);
  EXPECT_EQ(rows[0]["Exited"], true);
  EXPECT_EQ(rows[0]["Command"], json::array({"sh", "-c", "exit 2"}));
  EXPECT_EQ(rows[0]["Id"].get<std::string>().size(), 64u);
  for (const char* key : {"Image", "ImageID", "Created", "Status", "Pid", "Labels", "StartedAt", "ExitedAt"})
    EXPECT_TRUE(rows[0].contains(key)) << key;

  for (const std::string bad : {"foo=bar", "status=bogus", "name=["}) {
    auto out = ctr({"ps", "--filter", bad});
    EXPECT_EQ(out.code, 125) << bad;
    EXPECT_NE(out.err.find(bad), std::string::npos) << out.err;
  }
  EXPECT_EQ(ctr({"ps", "-l", "-n", "1"}).code, 125);
}

TEST_F(CtrContainerTest, RenameKeepsIdAndRefusesConflicts) {
  auto made = ctr({"create", "--name", "old", "busybox", "true"});
  ASSERT_EQ(made.code, 0) << made.describe();
  ASSERT_EQ(ctr({"create", "--name", "taken", "busybox", "true"}).code, 0);
  auto renamed = ctr({"rename", "old", "new"});
  EXPECT_EQ(renamed.code, 0) << renamed.describe();
  auto id = ctr({"inspect", "--format", "{{.Id}}", "new"});
  EXPECT_EQ(first_line(id.out), first_line(made.out));
  EXPECT_EQ(ctr({"inspect", "old"}).code, 125);
  auto conflict = ctr({"rename", "new", "taken"});
  EXPECT_EQ(conflict.code, 125);
  EXPECT_NE(conflict.err.find("already in use"), std::string::npos) << conflict.err;
  auto invalid = ctr({"container", "rename", "new", "bad name"});
  EXPECT_EQ(invalid.code, 125);
  EXPECT_NE(invalid.err.find("[a-zA-Z0-9][a-zA-Z0-9_.-]*"), std::string::npos) << invalid.err;
  auto missing = ctr({"rename", "nosuch", "x"});
  EXPECT_EQ(missing.code, 125);
  EXPECT_NE(missing.err.find("nosuch"), std::string::npos) << missing.err;
}

// 17 containers: two of them share the first hex digit of their IDs.
TEST_F(CtrContainerTest, AmbiguousPrefixIsAnErrorListingMatches) {
  std::map<char, std::string> by_first;
  std::string prefix;
  for (int i = 0; i < 17 && prefix.empty(); ++i) {
    auto made = ctr({"create", "busybox", "true"});
    ASSERT_EQ(made.code, 0) << made.describe();
    std::string id = first_line(made.out);
    if (by_first.count(id[0])) prefix = std::string(1, id[0]);
    by_first[id[0]] = id;
  }
  ASSERT_FALSE(prefix.empty());
  for (std::vector<std::string> args : {std::vector<std::string>{"inspect", prefix},
                                        std::vector<std::string>{"rm", prefix},
                                        std::vector<std::string>{"logs", prefix}}) {
    auto out = ctr(args);
    EXPECT_EQ(out.code, 125) << args[0] << ": " << out.describe();
    EXPECT_NE(out.err.find("more than one container matches"), std::string::npos) << out.err;
    EXPECT_NE(out.err.find(by_first[prefix[0]].substr(0, 12)), std::string::npos) << out.err;
  }
  // A unique prefix and the full ID both work.
  const std::string& id = by_first[prefix[0]];
  EXPECT_EQ(ctr({"inspect", "--format", "{{.Id}}", id}).code, 0);
  EXPECT_EQ(first_line(ctr({"inspect", "--format", "{{.Id}}", id.substr(0, 12)}).out), id);
}

}  // namespace
}  // namespace ctr::itest
