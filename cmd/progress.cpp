#include "cmd/progress.h"

#include <cstdio>

#include "cmd/output.h"

namespace ctr::cmd {

image::ProgressFn ProgressPrinter::callback() {
  if (!enabled_) return {};
  return [this](const image::Progress& progress) { update(progress); };
}

std::string ProgressPrinter::format_line(const image::Progress& progress, double seconds) {
  std::string line = "Copying blob " + progress.layer + "  " + human_size(progress.bytes);
  if (progress.total) line += " / " + human_size(progress.total);
  if (progress.done) {
    line += "  done";
  } else if (seconds > 0.05) {
    line += "  " + human_size(static_cast<uint64_t>(static_cast<double>(progress.bytes) / seconds)) + "/s";
  }
  return line;
}

void ProgressPrinter::update(const image::Progress& progress) {
  if (!enabled_) return;
  auto now = Clock::now();
  if (progress.layer != layer_) {
    if (line_open_) std::fputs("\n", stderr);
    layer_ = progress.layer;
    started_ = now;
    last_draw_ = {};
  }
  // Redraw at most ten times a second: a terminal is slow, layers are fast.
  if (!progress.done && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  double seconds = std::chrono::duration<double>(now - started_).count();
  std::fprintf(stderr, "\r\033[K%s", format_line(progress, seconds).c_str());
  line_open_ = true;
  if (progress.done) {
    std::fputs("\n", stderr);
    line_open_ = false;
  }
  std::fflush(stderr);
}

void ProgressPrinter::finish() {
  if (line_open_) {
    std::fputs("\n", stderr);
    line_open_ = false;
  }
}

}  // namespace ctr::cmd
