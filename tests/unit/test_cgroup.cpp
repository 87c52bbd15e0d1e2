// Cgroup managers, resources and their conversions (runtime/cgroup*.h,
// cmd/cgroup_flags.h): pure functions, no cgroup is touched.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cmd/cgroup_flags.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_manager.h"
#include "runtime/cgroup_systemd.h"

namespace ctr {
namespace {

using cgroup::Layout;
using cgroup::Manager;

cgroup::ManagerInputs inputs(Layout layout, bool bus, bool writable) {
  cgroup::ManagerInputs in;
  in.layout = layout;
  in.user_bus = bus;
  in.own_writable = writable;
  return in;
}

TEST(CgroupLayout, Classify) {
  EXPECT_EQ(cgroup::classify_layout(true, false, false), Layout::v2);
  EXPECT_EQ(cgroup::classify_layout(false, true, true), Layout::hybrid);
  EXPECT_EQ(cgroup::classify_layout(false, false, true), Layout::v1);
  EXPECT_EQ(cgroup::classify_layout(false, false, false), Layout::none);
}

TEST(CgroupLayout, OwnCgroupFromProc) {
  EXPECT_EQ(cgroup::v2_path_from_proc("12:pids:/user.slice\n0::/user.slice/user-1000.slice/session-2.scope\n"),
            "/user.slice/user-1000.slice/session-2.scope");
  EXPECT_EQ(cgroup::v2_path_from_proc("1:name=systemd:/\n"), "");
}

TEST(CgroupManager, AutomaticChoice) {
  auto pick = [](cgroup::ManagerInputs in) { return cgroup::choose_manager(in, std::nullopt)->manager; };
  EXPECT_EQ(pick(inputs(Layout::v2, true, true)), Manager::systemd);
  EXPECT_EQ(pick(inputs(Layout::hybrid, true, false)), Manager::systemd);
  EXPECT_EQ(pick(inputs(Layout::v2, false, true)), Manager::cgroupfs);
  EXPECT_EQ(pick(inputs(Layout::v2, false, false)), Manager::none);
  EXPECT_EQ(pick(inputs(Layout::v1, true, true)), Manager::none);
  EXPECT_EQ(pick(inputs(Layout::none, false, false)), Manager::none);
  auto none = cgroup::choose_manager(inputs(Layout::hybrid, false, false), std::nullopt);
  EXPECT_NE(none->reason.find("no systemd user bus"), std::string::npos) << none->reason;
  EXPECT_NE(cgroup::choose_manager(inputs(Layout::v1, false, false), std::nullopt)->reason.find("v1"),
            std::string::npos);
}

TEST(CgroupManager, RequestedChoice) {
  EXPECT_EQ(cgroup::choose_manager(inputs(Layout::v2, true, true), Manager::none)->manager, Manager::none);
  EXPECT_EQ(cgroup::choose_manager(inputs(Layout::v2, true, true), Manager::cgroupfs)->manager, Manager::cgroupfs);
  auto no_bus = cgroup::choose_manager(inputs(Layout::v2, false, true), Manager::systemd);
  ASSERT_FALSE(no_bus);
  EXPECT_NE(no_bus.error().message.find("user bus"), std::string::npos) << no_bus.error().message;
  EXPECT_FALSE(cgroup::choose_manager(inputs(Layout::v1, true, true), Manager::systemd));
  auto not_writable = cgroup::choose_manager(inputs(Layout::v2, true, false), Manager::cgroupfs);
  ASSERT_FALSE(not_writable);
  EXPECT_NE(not_writable.error().message.find("not delegated"), std::string::npos);
  EXPECT_FALSE(cgroup::parse_manager("cgroupv1"));
}

TEST(CgroupManager, CgroupsMode) {
  cgroup::ManagerChoice systemd{Manager::systemd, "bus"};
  auto in = inputs(Layout::v2, true, true);
  EXPECT_EQ(cgroup::choose_for_container(systemd, in, cgroup::CgroupsMode::enabled)->manager, Manager::systemd);
  EXPECT_EQ(cgroup::choose_for_container(systemd, in, cgroup::CgroupsMode::disabled)->manager, Manager::none);
  EXPECT_EQ(cgroup::choose_for_container(systemd, in, cgroup::CgroupsMode::split)->manager, Manager::cgroupfs);
  EXPECT_FALSE(cgroup::choose_for_container(systemd, inputs(Layout::v2, true, false), cgroup::CgroupsMode::split));
  EXPECT_FALSE(cgroup::parse_cgroups_mode("no-conmon"));
  EXPECT_FALSE(cgroup::parse_cgroups_mode("on"));
  EXPECT_EQ(*cgroup::parse_cgroups_mode("split"), cgroup::CgroupsMode::split);
}

TEST(CgroupConversions, SharesToWeight) {
  EXPECT_EQ(cgroup::shares_to_weight(2), 1u);
  EXPECT_EQ(cgroup::shares_to_weight(1024), 39u);  // crun's value for the default shares
  EXPECT_EQ(cgroup::shares_to_weight(262144), 10000u);
  EXPECT_EQ(cgroup::blkio_to_io_weight(10), 1u);
  EXPECT_EQ(cgroup::blkio_to_io_weight(1000), 10000u);
}

TEST(CgroupConversions, V2Files) {
  cgroup::Resources r;
  r.memory_limit = 512 << 20;
  r.memory_swap = 1024 << 20;
  r.memory_reservation = 256 << 20;
  r.cpu_quota = 150000;
  r.cpu_period = 100000;
  r.cpu_shares = 1024;
  r.cpuset_cpus = "0-1";
  r.pids_limit = 100;
  r.blkio_weight = 500;
  r.read_bps = {{8, 0, 1048576}};
  auto files = cgroup::v2_files(r);
  ASSERT_TRUE(files) << files.error().message;
  std::map<std::string, std::string> by_file;
  for (const auto& f : *files) by_file[f.file] += f.value;
  EXPECT_EQ(by_file["memory.max"], std::to_string(512 << 20));
  EXPECT_EQ(by_file["memory.swap.max"], std::to_string(512 << 20));  // swap alone
  EXPECT_EQ(by_file["memory.low"], std::to_string(256 << 20));
  EXPECT_EQ(by_file["cpu.max"], "150000 100000");
  EXPECT_EQ(by_file["cpu.weight"], "39");
  EXPECT_EQ(by_file["cpuset.cpus"], "0-1");
  EXPECT_EQ(by_file["pids.max"], "100");
  EXPECT_EQ(by_file["io.weight"], "default 4950");
  EXPECT_EQ(by_file["io.max"], "8:0 rbps=1048576");
  cgroup::Resources unlimited;
  unlimited.memory_limit = 64 << 20;
  unlimited.memory_swap = -1;
  unlimited.pids_limit = 0;
  unlimited.cpu_period = 50000;
  files = cgroup::v2_files(unlimited);
  ASSERT_TRUE(files);
  by_file.clear();
  for (const auto& f : *files) by_file[f.file] = f.value;
  EXPECT_EQ(by_file["memory.swap.max"], "max");
  EXPECT_EQ(by_file["pids.max"], "max");
  EXPECT_EQ(by_file["cpu.max"], "max 50000");
  cgroup::Resources bad;
  bad.memory_limit = 100 << 20;
  bad.memory_swap = 50 << 20;
  EXPECT_FALSE(cgroup::v2_files(bad));
  EXPECT_EQ(cgroup::controllers_for(r), (std::vector<std::string>{"memory", "cpu", "cpuset", "io", "pids"}));
}

TEST(CgroupResources, JsonRoundTrip) {
  cgroup::Resources r;
  r.memory_limit = 1 << 30;
  r.cpu_shares = 512;
  r.cpuset_mems = "0";
  r.pids_limit = -1;
  r.write_bps = {{8, 16, 4096}};
  auto back = cgroup::parse_resources(cgroup::resources_json(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->memory_limit, r.memory_limit);
  EXPECT_EQ(back->cpu_shares, r.cpu_shares);
  EXPECT_EQ(back->cpuset_mems, "0");
  EXPECT_EQ(back->pids_limit, -1);
  ASSERT_EQ(back->write_bps.size(), 1u);
  EXPECT_EQ(back->write_bps[0].minor, 16);
  // podman's default resources (devices only) hold nothing we enforce.
  auto devices = cgroup::parse_resources(R"({"devices":[{"allow":false,"access":"rwm"}]})");
  ASSERT_TRUE(devices);
  EXPECT_TRUE(devices->empty());
  auto wrong = cgroup::parse_resources(R"({"memory":{"limit":"1g"}})");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("linux.resources.memory.limit"), std::string::npos) << wrong.error().message;
  EXPECT_FALSE(cgroup::parse_resources(R"({"cpu":{"shares":-5}})"));
}

TEST(CgroupPaths, SystemdAndCgroupfs) {
  auto p = cgroup::parse_systemd_path("user.slice:ctr:abc");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->slice, "user.slice");
  EXPECT_EQ(p->unit(), "ctr-abc.scope");
  EXPECT_EQ(cgroup::parse_systemd_path(":libpod:x")->unit(), "libpod-x.scope");
  EXPECT_FALSE(cgroup::parse_systemd_path("/user.slice/ctr-abc/container"));
  EXPECT_FALSE(cgroup::parse_systemd_path("a:b"));
  cgroup::Host host;
  host.v2_mount = "/sys/fs/cgroup";
  host.own = "/user.slice/user@1000.service/app.slice/x.scope/supervisor";
  EXPECT_EQ(cgroup::resolve_cgroupfs_path("/a/b", host), "/sys/fs/cgroup/a/b");
  // runc: relative to the parent of our own cgroup.
  EXPECT_EQ(cgroup::resolve_cgroupfs_path("container", host),
            "/sys/fs/cgroup/user.slice/user@1000.service/app.slice/x.scope/container");
}

TEST(CgroupSystemd, CpuListMask) {
  auto mask = cgroup::cpu_list_mask("0-2,9");
  ASSERT_TRUE(mask);
  EXPECT_EQ(*mask, (std::vector<uint8_t>{0x07, 0x02}));
  EXPECT_FALSE(cgroup::cpu_list_mask("3-1"));
  EXPECT_FALSE(cgroup::cpu_list_mask("a"));
  EXPECT_FALSE(cgroup::cpu_list_mask(""));
}

TEST(CgroupSystemd, ScopeProperties) {
  cgroup::ScopeRequest request;
  request.unit = "ctr-x.scope";
  request.slice = "user.slice";
  request.pids = {42, 43};
  request.resources.memory_limit = 512 << 20;
  request.resources.memory_swap = 1024 << 20;
  request.resources.memory_reservation = 1 << 20;
  request.resources.cpu_quota = 150000;
  request.resources.cpu_period = 100000;
  request.resources.cpu_shares = 1024;
  request.resources.cpuset_cpus = "0";
  request.resources.pids_limit = 100;
  request.resources.blkio_weight = 1000;
  request.resources.read_bps = {{8, 0, 1000}};
  auto props = cgroup::scope_properties(request);
  ASSERT_TRUE(props) << props.error().message;
  std::map<std::string, const cgroup::UnitProperty*> by_name;
  for (const auto& p : *props) by_name[p.name] = &p;
  ASSERT_TRUE(by_name.count("Delegate"));
  EXPECT_TRUE(by_name["Delegate"]->flag);
  EXPECT_EQ(by_name["Slice"]->text, "user.slice");
  EXPECT_EQ(by_name["PIDs"]->pids, (std::vector<uint32_t>{42, 43}));
  EXPECT_EQ(by_name["MemoryMax"]->number, uint64_t(512) << 20);
  EXPECT_EQ(by_name["MemorySwapMax"]->number, uint64_t(512) << 20);
  EXPECT_EQ(by_name["MemoryLow"]->number, uint64_t(1) << 20);
  EXPECT_EQ(by_name["CPUQuotaPerSecUSec"]->number, 1500000u);
  EXPECT_EQ(by_name["CPUQuotaPeriodUSec"]->number, 100000u);
  EXPECT_EQ(by_name["CPUWeight"]->number, 39u);
  EXPECT_EQ(by_name["AllowedCPUs"]->bytes, (std::vector<uint8_t>{1}));
  EXPECT_EQ(by_name["TasksMax"]->number, 100u);
  EXPECT_EQ(by_name["IOWeight"]->number, 10000u);
  ASSERT_EQ(by_name["IOReadBandwidthMax"]->bandwidth.size(), 1u);
  EXPECT_EQ(by_name["IOReadBandwidthMax"]->bandwidth[0].first, "/dev/block/8:0");
  cgroup::ScopeRequest unlimited;
  unlimited.resources.pids_limit = -1;
  auto u = cgroup::scope_properties(unlimited);
  ASSERT_TRUE(u);
  for (const auto& p : *u)
    if (p.name == "TasksMax") {
      EXPECT_EQ(p.number, UINT64_MAX);
    }
}

// --- ctr's flags ---

Result<std::pair<int64_t, int64_t>> fake_device(const std::string& path) {
  if (path == "/dev/sda") return std::pair<int64_t, int64_t>{8, 0};
  return make_error("device `" + path + "`: No such file or directory", ENOENT);
}

TEST(CgroupFlags, Sizes) {
  EXPECT_EQ(*cmd::parse_ram_size("512m", "--memory"), 512LL << 20);
  EXPECT_EQ(*cmd::parse_ram_size("1g", "--memory"), 1LL << 30);
  EXPECT_EQ(*cmd::parse_ram_size("1G", "--memory"), 1LL << 30);
  EXPECT_EQ(*cmd::parse_ram_size("1gb", "--memory"), 1LL << 30);
  EXPECT_EQ(*cmd::parse_ram_size("1024", "--memory"), 1024);
  EXPECT_EQ(*cmd::parse_ram_size("1.5k", "--memory"), 1536);
  auto bad = cmd::parse_ram_size("12x", "--memory");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--memory"), std::string::npos);
  EXPECT_FALSE(cmd::parse_ram_size("", "--memory"));
  EXPECT_FALSE(cmd::parse_ram_size("-5m", "--memory"));
}

TEST(CgroupFlags, CpusToQuota) {
  EXPECT_EQ(*cmd::cpus_to_quota("1.5", 100000), 150000);
  EXPECT_EQ(*cmd::cpus_to_quota("0.01", 100000), 1000);
  EXPECT_FALSE(cmd::cpus_to_quota("0", 100000));
  EXPECT_FALSE(cmd::cpus_to_quota("two", 100000));
}

TEST(CgroupFlags, ParseAll) {
  cmd::ResourceFlags f;
  f.memory = "512m";
  f.memory_swap = "1g";
  f.cpus = "1.5";
  f.cpu_shares = "512";
  f.cpuset_cpus = "0-1";
  f.pids_limit = "100";
  f.blkio_weight = "300";
  f.device_read_bps = {"/dev/sda:1mb"};
  f.oom_score_adj = "500";
  auto parsed = cmd::parse_resource_flags(f, fake_device);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->limits.memory_limit, 512LL << 20);
  EXPECT_EQ(parsed->limits.memory_swap, 1LL << 30);
  EXPECT_EQ(parsed->limits.cpu_quota, 150000);
  EXPECT_EQ(parsed->limits.cpu_period, 100000u);
  EXPECT_EQ(parsed->limits.cpu_shares, 512u);
  EXPECT_EQ(parsed->limits.pids_limit, 100);
  EXPECT_TRUE(parsed->pids_limit_set);
  EXPECT_EQ(parsed->limits.blkio_weight, 300);
  ASSERT_EQ(parsed->limits.read_bps.size(), 1u);
  EXPECT_EQ(parsed->limits.read_bps[0].rate, 1u << 20);
  EXPECT_EQ(parsed->oom_score_adj, 500);
}

TEST(CgroupFlags, BadValues) {
  auto error_of = [](cmd::ResourceFlags f) {
    auto parsed = cmd::parse_resource_flags(f, fake_device);
    return parsed ? std::string() : parsed.error().message;
  };
  cmd::ResourceFlags f;
  f.memory = "1m";
  EXPECT_NE(error_of(f).find("6MB"), std::string::npos);
  f = {};
  f.memory_swap = "1g";
  EXPECT_NE(error_of(f).find("memory limit"), std::string::npos);
  f = {};
  f.memory = "1g";
  f.memory_swap = "512m";
  EXPECT_NE(error_of(f).find("--memory-swap"), std::string::npos);
  f = {};
  f.cpus = "1";
  f.cpu_quota = "50000";
  EXPECT_NE(error_of(f).find("cannot be set together"), std::string::npos);
  f = {};
  f.cpu_shares = "1";
  EXPECT_NE(error_of(f).find("--cpu-shares"), std::string::npos);
  f = {};
  f.cpuset_cpus = "1-0";
  EXPECT_NE(error_of(f).find("--cpuset-cpus"), std::string::npos);
  f = {};
  f.blkio_weight = "5";
  EXPECT_NE(error_of(f).find("10 to 1000"), std::string::npos);
  f = {};
  f.device_write_bps = {"/dev/nope:1mb"};
  EXPECT_NE(error_of(f).find("/dev/nope"), std::string::npos);
  f = {};
  f.device_write_bps = {"sda"};
  EXPECT_NE(error_of(f).find("DEVICE:RATE"), std::string::npos);
  f = {};
  f.oom_score_adj = "1001";
  EXPECT_NE(error_of(f).find("-1000 to 1000"), std::string::npos);
  f = {};
  f.pids_limit = "many";
  EXPECT_NE(error_of(f).find("--pids-limit"), std::string::npos);
}

cmd::CgroupFacts facts(Layout layout, bool bus, bool writable, std::vector<std::string> controllers) {
  cmd::CgroupFacts f;
  f.host.layout = layout;
  f.host.v2_mount = "/sys/fs/cgroup";
  f.host.own = "/user.slice/user@1000.service/app.slice/run-1.service";
  f.inputs = inputs(layout, bus, writable);
  f.own_controllers = std::move(controllers);
  return f;
}

TEST(CgroupPlan, Systemd) {
  auto f = facts(Layout::v2, true, true, {"cpu", "memory", "pids"});
  auto global = cgroup::choose_manager(f.inputs, std::nullopt);
  cmd::ResourceFlags flags;
  cmd::ParsedResources none;
  auto plan = cmd::plan_cgroup(*global, f, flags, none, "abc");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->manager, Manager::systemd);
  EXPECT_EQ(plan->cgroups_path, "user.slice:ctr:abc");
  EXPECT_EQ(plan->limits.pids_limit, 2048);  // podman's default with pids delegated
  flags.cgroup_parent = "my.slice";
  EXPECT_EQ(cmd::plan_cgroup(*global, f, flags, none, "abc")->cgroups_path, "my.slice:ctr:abc");
  flags.cgroup_parent = "/not/a/slice";
  EXPECT_FALSE(cmd::plan_cgroup(*global, f, flags, none, "abc"));
  // No pids controller: no default.
  auto bare = facts(Layout::v2, true, true, {});
  flags = {};
  EXPECT_FALSE(cmd::plan_cgroup(*global, bare, flags, none, "abc")->limits.pids_limit);
}

TEST(CgroupPlan, CgroupfsAndSplit) {
  auto f = facts(Layout::v2, false, true, {"memory"});
  auto global = cgroup::choose_manager(f.inputs, std::nullopt);
  cmd::ResourceFlags flags;
  cmd::ParsedResources limits;
  limits.limits.memory_limit = 64 << 20;
  auto plan = cmd::plan_cgroup(*global, f, flags, limits, "abc");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->manager, Manager::cgroupfs);
  EXPECT_EQ(plan->cgroups_path, "/user.slice/user@1000.service/app.slice/run-1.service/ctr-abc/container");
  limits.limits.pids_limit = 10;  // pids is not delegated here
  auto refused = cmd::plan_cgroup(*global, f, flags, limits, "abc");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("pids"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("delegate.conf"), std::string::npos);
  // split with a bus: below our own cgroup all the same.
  auto with_bus = facts(Layout::v2, true, true, {});
  flags.cgroups = "split";
  auto split = cmd::plan_cgroup(*cgroup::choose_manager(with_bus.inputs, std::nullopt), with_bus, flags, {}, "abc");
  ASSERT_TRUE(split) << split.error().message;
  EXPECT_EQ(split->manager, Manager::cgroupfs);
}

TEST(CgroupPlan, NoneRefusesLimits) {
  auto f = facts(Layout::hybrid, false, false, {});
  auto global = cgroup::choose_manager(f.inputs, std::nullopt);
  cmd::ResourceFlags flags;
  auto plan = cmd::plan_cgroup(*global, f, flags, {}, "abc");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->manager, Manager::none);
  EXPECT_EQ(plan->cgroups_path, "");
  cmd::ParsedResources limits;
  limits.limits.memory_limit = 64 << 20;
  auto refused = cmd::plan_cgroup(*global, f, flags, limits, "abc");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("memory controller"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("Delegate=cpu cpuset io memory pids"), std::string::npos);
  flags.cgroup_parent = "x.slice";
  EXPECT_FALSE(cmd::plan_cgroup(*global, f, flags, {}, "abc"));
  // --cgroups=disabled on a systemd host: none, and limits refused.
  auto sd = facts(Layout::v2, true, true, {});
  cmd::ResourceFlags disabled;
  disabled.cgroups = "disabled";
  EXPECT_EQ(cmd::plan_cgroup(*cgroup::choose_manager(sd.inputs, std::nullopt), sd, disabled, {}, "abc")->manager,
            Manager::none);
}

}  // namespace
}  // namespace ctr
