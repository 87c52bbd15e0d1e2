// The pure parts of inspect, ps filters, restart policies and log windows:
// cmd/ps_filter.cpp, cmd/container_restart.cpp (parsing and the policy
// decision), cmd/output.cpp (times and durations).
#include <gtest/gtest.h>

#include "cmd/container_restart.h"
#include "cmd/output.h"
#include "cmd/ps_filter.h"

namespace ctr::cmd {
namespace {

ContainerRecord record_named(const std::string& name, const std::string& id) {
  ContainerRecord record;
  record.name = name;
  record.id = id;
  record.image_id = "sha256:5dd3c89557cbcd21b2f9843df0e38413ea32570cda454c9bf1c4237188098045";
  return record;
}

bool matches(const std::vector<std::string>& specs, const ContainerRecord& record, const std::string& state,
             int exit_code = -1, const std::string& image = "localhost/busybox:latest") {
  auto filter = PsFilter::parse(specs);
  EXPECT_TRUE(filter.ok()) << filter.error().message;
  return filter && filter->matches({&record, state, exit_code, image});
}

TEST(CmdPsFilter, SameKeyIsOrDifferentKeysAreAnd) {
  auto web = record_named("web", "aaa111");
  EXPECT_TRUE(matches({"status=running", "status=exited"}, web, "exited", 0));
  EXPECT_FALSE(matches({"status=running", "status=created"}, web, "exited", 0));
  EXPECT_TRUE(matches({"status=exited", "name=we"}, web, "exited", 0));
  EXPECT_FALSE(matches({"status=exited", "name=db"}, web, "exited", 0));
  EXPECT_TRUE(matches({"name=db", "name=^w.b$"}, web, "running"));
}

TEST(CmdPsFilter, NameIsAnUnanchoredRegex) {
  auto web = record_named("my-web-1", "aaa111");
  EXPECT_TRUE(matches({"name=web"}, web, "running"));
  EXPECT_TRUE(matches({"name=^my-.*-[0-9]$"}, web, "running"));
  EXPECT_FALSE(matches({"name=^web"}, web, "running"));
}

TEST(CmdPsFilter, LabelsIdExitedAncestor) {
  auto box = record_named("box", "abc123def");
  box.labels = {{"tier", "front"}, {"debug", ""}};
  EXPECT_TRUE(matches({"label=tier"}, box, "running"));
  EXPECT_TRUE(matches({"label=tier=front"}, box, "running"));
  EXPECT_FALSE(matches({"label=tier=back"}, box, "running"));
  EXPECT_FALSE(matches({"label=other"}, box, "running"));
  EXPECT_TRUE(matches({"id=abc1"}, box, "running"));
  EXPECT_FALSE(matches({"id=bc"}, box, "running"));
  EXPECT_TRUE(matches({"exited=3"}, box, "exited", 3));
  EXPECT_FALSE(matches({"exited=3"}, box, "exited", 0));
  EXPECT_FALSE(matches({"exited=0"}, box, "running", -1));
  // podman: the image's full name, the name without :latest, or the full ID.
  EXPECT_TRUE(matches({"ancestor=localhost/busybox:latest"}, box, "running"));
  EXPECT_TRUE(matches({"ancestor=localhost/busybox"}, box, "running"));
  EXPECT_TRUE(matches({"ancestor=5dd3c89557cbcd21b2f9843df0e38413ea32570cda454c9bf1c4237188098045"}, box, "running"));
  EXPECT_TRUE(matches({"ancestor=" + box.image_id}, box, "running"));
  EXPECT_FALSE(matches({"ancestor=localhost/debian"}, box, "running"));
}

TEST(CmdPsFilter, BadFiltersAreErrorsNamingThem) {
  for (const std::string spec : {"foo=bar", "status=bogus", "exited=x", "name=[", "name", "=x", "id="}) {
    auto filter = PsFilter::parse({spec});
    ASSERT_FALSE(filter.ok()) << spec;
    EXPECT_NE(filter.error().message.find(spec), std::string::npos) << filter.error().message;
  }
}

TEST(CmdRestartPolicy, Parses) {
  auto policy = parse_restart_policy("on-failure:3");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->name, "on-failure");
  EXPECT_EQ(policy->max_retries, 3u);
  for (const std::string name : {"no", "always", "unless-stopped", "on-failure"}) {
    auto parsed = parse_restart_policy(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(parsed->name, name);
    EXPECT_EQ(parsed->max_retries, 0u);
  }
  EXPECT_EQ(parse_restart_policy("")->name, "no");
  for (const std::string bad : {"sometimes", "always:3", "on-failure:x", "on-failure:-1", "no:1"}) {
    auto parsed = parse_restart_policy(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message.find(bad), std::string::npos) << parsed.error().message;
  }
}

TEST(CmdRestartPolicy, Decides) {
  ContainerRecord record;
  record.restart_policy = "on-failure";
  record.restart_max = 2;
  EXPECT_TRUE(policy_restarts(record, 1, false));
  EXPECT_FALSE(policy_restarts(record, 0, false));
  EXPECT_FALSE(policy_restarts(record, 1, true));  // stopped by the user
  record.restart_count = 2;
  EXPECT_FALSE(policy_restarts(record, 1, false));  // retries used up
  record.restart_max = 0;
  EXPECT_TRUE(policy_restarts(record, 137, false));  // no limit
  record.restart_policy = "always";
  EXPECT_TRUE(policy_restarts(record, 0, false));
  EXPECT_FALSE(policy_restarts(record, 0, true));
  record.restart_policy = "unless-stopped";
  EXPECT_TRUE(policy_restarts(record, 0, false));
  record.restart_policy = "no";
  EXPECT_FALSE(policy_restarts(record, 1, false));
}

TEST(CmdTimes, Rfc3339NanoAsGo) {
  EXPECT_EQ(go_rfc3339_nano(0), "0001-01-01T00:00:00Z");
  EXPECT_EQ(go_rfc3339_nano(int64_t{1700000000} * 1000000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(go_rfc3339_nano(int64_t{1700000000} * 1000000000 + 120000000), "2023-11-14T22:13:20.12Z");
  EXPECT_EQ(go_rfc3339_nano(int64_t{1700000000} * 1000000000 + 1), "2023-11-14T22:13:20.000000001Z");
}

TEST(CmdTimes, ParsesRfc3339) {
  const int64_t base = int64_t{1700000000} * 1000000000;
  EXPECT_EQ(*parse_rfc3339_ns("2023-11-14T22:13:20Z"), base);
  EXPECT_EQ(*parse_rfc3339_ns("2023-11-14T22:13:20.5Z"), base + 500000000);
  EXPECT_EQ(*parse_rfc3339_ns("2023-11-14T23:13:20+01:00"), base);
  EXPECT_EQ(*parse_rfc3339_ns("2023-11-14T22:13:20.123456789+00:00"), base + 123456789);
  EXPECT_EQ(*parse_rfc3339_ns("2023-11-14"), base - (22 * 3600 + 13 * 60 + 20) * int64_t{1000000000});
  for (const std::string bad : {"", "yesterday", "2023-11-14T22:13", "2023-13-01", "2023-11-14T22:13:20+1"})
    EXPECT_FALSE(parse_rfc3339_ns(bad).ok()) << bad;
}

TEST(CmdTimes, ParsesGoDurations) {
  EXPECT_EQ(*parse_go_duration("10m"), int64_t{600} * 1000000000);
  EXPECT_EQ(*parse_go_duration("1h30m"), int64_t{5400} * 1000000000);
  EXPECT_EQ(*parse_go_duration("1.5s"), int64_t{1500000000});
  EXPECT_EQ(*parse_go_duration("300ms"), int64_t{300000000});
  EXPECT_EQ(*parse_go_duration("0"), 0);
  for (const std::string bad : {"", "10", "m", "10x", "1h30"}) EXPECT_FALSE(parse_go_duration(bad).ok()) << bad;
}

TEST(CmdTimes, InputTimeAsPodman) {
  const int64_t now = int64_t{1700000000} * 1000000000;
  EXPECT_EQ(*parse_input_time("10m", true, now), now - int64_t{600} * 1000000000);
  EXPECT_EQ(*parse_input_time("10m", false, now), now + int64_t{600} * 1000000000);
  EXPECT_EQ(*parse_input_time("1600000000", true, now), int64_t{1600000000} * 1000000000);
  EXPECT_EQ(*parse_input_time("1600000000.25", true, now), int64_t{1600000000} * 1000000000 + 250000000);
  EXPECT_EQ(*parse_input_time("2023-11-14T22:13:20Z", true, 0), now);
  auto bad = parse_input_time("bogus", true, now);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bogus"), std::string::npos);
}

}  // namespace
}  // namespace ctr::cmd
