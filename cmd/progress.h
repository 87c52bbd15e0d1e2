// Layer progress for load/import/save on a terminal: one line per layer,
// rewritten in place with bytes so far and the rate; a finished layer keeps
// its line. Silent with -q or when stderr is not a terminal (scripts, CI).
#pragma once

#include <chrono>
#include <string>

#include "image/archive.h"

namespace ctr::cmd {

class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool enabled) : enabled_(enabled) {}
  ~ProgressPrinter() { finish(); }
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

  // The callback to hand to the library; empty when disabled (no work at all).
  image::ProgressFn callback();
  void update(const image::Progress& progress);
  // Ends an unfinished line.
  void finish();

  // "Copying blob 1a2b3c4d5e6f  12.3 MB / 45.6 MB  8.1 MB/s" (no terminal codes).
  static std::string format_line(const image::Progress& progress, double seconds);

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  bool line_open_ = false;
  std::string layer_;
  Clock::time_point started_{};
  Clock::time_point last_draw_{};
};

}  // namespace ctr::cmd
