// Allocation-free string building for the child (fixed buffers, truncating).
#pragma once

#include <cstddef>

namespace ctr::child {

class Text {
 public:
  Text(char* buffer, size_t capacity) : buf_(buffer), cap_(capacity) { buf_[0] = '\0'; }
  Text& add(const char* s);
  Text& add(long value);
  Text& add_char(char c);
  const char* c_str() const { return buf_; }
  size_t size() const { return len_; }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
};

size_t string_length(const char* s);
bool string_equal(const char* a, const char* b);
// strerrordesc_np: a static string, no locale, no allocation.
const char* error_text(int err);

}  // namespace ctr::child
