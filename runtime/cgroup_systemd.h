// Transient scopes over the systemd user bus (sd-bus): the cgroup manager
// that lets systemd own the container's cgroup, as podman/crun do with
// --cgroup-manager systemd. Unit <-> cgroup is mapped through D-Bus
// (the unit's ControlGroup property), never by guessing paths.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/cgroup.h"

namespace ctr::cgroup {

// One unit property of StartTransientUnit, typed as D-Bus wants it.
struct UnitProperty {
  enum class Kind { u64, text, boolean, pids, bytes, bandwidth };
  std::string name;
  Kind kind = Kind::u64;
  uint64_t number = 0;
  std::string text;
  bool flag = false;
  std::vector<uint32_t> pids;
  std::vector<uint8_t> bytes;                               // a CPU / NUMA node bitmask
  std::vector<std::pair<std::string, uint64_t>> bandwidth;  // (device path, bytes/s)
};

// "0-2,5" -> a little-endian bitmask as systemd's AllowedCPUs wants it.
Result<std::vector<uint8_t>> cpu_list_mask(const std::string& list);

// The limits in `r` as unit properties (MemoryMax, MemorySwapMax,
// MemoryLow, CPUWeight, CPUQuotaPerSecUSec, CPUQuotaPeriodUSec,
// AllowedCPUs, AllowedMemoryNodes, TasksMax, IOWeight,
// IO{Read,Write}BandwidthMax).
Result<std::vector<UnitProperty>> resource_properties(const Resources& r);

struct ScopeRequest {
  std::string unit;   // "ctr-ID.scope"
  std::string slice;  // "" = the manager's default
  std::string description;
  std::vector<pid_t> pids;
  Resources resources;
};
// Every property of the scope's StartTransientUnit call.
Result<std::vector<UnitProperty>> scope_properties(const ScopeRequest& request);

// True when the user bus answers ($DBUS_SESSION_BUS_ADDRESS or
// $XDG_RUNTIME_DIR/bus).
bool user_bus_available();

// Starts the scope, waits for its job, and returns its cgroup (the unit's
// ControlGroup, relative to the v2 mount).
Result<std::string> start_scope(const ScopeRequest& request);
// The cgroup of a running scope (relative to the v2 mount).
Result<std::string> scope_control_group(const std::string& unit);
// SetUnitProperties(runtime=true) on a running unit: `ctr update` of a
// scope's limits, so systemd writes them and `systemctl show` agrees.
Status set_unit_properties(const std::string& unit, const std::vector<UnitProperty>& properties);
// Stops the unit (its processes are killed by systemd); a missing unit is fine.
Status stop_unit(const std::string& unit);

}  // namespace ctr::cgroup
