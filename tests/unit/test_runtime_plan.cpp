// Plan building: the parent's decisions, checked without running anything.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/base/files.h"
#include "runtime/plan.h"
#include "runtime/spec.h"

using namespace ctr;
using nlohmann::json;

namespace {

class Plan : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("ctr-plan-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    ASSERT_TRUE(mkdir_p(dir_->path() + "/rootfs"));
    config_ = json::parse(spec::default_spec_json(true));
    config_["process"]["terminal"] = false;
  }

  Result<std::unique_ptr<PlanStorage>> build() {
    auto spec = spec::parse_spec(config_.dump(), dir_->path());
    if (!spec) return std::move(spec).error();
    spec_ = std::move(*spec);
    CreatePlanInputs inputs;
    inputs.spec = &spec_;
    inputs.id = "c1";
    inputs.bundle = dir_->path();
    return build_create_plan(inputs);
  }

  const child::MountStep* mount_at(const child::Plan& plan, const std::string& destination) {
    for (const auto& step : plan.mounts)
      if (destination == step.destination) return &step;
    return nullptr;
  }

  std::optional<TempDir> dir_;
  json config_;
  spec::Spec spec_;
};

TEST_F(Plan, RootlessSpecCreatesEveryNamespaceButTheNetwork) {
  auto storage = build();
  ASSERT_TRUE(storage) << storage.error().message;
  const auto& plan = (*storage)->plan;
  for (unsigned long flag : {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWUTS})
    EXPECT_TRUE(plan.clone_flags & flag) << std::hex << flag;
  EXPECT_FALSE(plan.clone_flags & CLONE_NEWNET);
  EXPECT_TRUE(plan.wait_for_maps);
  EXPECT_TRUE(plan.user_namespace);
  EXPECT_FALSE(plan.loopback_up);
  EXPECT_EQ(plan.joins.count, 0);
  EXPECT_EQ(std::string(plan.rootfs), dir_->path() + "/rootfs");
  EXPECT_TRUE(plan.rootfs_readonly);
}

TEST_F(Plan, NewNetworkNamespaceBringsLoopbackUp) {
  config_["linux"]["namespaces"].push_back({{"type", "network"}});
  auto storage = build();
  ASSERT_TRUE(storage) << storage.error().message;
  EXPECT_TRUE((*storage)->plan.clone_flags & CLONE_NEWNET);
  EXPECT_TRUE((*storage)->plan.loopback_up);
}

TEST_F(Plan, SysfsWithoutOwnNetworkNamespaceBecomesABindOfTheHostSys) {
  config_["mounts"].push_back({{"destination", "/sys2"}, {"type", "sysfs"}, {"source", "sysfs"},
                               {"options", {"nosuid", "ro"}}});
  auto storage = build();
  ASSERT_TRUE(storage) << storage.error().message;
  const auto* step = mount_at((*storage)->plan, "/sys2");
  ASSERT_NE(step, nullptr);
  EXPECT_TRUE(step->bind);
  EXPECT_EQ(std::string(step->source), "/sys");
  EXPECT_TRUE(step->flags & MS_BIND);
  EXPECT_TRUE(step->flags & MS_REC);
  EXPECT_TRUE(step->flags & MS_RDONLY);
}

TEST_F(Plan, DevptsDropsGidOfAnUnmappedGroup) {
  config_["mounts"].push_back({{"destination", "/dev/pts2"}, {"type", "devpts"}, {"source", "devpts"},
                               {"options", {"newinstance", "ptmxmode=0666", "gid=5"}}});
  auto storage = build();
  ASSERT_TRUE(storage) << storage.error().message;
  const auto* step = mount_at((*storage)->plan, "/dev/pts2");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(std::string(step->data), "newinstance,ptmxmode=0666");
}

TEST_F(Plan, DevicesAreBoundFromTheHostInAUserNamespaceWithDevSymlinks) {
  auto storage = build();
  ASSERT_TRUE(storage) << storage.error().message;
  const auto& plan = (*storage)->plan;
  ASSERT_EQ(plan.devices.count, 6);
  for (const auto& device : plan.devices) EXPECT_TRUE(device.bind_from_host) << device.path;
  std::vector<std::string> links;
  for (const auto& link : plan.symlinks) links.push_back(std::string(link.path) + "->" + link.target);
  EXPECT_NE(std::find(links.begin(), links.end(), "/dev/fd->/proc/self/fd"), links.end());
  EXPECT_NE(std::find(links.begin(), links.end(), "/dev/stderr->/proc/self/fd/2"), links.end());
  EXPECT_NE(std::find(links.begin(), links.end(), "/dev/ptmx->pts/ptmx"), links.end());
}

TEST_F(Plan, CapabilitiesBecomeMasks) {
  config_["process"]["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_KILL"}},
                                        {"effective", {"CAP_KILL"}},
                                        {"permitted", {"CAP_CHOWN", "CAP_KILL"}}};
  auto storage = build();
  ASSERT_TRUE(storage) << storage.error().message;
  const auto& plan = (*storage)->plan;
  EXPECT_TRUE(plan.set_capabilities);
  EXPECT_EQ(plan.cap_bounding, (1u << 0) | (1u << 5));
  EXPECT_EQ(plan.cap_effective, 1u << 5);
  EXPECT_EQ(plan.cap_inheritable, 0u);
}

TEST_F(Plan, SysctlKeysBecomeProcPaths) {
  config_["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  auto storage = build();
  ASSERT_TRUE(storage) << storage.error().message;
  ASSERT_EQ((*storage)->plan.sysctls.count, 1);
  EXPECT_EQ(std::string((*storage)->plan.sysctls.items[0].path), "/proc/sys/net/ipv4/ip_forward");
}

TEST_F(Plan, ExecutableSearchUsesThePathFromTheEnvironment) {
  config_["process"]["env"] = {"PATH=/opt/bin:/bin", "A=b"};
  auto storage = build();
  ASSERT_TRUE(storage) << storage.error().message;
  EXPECT_STREQ((*storage)->plan.search_path, "/opt/bin:/bin");
  EXPECT_STREQ((*storage)->plan.envp[1], "A=b");
  EXPECT_EQ((*storage)->plan.envp[2], nullptr);
}

TEST_F(Plan, SeccompIsCompiledInTheParent) {
  config_["linux"]["seccomp"] = json::parse(
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]})");
  auto storage = build();
  ASSERT_TRUE(storage) << storage.error().message;
  EXPECT_NE((*storage)->plan.seccomp_filter, nullptr);
  EXPECT_GT((*storage)->plan.seccomp_length, 3);
}

struct BadSpecCase {
  const char* name;
  std::function<void(json&)> edit;
  const char* message_part;
};

class PlanRefuses : public Plan, public ::testing::WithParamInterface<BadSpecCase> {};

TEST_P(PlanRefuses, NamingTheField) {
  GetParam().edit(config_);
  auto storage = build();
  ASSERT_FALSE(storage) << GetParam().name;
  EXPECT_NE(storage.error().message.find(GetParam().message_part), std::string::npos) << storage.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PlanRefuses,
    ::testing::Values(
        BadSpecCase{"unknown_mount_type",
                    [](json& c) { c["mounts"].push_back({{"destination", "/x"}, {"type", "bogusfs"}}); },
                    "unknown mount type `bogusfs`"},
        BadSpecCase{"missing_bind_source",
                    [](json& c) {
                      c["mounts"].push_back(
                          {{"destination", "/x"}, {"type", "bind"}, {"source", "/nonexistent/src"}, {"options", {"bind"}}});
                    },
                    "bind source `/nonexistent/src` does not exist"},
        BadSpecCase{"hostname_without_uts",
                    [](json& c) {
                      auto& ns = c["linux"]["namespaces"];
                      for (size_t i = 0; i < ns.size(); ++i)
                        if (ns[i]["type"] == "uts") ns.erase(i);
                      c["hostname"] = "h";
                    },
                    "hostname"},
        BadSpecCase{"time_namespace", [](json& c) { c["linux"]["namespaces"].push_back({{"type", "time"}}); },
                    "time namespaces"},
        BadSpecCase{"userns_without_maps", [](json& c) { c["linux"].erase("uidMappings"); }, "uidMappings"},
        BadSpecCase{"no_mount_namespace",
                    [](json& c) {
                      auto& ns = c["linux"]["namespaces"];
                      for (size_t i = 0; i < ns.size(); ++i)
                        if (ns[i]["type"] == "mount") ns.erase(i);
                    },
                    "mount namespace"},
        BadSpecCase{"namespace_path_missing",
                    [](json& c) { c["linux"]["namespaces"].push_back({{"type", "network"}, {"path", "/nonexistent/ns"}}); },
                    "network namespace path"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
