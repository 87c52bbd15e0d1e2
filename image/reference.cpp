// The docker reference grammar (distribution/reference), written from its
// published grammar:
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ domain "/" ] path-component ( "/" path-component )*
//   domain     := host-component ( "." host-component )* [ ":" port ]
//   path-comp  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
#include "image/reference.h"

#include <string_view>
#include <vector>

#include "image/digest.h"
#include "runtime/base/strings.h"

namespace ctr::image {

namespace {

constexpr size_t kMaxNameLength = 255;
constexpr std::string_view kLocalDomain = "localhost";

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}
bool has_upper(std::string_view text) {
  for (char c : text)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

bool valid_path_component(std::string_view part) {
  if (part.empty() || !is_lower_alnum(part.front()) || !is_lower_alnum(part.back())) return false;
  for (size_t i = 0; i < part.size();) {
    if (is_lower_alnum(part[i])) {
      ++i;
      continue;
    }
    // A separator run: ".", "_", "__" or any number of "-".
    size_t start = i;
    char sep = part[i];
    if (sep != '.' && sep != '_' && sep != '-') return false;
    while (i < part.size() && part[i] == sep) ++i;
    size_t run = i - start;
    if ((sep == '.' && run > 1) || (sep == '_' && run > 2)) return false;
  }
  return true;
}

bool valid_host_component(std::string_view part) {
  if (part.empty() || !is_alnum(part.front()) || !is_alnum(part.back())) return false;
  for (char c : part)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

bool valid_domain(std::string_view domain) {
  size_t colon = domain.find(':');
  std::string_view host = domain.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view port = domain.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port)
      if (c < '0' || c > '9') return false;
  }
  for (const auto& part : split(host, '.'))
    if (!valid_host_component(part)) return false;
  return true;
}

bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  if (!is_alnum(tag.front()) && tag.front() != '_') return false;
  for (char c : tag)
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

// A first component is a registry when it looks like a host: docker's rule.
bool is_domain(std::string_view first) {
  return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
         first == kLocalDomain;
}

Error invalid(const std::string& text, const std::string& why) {
  return make_error("invalid reference \"" + text + "\": " + why, EINVAL);
}

constexpr std::string_view kDockerHub = "docker.io";

// Checks the name part (domain and path) and adds the default registry when
// none is named. Docker Hub's names are canonical: "index.docker.io" and
// "docker.io/x" become "docker.io/library/x", as docker and podman store them.
Status normalize_name(const std::string& text, std::string_view name, DefaultDomain default_domain, Reference& ref) {
  if (name.empty()) return invalid(text, "the name is empty");
  std::vector<std::string> parts = split(name, '/');
  std::string domain;
  size_t first_path = 0;
  if (parts.size() > 1 && is_domain(parts[0])) {
    domain = parts[0];
    first_path = 1;
    if (!valid_domain(domain)) return invalid(text, "\"" + domain + "\" is not a valid registry host[:port]");
  }
  for (size_t i = first_path; i < parts.size(); ++i) {
    if (has_upper(parts[i])) return invalid(text, "repository name must be lowercase");
    if (!valid_path_component(parts[i]))
      return invalid(text, "\"" + parts[i] +
                               "\" is not a valid name component (lowercase letters and digits, "
                               "separated by '.', '_', '__' or '-')");
  }
  ref.qualified = !domain.empty();
  ref.path = std::string(name.substr(domain.empty() ? 0 : domain.size() + 1));
  if (domain.empty()) domain = default_domain == DefaultDomain::localhost ? kLocalDomain : kDockerHub;
  if (domain == "index.docker.io") domain = kDockerHub;
  std::string path = ref.path;
  if (domain == kDockerHub && path.find('/') == std::string::npos) path = "library/" + path;
  ref.name = domain + "/" + path;
  if (ref.name.size() > kMaxNameLength)
    return invalid(text, "the name is longer than " + std::to_string(kMaxNameLength) + " characters");
  return {};
}

}  // namespace

std::string Reference::full() const {
  std::string out = name;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

Result<Reference> parse_reference(const std::string& text, DefaultDomain domain) {
  if (text.empty()) return invalid(text, "the reference is empty");
  std::string_view rest = text;
  Reference ref;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    if (auto status = validate_digest(ref.digest); !status) return invalid(text, status.error().message);
    rest = rest.substr(0, at);
  }
  // A ':' after the last '/' starts the tag; one before it is a registry port.
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    if (!valid_tag(ref.tag))
      return invalid(text, "\"" + ref.tag + "\" is not a valid tag (letters, digits, '_', '.', '-'; at most 128)");
    rest = rest.substr(0, colon);
  }
  if (rest.size() == 64 && looks_like_id(std::string(rest)))
    return invalid(text, "a 64-character hexadecimal string is an image ID, not a name");
  TRY(normalize_name(text, rest, domain, ref));
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

bool looks_like_id(const std::string& text) {
  std::string_view hex = text;
  if (starts_with(hex, "sha256:")) hex.remove_prefix(7);
  if (hex.size() < 3 || hex.size() > 64) return false;
  for (char c : hex)
    if (!is_hex(c)) return false;
  return true;
}

}  // namespace ctr::image
