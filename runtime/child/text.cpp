#include "runtime/child/text.h"

#include <string.h>

namespace ctr::child {

Text& Text::add_char(char c) {
  if (len_ + 1 < cap_) {
    buf_[len_++] = c;
    buf_[len_] = '\0';
  }
  return *this;
}

Text& Text::add(const char* s) {
  while (s && *s) add_char(*s++);
  return *this;
}

Text& Text::add(long value) {
  char digits[24];
  int n = 0;
  unsigned long v = value < 0 ? 0UL - static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  if (value < 0) add_char('-');
  while (n) add_char(digits[--n]);
  return *this;
}

size_t string_length(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

bool string_equal(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

const char* error_text(int err) {
  const char* text = strerrordesc_np(err);
  return text ? text : "unknown error";
}

}  // namespace ctr::child
