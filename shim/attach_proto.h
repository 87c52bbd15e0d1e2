// The attach protocol, spoken over the SOCK_SEQPACKET unix socket STATE/attach.
// Every packet is one message: a type byte, then a payload.
//   server -> client: kStdout/kStderr (container output, raw bytes),
//                     kExit (payload: the exit record, as in exit.json),
//                     kError (payload: a message for the user; the server may
//                     close the connection after it).
//   client -> server: kStdin (bytes for the container's stdin; the first
//                     client that sends stdin owns it until it disconnects),
//                     kStdinEof (close the container's stdin),
//                     kResize (payload: two little-endian uint16, rows then cols).
// Output goes to every connected client. Detach keys are the client's
// business (the server never sees them): a client detaches by closing.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr::shim {

enum PacketType : uint8_t {
  kStdout = 1,
  kStderr = 2,
  kExit = 3,
  kError = 4,
  kStdin = 16,
  kStdinEof = 17,
  kResize = 18,
};

// Largest payload in one packet (well below the default socket buffers).
inline constexpr size_t kMaxPayload = 32 * 1024;

// A listening SOCK_SEQPACKET socket at `path` (non-blocking, close-on-exec).
// Paths longer than sun_path are reached through /proc/self/fd/DIRFD/NAME.
Result<UniqueFd> listen_seqpacket(const std::string& path);
Result<UniqueFd> connect_seqpacket(const std::string& path);
// A listening SOCK_STREAM socket (the runtime's --console-socket).
Result<UniqueFd> listen_stream(const std::string& path);

std::string make_packet(PacketType type, const void* data, size_t size);
inline std::string make_packet(PacketType type, const std::string& payload) {
  return make_packet(type, payload.data(), payload.size());
}

}  // namespace ctr::shim
