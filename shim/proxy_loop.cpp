#include "shim/proxy_loop.h"

#include <sys/epoll.h>

#include <cerrno>

namespace ctr::shim::proxy {
namespace {

constexpr auto kTickEvery = std::chrono::seconds(5);

}  // namespace

Result<std::unique_ptr<Loop>> Loop::make() {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return sys_error("epoll_create1");
  return std::unique_ptr<Loop>(new Loop(std::move(epoll)));
}

Status Loop::watch(int fd, uint32_t events, Handler* handler) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = handler;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) return sys_error("epoll_ctl");
  return {};
}

Handler* Loop::adopt(std::unique_ptr<Handler> handler) {
  Handler* raw = handler.get();
  owned_.emplace(raw, std::move(handler));
  return raw;
}

Result<Handler*> Loop::adopt_watching(std::unique_ptr<Handler> handler, int fd, uint32_t events) {
  Handler* raw = adopt(std::move(handler));
  if (auto watched = watch(fd, events, raw); !watched) {
    drop(raw);
    return std::move(watched).error();
  }
  return raw;
}

void Loop::drop(Handler* handler) {
  handler->retired = true;
  std::erase(tickers_, handler);
  auto it = owned_.find(handler);
  if (it == owned_.end()) return;
  dropped_.push_back(std::move(it->second));
  owned_.erase(it);
}

void Loop::tick() {
  auto now = Clock::now();
  if (now - last_tick_ < kTickEvery) return;
  last_tick_ = now;
  // A copy: a ticker may drop handlers (itself included).
  for (Handler* handler : std::vector<Handler*>(tickers_))
    if (!handler->retired) handler->on_tick(now);
  dropped_.clear();
}

int Loop::run(int exit_fd) {
  // The exit pipe's events carry no handler.
  if (!watch(exit_fd, EPOLLIN, nullptr)) return 1;
  epoll_event events[64];
  for (;;) {
    int timeout = tickers_.empty() ? -1 : static_cast<int>(std::chrono::milliseconds(kTickEvery).count());
    int n = ::epoll_wait(epoll_.get(), events, 64, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 1;
    for (int i = 0; i < n; ++i) {
      auto* handler = static_cast<Handler*>(events[i].data.ptr);
      if (!handler) return 0;
      if (!handler->retired) handler->on_event(events[i].events);
    }
    dropped_.clear();
    tick();
  }
}

}  // namespace ctr::shim::proxy
