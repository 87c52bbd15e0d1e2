// AttachServer: the shim's side of the attach socket (see attach_proto.h).
// Clients come and go. A slow client gets its output queued; above
// kHighWater the server is "congested" and the supervisor stops reading the
// container's output (backpressure, as a slow terminal would apply), but a
// client congested for longer than kStuckAfter is dropped, so a client that
// stopped reading never blocks the container for long. A client that sends
// garbage gets an error packet and is disconnected.
// Output nobody else keeps (an exec session with no log) can be held for the
// first client (hold_output_for_first_client): until it connects the server
// counts as congested, so the process's output waits in its pipe instead of
// being read and thrown away before the client that started it could see it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"
#include "shim/attach_proto.h"

namespace ctr::shim {

struct AttachHandlers {
  bool has_stdin = false;
  bool has_terminal = false;
  std::function<void(std::string_view)> on_stdin;
  std::function<void()> on_stdin_eof;
  std::function<void(uint16_t rows, uint16_t cols)> on_resize;
};

class AttachServer {
 public:
  static constexpr size_t kHighWater = 1024 * 1024;
  static constexpr std::chrono::seconds kStuckAfter{5};
  // Hard bound on one client's queue, whatever happens.
  static constexpr size_t kMaxQueued = 16 * 1024 * 1024;

  AttachServer() = default;
  AttachServer(AttachServer&&) = default;
  AttachServer& operator=(AttachServer&&) = default;
  static Result<AttachServer> listen(const std::string& path, int epoll_fd, AttachHandlers handlers);

  int listener() const { return listener_.get(); }
  bool is_client(int fd) const { return clients_.count(fd) != 0; }
  void accept_clients();
  void on_client_event(int fd, uint32_t events);
  void broadcast(PacketType type, const char* data, size_t size);
  // Stops reading stdin packets while the container's stdin is backed up.
  void pause_stdin(bool paused);
  // True while some client has more than kHighWater queued, or while output
  // is held for the first client.
  bool congested() const { return congested_clients_ > 0 || first_client_deadline_.has_value(); }
  // Holds output (congested()) until a first client connects, at most for
  // `wait` (the client may never come: its `ctr exec` was killed). Accepts
  // pending clients first: one that connected already releases it at once.
  void hold_output_for_first_client(std::chrono::milliseconds wait);
  bool holding_for_first_client() const { return first_client_deadline_.has_value(); }
  // Drops clients congested for longer than kStuckAfter (and ends a hold for
  // the first client that timed out); returns the time until the next such
  // deadline, nullopt when nobody is congested.
  std::optional<std::chrono::milliseconds> drop_stuck_clients();
  // Sends the exit record to everyone, flushes what it can, closes all.
  void finish(const std::string& exit_record);

 private:
  struct Client {
    UniqueFd fd;
    std::deque<std::string> queue;
    size_t queued = 0;
    bool broken = false;  // writing failed: only its last packets are still read
    std::optional<std::chrono::steady_clock::time_point> congested_since;
  };
  void update_congestion(Client& client);
  void send(Client& client, std::string packet);
  void drain(Client& client);
  void handle_packet(Client& client, const char* data, size_t size);
  void update_events(Client& client);
  void drop(int fd);

  std::string path_;
  int epoll_fd_ = -1;
  UniqueFd listener_;
  AttachHandlers handlers_;
  std::map<int, Client> clients_;
  int stdin_owner_ = -1;
  bool stdin_paused_ = false;
  int congested_clients_ = 0;
  bool had_client_ = false;
  std::optional<std::chrono::steady_clock::time_point> first_client_deadline_;
};

}  // namespace ctr::shim
