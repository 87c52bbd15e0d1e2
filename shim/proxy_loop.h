// The port proxy's event loop (shim/port_proxy.h): one thread, epoll, and
// handlers that the loop owns. A handler that ends is dropped, and freed
// only after the batch of events at hand, since a later event of the same
// batch may still name it.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/base/unique_fd.h"

namespace ctr::shim::proxy {

using Clock = std::chrono::steady_clock;

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void on_event(uint32_t events) = 0;
  // Called every few seconds for handlers that asked for it (Loop::tick_me).
  virtual void on_tick(Clock::time_point) {}
  // Set once the handler (or what it belongs to) ended: its events are ignored.
  bool retired = false;
};

class Loop {
 public:
  // On the heap: handlers keep a reference to it, so it never moves.
  static Result<std::unique_ptr<Loop>> make();

  // fd's events go to `handler` (which must outlive the fd's watch: closing
  // the fd ends it).
  Status watch(int fd, uint32_t events, Handler* handler);
  // The loop owns `handler` until drop().
  Handler* adopt(std::unique_ptr<Handler> handler);
  // adopt() and watch() in one: the handler stays only if its fd is watched.
  Result<Handler*> adopt_watching(std::unique_ptr<Handler> handler, int fd, uint32_t events);
  void drop(Handler* handler);
  void tick_me(Handler* handler) { tickers_.push_back(handler); }
  // Runs until `exit_fd` is readable (its pipe ended); the exit code.
  int run(int exit_fd);

 private:
  explicit Loop(UniqueFd epoll) : epoll_(std::move(epoll)) {}
  void tick();

  UniqueFd epoll_;
  std::unordered_map<Handler*, std::unique_ptr<Handler>> owned_;
  std::vector<std::unique_ptr<Handler>> dropped_;
  std::vector<Handler*> tickers_;
  Clock::time_point last_tick_ = Clock::now();
};

// A forwarder for one host port (a TCP listener or a UDP socket, non-blocking,
// in the host's namespace) to `target` in the container's namespace (the
// caller's own). Both watch their socket in `loop`.
Result<Handler*> add_tcp_forwarder(Loop& loop, UniqueFd listener, const sockaddr_in& target);
Result<Handler*> add_udp_forwarder(Loop& loop, UniqueFd socket, const sockaddr_in& target);

}  // namespace ctr::shim::proxy
