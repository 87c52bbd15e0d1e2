// cmd/output.cpp: podman-style --format handling, column alignment, human sizes and ages.
#include <gtest/gtest.h>

#include "cmd/output.h"
#include "cmd/progress.h"

namespace ctr::cmd {
namespace {

const std::vector<Column> kColumns{{"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"ID", "IMAGE ID"}};

std::vector<Json> rows() {
  return {Json{{"Repository", "localhost/busybox"}, {"Tag", "latest"}, {"ID", "0123456789ab"}, {"Size", 5}},
          Json{{"Repository", "<none>"}, {"Tag", "<none>"}, {"ID", "ba9876543210"}, {"Size", 7}}};
}

TEST(CmdOutput, DefaultTableIsAlignedWithHeader) {
  auto text = render_rows("", rows(), kColumns);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text,
            "REPOSITORY         TAG         IMAGE ID\n"
            "localhost/busybox  latest      0123456789ab\n"
            "<none>             <none>      ba9876543210\n");
  EXPECT_EQ(*render_rows("table", rows(), kColumns), *text);
}

TEST(CmdOutput, TableTemplateUsesHeadersAndEscapes) {
  auto text = render_rows("table {{.ID}}\\t{{.Repository}}", rows(), kColumns);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text,
            "IMAGE ID      REPOSITORY\n"
            "0123456789ab  localhost/busybox\n"
            "ba9876543210  <none>\n");
}

TEST(CmdOutput, PlainTemplateHasNoHeader) {
  auto text = render_rows("{{.Repository}}:{{.Tag}} {{.Size}}", rows(), kColumns);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, "localhost/busybox:latest 5\n<none>:<none> 7\n");
}

TEST(CmdOutput, JsonFormatAndJsonAction) {
  auto text = render_rows("json", rows(), kColumns);
  ASSERT_TRUE(text.ok());
  auto parsed = Json::parse(*text);
  ASSERT_TRUE(parsed.is_array());
  EXPECT_EQ(parsed[0]["Repository"], "localhost/busybox");
  auto tpl = Template::parse("{{json .}}");
  ASSERT_TRUE(tpl.ok());
  EXPECT_EQ(*tpl->render(Json{{"a", 1}}), "{\"a\":1}");
  auto nested = Template::parse("{{ .Config.Cmd }} {{json .Config.Env}}");
  ASSERT_TRUE(nested.ok()) << nested.error().message;
  Json object{{"Config", {{"Cmd", {"sh", "-c", "x"}}, {"Env", {"A=1"}}}}};
  EXPECT_EQ(*nested->render(object), "[sh -c x] [\"A=1\"]");
}

TEST(CmdOutput, BadTemplatesNameTheTemplate) {
  auto unclosed = Template::parse("{{.ID");
  ASSERT_FALSE(unclosed.ok());
  EXPECT_NE(unclosed.error().message.find("{{.ID"), std::string::npos);
  auto unknown_function = Template::parse("{{upper .ID}}");
  ASSERT_FALSE(unknown_function.ok());
  EXPECT_NE(unknown_function.error().message.find("{{upper .ID}}"), std::string::npos);
  auto missing = render_rows("{{.Nope}}", rows(), kColumns);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("{{.Nope}}"), std::string::npos);
  EXPECT_NE(missing.error().message.find("Nope"), std::string::npos);
  EXPECT_FALSE(Template::parse("{{ID}}").ok());
}

TEST(CmdOutput, MissingNestedKeyPrintsNoValue) {
  auto tpl = Template::parse("{{.Config.Cmd}}");
  ASSERT_TRUE(tpl.ok());
  EXPECT_EQ(*tpl->render(Json{{"Config", Json::object()}}), "<no value>");
  EXPECT_FALSE(tpl->render(Json{{"Other", 1}}).ok());
}

TEST(CmdOutput, AlignColumnsLikeTabwriter) {
  EXPECT_EQ(align_columns("a\tb\nlonger-than-twelve\tc\n"), "a                   b\nlonger-than-twelve  c\n");
  EXPECT_EQ(align_columns("x"), "x");
  EXPECT_EQ(align_columns(""), "");
}

TEST(CmdOutput, HumanSizesAreSi) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(999), "999 B");
  EXPECT_EQ(human_size(1000), "1 kB");
  EXPECT_EQ(human_size(4870000), "4.87 MB");
  EXPECT_EQ(human_size(12345678), "12.3 MB");
  EXPECT_EQ(human_size(1500000000), "1.5 GB");
}

TEST(CmdOutput, HumanAgesLikePodman) {
  const int64_t now = 1700000000;
  EXPECT_EQ(human_age(now, now), "Less than a second ago");
  EXPECT_EQ(human_age(now - 1, now), "1 second ago");
  EXPECT_EQ(human_age(now - 30, now), "30 seconds ago");
  EXPECT_EQ(human_age(now - 70, now), "About a minute ago");
  EXPECT_EQ(human_age(now - 600, now), "10 minutes ago");
  EXPECT_EQ(human_age(now - 3600, now), "About an hour ago");
  EXPECT_EQ(human_age(now - 2 * 3600, now), "2 hours ago");
  EXPECT_EQ(human_age(now - 3 * 86400, now), "3 days ago");
  EXPECT_EQ(human_age(now - 21 * 86400, now), "3 weeks ago");
  EXPECT_EQ(human_age(now - 90 * 86400, now), "3 months ago");
  EXPECT_EQ(human_age(now - 3 * 365 * 86400, now), "3 years ago");
  EXPECT_EQ(human_age(0, now), "N/A");
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00Z");
}

TEST(CmdOutput, ProgressLine) {
  image::Progress progress{"1a2b3c4d5e6f", 2000000, 4000000, false};
  EXPECT_EQ(ProgressPrinter::format_line(progress, 2.0), "Copying blob 1a2b3c4d5e6f  2 MB / 4 MB  1 MB/s");
  progress.done = true;
  EXPECT_EQ(ProgressPrinter::format_line(progress, 2.0), "Copying blob 1a2b3c4d5e6f  2 MB / 4 MB  done");
  EXPECT_EQ(ProgressPrinter::format_line(image::Progress{"1a2b3c4d5e6f", 0, 0, false}, 0.0),
            "Copying blob 1a2b3c4d5e6f  started");
}

TEST(CmdOutput, ProgressRedrawsItsOwnLines) {
  EXPECT_EQ(ProgressPrinter::redraw({"a"}, 0), "\r\033[Ka\n");
  // Two lines were drawn: go up two, rewrite both, add the third.
  EXPECT_EQ(ProgressPrinter::redraw({"a", "b", "c"}, 2), "\033[2A\r\033[Ka\n\r\033[Kb\n\r\033[Kc\n");
}

}  // namespace
}  // namespace ctr::cmd
