// libsystemd's sd-bus, loaded with dlopen() the first time it is called
// instead of at every start of ctr, ctr-shim and ctr-runtime.
//
// Why: linking libsystemd.so.0 pulls in seven shared libraries (libgcrypt,
// liblzma, libzstd, liblz4, libcap, libgpg-error...) that the dynamic
// loader maps and relocates on every exec, ~0.5 ms each time, and a
// `ctr run` execs ctr twice, the shim and the runtime: issue 5's budget.
// Only the systemd cgroup manager (cgroup_systemd.cpp) talks to the bus.
//
// How: these definitions resolve the sd_* symbols cgroup_systemd.cpp uses,
// so the linker (with --as-needed, see the top CMakeLists.txt) does not
// record libsystemd as needed. A symbol added there but missing here is
// simply taken from libsystemd again (still linked, as needed): slower,
// never broken. The signatures come from <systemd/sd-bus.h>, so a mismatch
// does not compile. Without libsystemd at run time every call fails with
// -ENOSYS, which the cgroup code treats as "no user bus".
#include <dlfcn.h>
#include <errno.h>
#include <systemd/sd-bus.h>

#include <cstdarg>

namespace {

void* libsystemd() {
  static void* handle = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  return handle;
}

template <typename F>
F lookup(const char* name) {
  void* handle = libsystemd();
  return handle ? reinterpret_cast<F>(::dlsym(handle, name)) : nullptr;
}

// One function pointer per symbol, looked up once.
#define CTR_SD_FN(name) \
  static const auto fn = lookup<decltype(&::name)>(#name)

}  // namespace

extern "C" {

int sd_bus_open_user(sd_bus** ret) {
  CTR_SD_FN(sd_bus_open_user);
  return fn ? fn(ret) : -ENOSYS;
}

sd_bus* sd_bus_flush_close_unref(sd_bus* bus) {
  CTR_SD_FN(sd_bus_flush_close_unref);
  return fn ? fn(bus) : nullptr;
}

int sd_bus_call_method(sd_bus* bus, const char* destination, const char* path, const char* interface,
                       const char* member, sd_bus_error* ret_error, sd_bus_message** reply, const char* types, ...) {
  CTR_SD_FN(sd_bus_call_methodv);
  if (!fn) return -ENOSYS;
  va_list ap;
  va_start(ap, types);
  int r = fn(bus, destination, path, interface, member, ret_error, reply, types, ap);
  va_end(ap);
  return r;
}

int sd_bus_call(sd_bus* bus, sd_bus_message* m, uint64_t usec, sd_bus_error* ret_error, sd_bus_message** reply) {
  CTR_SD_FN(sd_bus_call);
  return fn ? fn(bus, m, usec, ret_error, reply) : -ENOSYS;
}

int sd_bus_message_new_method_call(sd_bus* bus, sd_bus_message** m, const char* destination, const char* path,
                                   const char* interface, const char* member) {
  CTR_SD_FN(sd_bus_message_new_method_call);
  return fn ? fn(bus, m, destination, path, interface, member) : -ENOSYS;
}

int sd_bus_message_append(sd_bus_message* m, const char* types, ...) {
  CTR_SD_FN(sd_bus_message_appendv);
  if (!fn) return -ENOSYS;
  va_list ap;
  va_start(ap, types);
  int r = fn(m, types, ap);
  va_end(ap);
  return r;
}

int sd_bus_message_append_basic(sd_bus_message* m, char type, const void* p) {
  CTR_SD_FN(sd_bus_message_append_basic);
  return fn ? fn(m, type, p) : -ENOSYS;
}

int sd_bus_message_append_array(sd_bus_message* m, char type, const void* ptr, size_t size) {
  CTR_SD_FN(sd_bus_message_append_array);
  return fn ? fn(m, type, ptr, size) : -ENOSYS;
}

int sd_bus_message_open_container(sd_bus_message* m, char type, const char* contents) {
  CTR_SD_FN(sd_bus_message_open_container);
  return fn ? fn(m, type, contents) : -ENOSYS;
}

int sd_bus_message_close_container(sd_bus_message* m) {
  CTR_SD_FN(sd_bus_message_close_container);
  return fn ? fn(m) : -ENOSYS;
}

int sd_bus_message_read(sd_bus_message* m, const char* types, ...) {
  CTR_SD_FN(sd_bus_message_readv);
  if (!fn) return -ENOSYS;
  va_list ap;
  va_start(ap, types);
  int r = fn(m, types, ap);
  va_end(ap);
  return r;
}

sd_bus_message* sd_bus_message_unref(sd_bus_message* m) {
  CTR_SD_FN(sd_bus_message_unref);
  return fn ? fn(m) : nullptr;
}

int sd_bus_match_signal(sd_bus* bus, sd_bus_slot** ret, const char* sender, const char* path, const char* interface,
                        const char* member, sd_bus_message_handler_t callback, void* userdata) {
  CTR_SD_FN(sd_bus_match_signal);
  return fn ? fn(bus, ret, sender, path, interface, member, callback, userdata) : -ENOSYS;
}

sd_bus_slot* sd_bus_slot_unref(sd_bus_slot* slot) {
  CTR_SD_FN(sd_bus_slot_unref);
  return fn ? fn(slot) : nullptr;
}

int sd_bus_process(sd_bus* bus, sd_bus_message** r) {
  CTR_SD_FN(sd_bus_process);
  return fn ? fn(bus, r) : -ENOSYS;
}

int sd_bus_wait(sd_bus* bus, uint64_t timeout_usec) {
  CTR_SD_FN(sd_bus_wait);
  return fn ? fn(bus, timeout_usec) : -ENOSYS;
}

int sd_bus_get_property_string(sd_bus* bus, const char* destination, const char* path, const char* interface,
                               const char* member, sd_bus_error* ret_error, char** ret) {
  CTR_SD_FN(sd_bus_get_property_string);
  return fn ? fn(bus, destination, path, interface, member, ret_error, ret) : -ENOSYS;
}

int sd_bus_error_has_name(const sd_bus_error* e, const char* name) {
  CTR_SD_FN(sd_bus_error_has_name);
  return fn ? fn(e, name) : 0;
}

void sd_bus_error_free(sd_bus_error* e) {
  CTR_SD_FN(sd_bus_error_free);
  if (fn) fn(e);  // without libsystemd nothing can have filled it
}

}  // extern "C"
