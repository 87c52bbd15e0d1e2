#include "cmd/progress.h"

#include <cstdio>

#include "cmd/output.h"

namespace ctr::cmd {

image::ProgressFn ProgressPrinter::callback() {
  if (!enabled_) return {};
  return [this](const image::Progress& progress) { update(progress); };
}

std::string ProgressPrinter::format_line(const image::Progress& progress, double seconds) {
  std::string line = "Copying blob " + progress.layer;
  if (!progress.done && progress.bytes == 0) return line + "  started";
  line += "  " + human_size(progress.bytes);
  if (progress.total) line += " / " + human_size(progress.total);
  if (progress.done) {
    line += "  done";
  } else if (seconds > 0.05) {
    line += "  " + human_size(static_cast<uint64_t>(static_cast<double>(progress.bytes) / seconds)) + "/s";
  }
  return line;
}

std::string ProgressPrinter::redraw(const std::vector<std::string>& lines, size_t drawn) {
  std::string out;
  // Back to the first of our lines (the cursor rests below the last one).
  if (drawn > 0) out += "\033[" + std::to_string(drawn) + "A";
  for (const auto& line : lines) out += "\r\033[K" + line + "\n";
  return out;
}

void ProgressPrinter::update(const image::Progress& progress) {
  if (!enabled_) return;
  auto now = Clock::now();
  Layer* layer = nullptr;
  for (auto& known : layers_)
    if (known.last.layer == progress.layer) layer = &known;
  bool new_line = layer == nullptr;
  if (new_line) layer = &layers_.emplace_back(Layer{progress, now});
  bool finished = progress.done && !layer->last.done;
  layer->last = progress;
  dirty_ = true;
  // Redraw at most ten times a second (a terminal is slow, layers are fast),
  // but at once when a line appears or a layer finishes.
  if (new_line || finished || now - last_draw_ >= std::chrono::milliseconds(100)) draw(now);
}

void ProgressPrinter::draw(Clock::time_point now) {
  std::vector<std::string> lines;
  for (const auto& layer : layers_)
    lines.push_back(format_line(layer.last, std::chrono::duration<double>(now - layer.started).count()));
  std::string out = redraw(lines, drawn_);
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
  drawn_ = lines.size();
  last_draw_ = now;
  dirty_ = false;
}

void ProgressPrinter::finish() {
  if (enabled_ && dirty_) draw(Clock::now());
}

}  // namespace ctr::cmd
