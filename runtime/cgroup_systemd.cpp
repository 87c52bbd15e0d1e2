#include "runtime/cgroup_systemd.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>

#include "runtime/base/strings.h"

namespace ctr::cgroup {
namespace {

constexpr uint64_t kInfinity = UINT64_MAX;  // systemd's "infinity"
constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr uint64_t kCallTimeoutUsec = 25ull * 1000 * 1000;

struct BusDeleter {
  void operator()(sd_bus* bus) const { sd_bus_flush_close_unref(bus); }
};
using Bus = std::unique_ptr<sd_bus, BusDeleter>;
struct MessageDeleter {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageDeleter>;

// sd_bus_error freed on scope exit.
struct BusError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~BusError() { sd_bus_error_free(&e); }
  std::string text(int r) const { return e.message ? e.message : std::strerror(-r); }
};

Result<Bus> open_user_bus() {
  sd_bus* raw = nullptr;
  int r = sd_bus_open_user(&raw);
  if (r < 0) return make_error(std::string("connect to the systemd user bus: ") + std::strerror(-r), -r);
  return Bus(raw);
}

Status check(int r, const std::string& what) {
  if (r < 0) return make_error(what + ": " + std::strerror(-r), -r);
  return {};
}

uint64_t limit_value(int64_t v) {
  return v < 0 ? kInfinity : static_cast<uint64_t>(v);
}

UnitProperty u64(const char* name, uint64_t value) {
  UnitProperty p;
  p.name = name;
  p.number = value;
  return p;
}

Status append_property(sd_bus_message* m, const UnitProperty& p) {
  using Kind = UnitProperty::Kind;
  const char* signature = p.kind == Kind::u64       ? "t"
                          : p.kind == Kind::text    ? "s"
                          : p.kind == Kind::boolean ? "b"
                          : p.kind == Kind::pids    ? "au"
                          : p.kind == Kind::bytes   ? "ay"
                                                    : "a(st)";
  std::string what = "unit property " + p.name;
  TRY(check(sd_bus_message_open_container(m, 'r', "sv"), what));
  TRY(check(sd_bus_message_append_basic(m, 's', p.name.c_str()), what));
  TRY(check(sd_bus_message_open_container(m, 'v', signature), what));
  int r = 0;
  switch (p.kind) {
    case Kind::u64: r = sd_bus_message_append_basic(m, 't', &p.number); break;
    case Kind::text: r = sd_bus_message_append_basic(m, 's', p.text.c_str()); break;
    case Kind::boolean: {
      int flag = p.flag;
      r = sd_bus_message_append_basic(m, 'b', &flag);
      break;
    }
    case Kind::pids: r = sd_bus_message_append_array(m, 'u', p.pids.data(), p.pids.size() * sizeof(uint32_t)); break;
    case Kind::bytes: r = sd_bus_message_append_array(m, 'y', p.bytes.data(), p.bytes.size()); break;
    case Kind::bandwidth:
      r = sd_bus_message_open_container(m, 'a', "(st)");
      for (const auto& [device, rate] : p.bandwidth)
        if (r >= 0) r = sd_bus_message_append(m, "(st)", device.c_str(), rate);
      if (r >= 0) r = sd_bus_message_close_container(m);
      break;
  }
  TRY(check(r, what));
  TRY(check(sd_bus_message_close_container(m), what));
  return check(sd_bus_message_close_container(m), what);
}

struct JobWatch {
  std::string job;  // set once StartTransientUnit answered
  std::vector<std::pair<std::string, std::string>> removed;  // (job, result)
};

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  uint32_t id = 0;
  const char *job = nullptr, *unit = nullptr, *result = nullptr;
  if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0)
    static_cast<JobWatch*>(userdata)->removed.emplace_back(job, result);
  return 0;
}

Result<std::string> wait_job(sd_bus* bus, JobWatch& watch, const std::string& unit) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    for (const auto& [job, result] : watch.removed) {
      if (job != watch.job) continue;
      if (result == "done") return result;
      return make_error("systemd job for " + unit + " ended with `" + result + "` (see journalctl --user -u " + unit + ")",
                        EIO);
    }
    int r = sd_bus_process(bus, nullptr);
    if (r < 0) return make_error(std::string("wait for the systemd job of ") + unit + ": " + std::strerror(-r), -r);
    if (r > 0) continue;
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error("systemd did not start " + unit + " within 30 s", ETIMEDOUT);
    r = sd_bus_wait(bus, static_cast<uint64_t>(left.count()));
    if (r < 0 && r != -EINTR) return make_error(std::string("wait on the user bus: ") + std::strerror(-r), -r);
  }
}

// sd_bus_path_encode's escaping (bus_label_escape): [A-Za-z0-9] kept,
// every other byte as _XX; done here so the lazy libsystemd loading
// (systemd_lazy.cpp) needs no extra symbol.
std::string unit_object_path(const std::string& unit) {
  static const char* const hex = "0123456789abcdef";
  std::string path = "/org/freedesktop/systemd1/unit/";
  for (unsigned char c : unit) {
    if (std::isalnum(c)) {
      path += static_cast<char>(c);
    } else {
      path += '_';
      path += hex[c >> 4];
      path += hex[c & 15];
    }
  }
  return path;
}

Result<std::string> unit_control_group(sd_bus* bus, const std::string& unit) {
  // The unit's object path is its name, escaped: one call, not GetUnit + Get.
  std::string object = unit_object_path(unit);
  char* group = nullptr;
  BusError error;
  int r = sd_bus_get_property_string(bus, kDest, object.c_str(), "org.freedesktop.systemd1.Scope", "ControlGroup",
                                     &error.e, &group);
  if (r < 0) return make_error("read the ControlGroup of " + unit + ": " + error.text(r), -r);
  std::string path = group ? group : "";
  std::free(group);
  if (path.empty()) return make_error(unit + " has no cgroup (it is not running)", ESRCH);
  return path;
}

}  // namespace

Result<std::vector<uint8_t>> cpu_list_mask(const std::string& list) {
  std::vector<uint8_t> mask;
  auto bad = [&] {
    return make_error("invalid CPU/node list `" + list + "`: use numbers and ranges like 0-2,5", EINVAL);
  };
  for (const auto& item : split(list, ',')) {
    auto dash = item.find('-');
    auto first = parse_u64(item.substr(0, dash));
    auto last = dash == std::string::npos ? first : parse_u64(item.substr(dash + 1));
    if (!first || !last || *first > *last || *last >= 8192) return bad();
    for (uint64_t cpu = *first; cpu <= *last; ++cpu) {
      if (mask.size() <= cpu / 8) mask.resize(cpu / 8 + 1, 0);
      mask[cpu / 8] |= static_cast<uint8_t>(1u << (cpu % 8));
    }
  }
  if (mask.empty()) return bad();
  return mask;
}

Result<std::vector<UnitProperty>> resource_properties(const Resources& r) {
  std::vector<UnitProperty> out;
  if (r.memory_limit) out.push_back(u64("MemoryMax", limit_value(*r.memory_limit)));
  if (r.memory_reservation) out.push_back(u64("MemoryLow", limit_value(*r.memory_reservation)));
  if (r.memory_swap) {
    // systemd counts swap alone; OCI counts memory+swap (v2_files checks it).
    TRY_ASSIGN(files, v2_files(r));
    for (const auto& f : files)
      if (f.file == "memory.swap.max")
        out.push_back(u64("MemorySwapMax", f.value == "max" ? kInfinity : std::stoull(f.value)));
  }
  if (r.cpu_shares) out.push_back(u64("CPUWeight", shares_to_weight(*r.cpu_shares)));
  if (r.cpu_quota && *r.cpu_quota > 0) {
    uint64_t period = r.cpu_period.value_or(100000);
    // CPUQuotaPerSecUSec is the quota per second of wall time.
    out.push_back(u64("CPUQuotaPerSecUSec", static_cast<uint64_t>(*r.cpu_quota) * 1000000 / period));
  }
  if (r.cpu_period) out.push_back(u64("CPUQuotaPeriodUSec", *r.cpu_period));
  for (const auto& [name, list] : {std::pair{"AllowedCPUs", &r.cpuset_cpus}, std::pair{"AllowedMemoryNodes", &r.cpuset_mems}}) {
    if (list->empty()) continue;
    TRY_ASSIGN(mask, cpu_list_mask(*list));
    UnitProperty p;
    p.name = name;
    p.kind = UnitProperty::Kind::bytes;
    p.bytes = std::move(mask);
    out.push_back(std::move(p));
  }
  if (r.pids_limit) out.push_back(u64("TasksMax", *r.pids_limit > 0 ? static_cast<uint64_t>(*r.pids_limit) : kInfinity));
  if (r.blkio_weight) out.push_back(u64("IOWeight", blkio_to_io_weight(*r.blkio_weight)));
  for (const auto& [name, list] : {std::pair{"IOReadBandwidthMax", &r.read_bps}, std::pair{"IOWriteBandwidthMax", &r.write_bps}}) {
    if (list->empty()) continue;
    UnitProperty p;
    p.name = name;
    p.kind = UnitProperty::Kind::bandwidth;
    for (const auto& t : *list)
      p.bandwidth.emplace_back("/dev/block/" + std::to_string(t.major) + ":" + std::to_string(t.minor), t.rate);
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<UnitProperty>> scope_properties(const ScopeRequest& request) {
  std::vector<UnitProperty> out;
  auto text = [&](const char* name, const std::string& value) {
    UnitProperty p;
    p.name = name;
    p.kind = UnitProperty::Kind::text;
    p.text = value;
    out.push_back(std::move(p));
  };
  auto flag = [&](const char* name, bool value) {
    UnitProperty p;
    p.name = name;
    p.kind = UnitProperty::Kind::boolean;
    p.flag = value;
    out.push_back(std::move(p));
  };
  if (!request.description.empty()) text("Description", request.description);
  if (!request.slice.empty()) text("Slice", request.slice);
  flag("Delegate", true);
  // As podman does: no ordering after basic.target (a user session has
  // none), and a failed scope is collected instead of lingering.
  flag("DefaultDependencies", false);
  text("CollectMode", "inactive-or-failed");
  UnitProperty pids;
  pids.name = "PIDs";
  pids.kind = UnitProperty::Kind::pids;
  for (pid_t pid : request.pids) pids.pids.push_back(static_cast<uint32_t>(pid));
  out.push_back(std::move(pids));
  TRY_ASSIGN(limits, resource_properties(request.resources));
  for (auto& p : limits) out.push_back(std::move(p));
  return out;
}

bool user_bus_available() {
  // Where sd_bus_open_user looks: $DBUS_SESSION_BUS_ADDRESS (unix:path=),
  // else $XDG_RUNTIME_DIR/bus. A connect() proves something listens,
  // without the cost of authenticating (every `ctr run` asks).
  std::string path;
  if (const char* address = std::getenv("DBUS_SESSION_BUS_ADDRESS"); address && *address) {
    std::string text = address;
    auto at = text.find("unix:path=");
    if (at == std::string::npos) return true;  // another transport: let sd-bus try it
    path = text.substr(at + 10, text.find_first_of(",;", at) - at - 10);
  } else if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime) {
    path = std::string(runtime) + "/bus";
  } else {
    return false;
  }
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

Result<std::string> start_scope(const ScopeRequest& request) {
  TRY_ASSIGN(properties, scope_properties(request));
  TRY_ASSIGN(bus, open_user_bus());
  JobWatch watch;
  sd_bus_slot* slot = nullptr;
  // No Subscribe: systemd sends a job's JobRemoved to the client that made
  // the job (as crun relies on), which saves a round trip.
  TRY(check(sd_bus_match_signal(bus.get(), &slot, kDest, kPath, kManager, "JobRemoved", on_job_removed, &watch),
            "watch systemd jobs"));
  std::unique_ptr<sd_bus_slot, sd_bus_slot* (*)(sd_bus_slot*)> slot_guard(slot, sd_bus_slot_unref);
  sd_bus_message* raw = nullptr;
  TRY(check(sd_bus_message_new_method_call(bus.get(), &raw, kDest, kPath, kManager, "StartTransientUnit"),
            "StartTransientUnit"));
  Message call(raw);
  TRY(check(sd_bus_message_append(call.get(), "ss", request.unit.c_str(), "fail"), "StartTransientUnit"));
  TRY(check(sd_bus_message_open_container(call.get(), 'a', "(sv)"), "StartTransientUnit"));
  for (const auto& p : properties) TRY(append_property(call.get(), p));
  TRY(check(sd_bus_message_close_container(call.get()), "StartTransientUnit"));
  TRY(check(sd_bus_message_append(call.get(), "a(sa(sv))", 0), "StartTransientUnit"));
  BusError error;
  sd_bus_message* reply_raw = nullptr;
  int r = sd_bus_call(bus.get(), call.get(), kCallTimeoutUsec, &error.e, &reply_raw);
  Message reply(reply_raw);
  if (r < 0 && sd_bus_error_has_name(&error.e, "org.freedesktop.systemd1.UnitExists"))
    return make_error("systemd scope " + request.unit + " already exists", EEXIST);
  if (r < 0) return make_error("start systemd scope " + request.unit + ": " + error.text(r), -r);
  const char* job = nullptr;
  TRY(check(sd_bus_message_read(reply.get(), "o", &job), "read StartTransientUnit reply"));
  watch.job = job;
  TRY(wait_job(bus.get(), watch, request.unit));
  return unit_control_group(bus.get(), request.unit);
}

Result<std::string> scope_control_group(const std::string& unit) {
  TRY_ASSIGN(bus, open_user_bus());
  return unit_control_group(bus.get(), unit);
}

Status set_unit_properties(const std::string& unit, const std::vector<UnitProperty>& properties) {
  TRY_ASSIGN(bus, open_user_bus());
  sd_bus_message* raw = nullptr;
  TRY(check(sd_bus_message_new_method_call(bus.get(), &raw, kDest, kPath, kManager, "SetUnitProperties"),
            "SetUnitProperties"));
  Message call(raw);
  TRY(check(sd_bus_message_append(call.get(), "sb", unit.c_str(), 1), "SetUnitProperties"));
  TRY(check(sd_bus_message_open_container(call.get(), 'a', "(sv)"), "SetUnitProperties"));
  for (const auto& p : properties) TRY(append_property(call.get(), p));
  TRY(check(sd_bus_message_close_container(call.get()), "SetUnitProperties"));
  BusError error;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_call(bus.get(), call.get(), kCallTimeoutUsec, &error.e, &reply);
  sd_bus_message_unref(reply);
  if (r < 0) return make_error("set the properties of " + unit + ": " + error.text(r), -r);
  return {};
}

Status stop_unit(const std::string& unit) {
  TRY_ASSIGN(bus, open_user_bus());
  BusError error;
  sd_bus_message* raw = nullptr;
  int r = sd_bus_call_method(bus.get(), kDest, kPath, kManager, "StopUnit", &error.e, &raw, "ss", unit.c_str(),
                             "replace");
  sd_bus_message_unref(raw);
  if (r < 0 && !sd_bus_error_has_name(&error.e, "org.freedesktop.systemd1.NoSuchUnit"))
    return make_error("stop " + unit + ": " + error.text(r), -r);
  return {};
}

}  // namespace ctr::cgroup
