#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/reference.h"

using namespace ctr::image;
using ::testing::HasSubstr;

namespace {

constexpr char kDigest[] = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

Reference parse_ok(const std::string& text) {
  auto ref = parse_reference(text);
  EXPECT_TRUE(ref) << text << ": " << (ref ? "" : ref.error().message);
  return ref ? *ref : Reference{};
}

std::string parse_error(const std::string& text) {
  auto ref = parse_reference(text);
  EXPECT_FALSE(ref) << text << " parsed as " << (ref ? ref->full() : "");
  if (ref) return "";
  EXPECT_EQ(ref.error().code, EINVAL);
  EXPECT_THAT(ref.error().message, HasSubstr("\"" + text + "\""));
  return ref.error().message;
}

}  // namespace

TEST(ImageRef, ShortNamesGetLocalhostAndLatest) {
  auto ref = parse_ok("busybox");
  EXPECT_EQ(ref.name, "localhost/busybox");
  EXPECT_EQ(ref.tag, "latest");
  EXPECT_EQ(ref.digest, "");
  EXPECT_EQ(ref.full(), "localhost/busybox:latest");
  EXPECT_EQ(parse_ok("library/busybox:1.36").full(), "localhost/library/busybox:1.36");
  EXPECT_EQ(parse_ok("localhost/app:v2").full(), "localhost/app:v2");
}

TEST(ImageRef, DockerHubNamesAreCanonical) {
  // RepoTags of a docker-archive: docker's normalization.
  auto hub = [](const std::string& text) {
    auto ref = parse_reference(text, DefaultDomain::docker_hub);
    EXPECT_TRUE(ref) << text;
    return ref ? ref->full() : "";
  };
  EXPECT_EQ(hub("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(hub("busybox:1.36"), "docker.io/library/busybox:1.36");
  EXPECT_EQ(hub("user/app"), "docker.io/user/app:latest");
  EXPECT_EQ(hub("quay.io/x/y"), "quay.io/x/y:latest");
  EXPECT_EQ(hub("localhost/app:2"), "localhost/app:2");
  EXPECT_EQ(hub("registry:5000/app"), "registry:5000/app:latest");
  // Written with Docker Hub's host, in any mode: library/ added, index. dropped.
  EXPECT_EQ(parse_ok("docker.io/busybox").full(), "docker.io/library/busybox:latest");
  EXPECT_EQ(parse_ok("index.docker.io/user/app:1").full(), "docker.io/user/app:1");
  // What the text named, for short-name lookups.
  auto ref = parse_ok("user/app:1");
  EXPECT_FALSE(ref.qualified);
  EXPECT_EQ(ref.path, "user/app");
  ref = parse_ok("quay.io/x/y");
  EXPECT_TRUE(ref.qualified);
  EXPECT_EQ(ref.path, "x/y");
  auto bad = parse_reference("Busybox", DefaultDomain::docker_hub);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("must be lowercase"));
}

TEST(ImageRef, RegistriesAndPorts) {
  auto ref = parse_ok("registry:5000/ns/app");
  EXPECT_EQ(ref.name, "registry:5000/ns/app");
  EXPECT_EQ(ref.tag, "latest");
  ref = parse_ok("registry.example.com:5000/ns/app:1.0-rc.1");
  EXPECT_EQ(ref.name, "registry.example.com:5000/ns/app");
  EXPECT_EQ(ref.tag, "1.0-rc.1");
  EXPECT_EQ(parse_ok("docker.io/library/busybox").full(), "docker.io/library/busybox:latest");
  EXPECT_EQ(parse_ok("localhost:5000/app").name, "localhost:5000/app");
  // Without a '/', "localhost:5000" is a name and a tag, as in docker.
  ref = parse_ok("localhost:5000");
  EXPECT_EQ(ref.name, "localhost/localhost");
  EXPECT_EQ(ref.tag, "5000");
  // Uppercase is allowed in the registry host, not in the path.
  EXPECT_EQ(parse_ok("Registry.Example.com/app").name, "Registry.Example.com/app");
}

TEST(ImageRef, Digests) {
  auto ref = parse_ok(std::string("busybox@") + kDigest);
  EXPECT_EQ(ref.name, "localhost/busybox");
  EXPECT_EQ(ref.tag, "");
  EXPECT_EQ(ref.digest, kDigest);
  EXPECT_EQ(ref.full(), std::string("localhost/busybox@") + kDigest);
  ref = parse_ok(std::string("registry:5000/ns/app:1@") + kDigest);
  EXPECT_EQ(ref.name, "registry:5000/ns/app");
  EXPECT_EQ(ref.tag, "1");
  EXPECT_EQ(ref.digest, kDigest);
  EXPECT_THAT(parse_error("busybox@sha256:abc"), HasSubstr("digest"));
  parse_error("busybox@md5:d41d8cd98f00b204e9800998ecf8427e");
}

TEST(ImageRef, SeparatorsInPathComponents) {
  EXPECT_EQ(parse_ok("ns/a.b_c__d-e---f").name, "localhost/ns/a.b_c__d-e---f");
  // A first component with a dot is a registry host, as in docker.
  EXPECT_EQ(parse_ok("a.b/c").name, "a.b/c");
  parse_error("a..b");
  parse_error("a___b");
  parse_error("-ab");
  parse_error("ab-");
  parse_error("ab/");
  parse_error("/ab");
  parse_error("a//b");
  parse_error("a b");
}

TEST(ImageRef, UppercaseNameIsAnErrorNamingTheText) {
  EXPECT_THAT(parse_error("BusyBox"), HasSubstr("must be lowercase"));
  EXPECT_THAT(parse_error("docker.io/Library/busybox"), HasSubstr("must be lowercase"));
}

TEST(ImageRef, InvalidTagsAndOthers) {
  parse_error("");
  parse_error("busybox:");
  parse_error("busybox:.tag");
  parse_error("busybox:" + std::string(129, 't'));
  EXPECT_EQ(parse_ok("busybox:" + std::string(128, 't')).tag, std::string(128, 't'));
  EXPECT_EQ(parse_ok("busybox:_Tag.1-x").tag, "_Tag.1-x");
  parse_error("registry:port/app");
  parse_error("-bad.host/app");
  parse_error(std::string(64, 'a'));  // an image ID, not a name
  parse_error("localhost/" + std::string(250, 'a'));
}

TEST(ImageRef, LooksLikeId) {
  EXPECT_TRUE(looks_like_id("abc"));
  EXPECT_TRUE(looks_like_id(std::string(64, 'f')));
  EXPECT_TRUE(looks_like_id("sha256:0123456789abcdef"));
  EXPECT_FALSE(looks_like_id("ab"));
  EXPECT_FALSE(looks_like_id(std::string(65, 'f')));
  EXPECT_FALSE(looks_like_id("busybox"));
  EXPECT_FALSE(looks_like_id("ABC"));
}
