// Layer progress for load/import/save on a terminal, like podman's
// "Copying blob" lines: one line per layer, in the order layers start,
// redrawn in place (layers unpack in parallel, so any line may change).
// Silent with -q or when stderr is not a terminal (scripts, CI), so that
// only the command's result reaches stdout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

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
  // Draws the final state of every line.
  void finish();

  // "Copying blob 1a2b3c4d5e6f  12.3 MB / 45.6 MB  8.1 MB/s" (no terminal codes).
  static std::string format_line(const image::Progress& progress, double seconds);
  // The terminal bytes that redraw `lines` over the `drawn` lines drawn before.
  static std::string redraw(const std::vector<std::string>& lines, size_t drawn);

 private:
  using Clock = std::chrono::steady_clock;
  struct Layer {
    image::Progress last;
    Clock::time_point started;
  };
  void draw(Clock::time_point now);

  bool enabled_;
  std::vector<Layer> layers_;
  size_t drawn_ = 0;  // lines on the screen that belong to us
  bool dirty_ = false;
  Clock::time_point last_draw_{};
};

}  // namespace ctr::cmd
