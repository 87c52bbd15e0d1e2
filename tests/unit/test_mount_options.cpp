#include <gtest/gtest.h>
#include <sys/mount.h>

#include "runtime/mount_options.h"

using namespace ctr;

namespace {

MountOptions parse_ok(const std::vector<std::string>& options) {
  auto parsed = parse_mount_options(options);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : MountOptions{};
}

struct FlagCase {
  const char* set_word;
  const char* clear_word;
  unsigned long flag;
};

}  // namespace

TEST(MountOptions, EmptyListGivesNothing) {
  auto o = parse_ok({});
  EXPECT_EQ(o.flags, 0u);
  EXPECT_EQ(o.propagation, 0u);
  EXPECT_FALSE(o.bind);
  EXPECT_EQ(o.attr_set, 0u);
  EXPECT_EQ(o.attr_clr, 0u);
  EXPECT_EQ(o.data, "");
}

TEST(MountOptions, SettingWordsSetAndClearingWordsClearTheirFlag) {
  const FlagCase cases[] = {
      {"ro", "rw", MS_RDONLY},
      {"nosuid", "suid", MS_NOSUID},
      {"nodev", "dev", MS_NODEV},
      {"noexec", "exec", MS_NOEXEC},
      {"sync", "async", MS_SYNCHRONOUS},
      {"mand", "nomand", MS_MANDLOCK},
      {"noatime", "atime", MS_NOATIME},
      {"nodiratime", "diratime", MS_NODIRATIME},
      {"relatime", "norelatime", MS_RELATIME},
      {"strictatime", "nostrictatime", MS_STRICTATIME},
      {"lazytime", "nolazytime", MS_LAZYTIME},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_ok({c.set_word}).flags, c.flag) << c.set_word;
    EXPECT_EQ(parse_ok({c.set_word, c.clear_word}).flags, 0u) << c.set_word << "," << c.clear_word;
    EXPECT_EQ(parse_ok({c.clear_word, c.set_word}).flags, c.flag) << c.clear_word << "," << c.set_word;
    EXPECT_EQ(parse_ok({c.clear_word}).flags, 0u) << c.clear_word;
    EXPECT_EQ(parse_ok({c.set_word}).data, "") << c.set_word;
  }
}

TEST(MountOptions, ClearingOneFlagKeepsTheOthers) {
  auto o = parse_ok({"ro", "nosuid", "nodev", "noexec", "rw"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_NOEXEC));
}

TEST(MountOptions, SetOnlyWords) {
  EXPECT_EQ(parse_ok({"dirsync"}).flags, static_cast<unsigned long>(MS_DIRSYNC));
  EXPECT_EQ(parse_ok({"remount", "ro"}).flags, static_cast<unsigned long>(MS_REMOUNT | MS_RDONLY));
  auto defaults = parse_ok({"defaults"});
  EXPECT_EQ(defaults.flags, 0u);
  EXPECT_EQ(defaults.data, "");
}

TEST(MountOptions, BindAndRbind) {
  auto bind = parse_ok({"bind"});
  EXPECT_TRUE(bind.bind);
  EXPECT_FALSE(bind.recursive);
  EXPECT_EQ(bind.flags, static_cast<unsigned long>(MS_BIND));
  auto rbind = parse_ok({"rbind", "ro"});
  EXPECT_TRUE(rbind.bind);
  EXPECT_TRUE(rbind.recursive);
  EXPECT_EQ(rbind.flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY));
}

TEST(MountOptions, PropagationWordsAndTheirRecursiveForms) {
  EXPECT_EQ(parse_ok({"private"}).propagation, static_cast<unsigned long>(MS_PRIVATE));
  EXPECT_EQ(parse_ok({"rprivate"}).propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_EQ(parse_ok({"shared"}).propagation, static_cast<unsigned long>(MS_SHARED));
  EXPECT_EQ(parse_ok({"rshared"}).propagation, static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_EQ(parse_ok({"slave"}).propagation, static_cast<unsigned long>(MS_SLAVE));
  EXPECT_EQ(parse_ok({"rslave"}).propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(parse_ok({"unbindable"}).propagation, static_cast<unsigned long>(MS_UNBINDABLE));
  EXPECT_EQ(parse_ok({"runbindable"}).propagation, static_cast<unsigned long>(MS_UNBINDABLE | MS_REC));
  // One propagation type per mount; the last word wins and flags stay clean.
  auto o = parse_ok({"rshared", "bind", "rslave"});
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_BIND));
}

TEST(MountOptions, RecursiveAttributesGoToMountSetattr) {
  auto o = parse_ok({"rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"});
  EXPECT_EQ(o.attr_set,
            static_cast<unsigned long long>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                            MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
  EXPECT_EQ(o.attr_clr, 0u);
  EXPECT_EQ(o.flags, 0u);
  auto cleared = parse_ok({"rro", "rnosuid", "rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"});
  EXPECT_EQ(cleared.attr_set, 0u);
  EXPECT_EQ(cleared.attr_clr,
            static_cast<unsigned long long>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                            MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
  auto reset = parse_ok({"rrw", "rro"});
  EXPECT_EQ(reset.attr_set, static_cast<unsigned long long>(MOUNT_ATTR_RDONLY));
  EXPECT_EQ(reset.attr_clr, 0u);
}

TEST(MountOptions, RecursiveAtimeIsOneModeWithTheAtimeMaskCleared) {
  auto noatime = parse_ok({"rnoatime"});
  EXPECT_EQ(noatime.attr_clr, static_cast<unsigned long long>(MOUNT_ATTR__ATIME));
  EXPECT_EQ(noatime.attr_set, static_cast<unsigned long long>(MOUNT_ATTR_NOATIME));
  auto strict = parse_ok({"rnoatime", "rro", "rstrictatime"});
  EXPECT_EQ(strict.attr_set, static_cast<unsigned long long>(MOUNT_ATTR_STRICTATIME | MOUNT_ATTR_RDONLY));
  auto relatime = parse_ok({"rstrictatime", "rrelatime"});
  EXPECT_EQ(relatime.attr_set, static_cast<unsigned long long>(MOUNT_ATTR_RELATIME));
  EXPECT_EQ(relatime.attr_clr, static_cast<unsigned long long>(MOUNT_ATTR__ATIME));
  EXPECT_EQ(parse_ok({"rnoatime", "ratime"}).attr_set, static_cast<unsigned long long>(MOUNT_ATTR_RELATIME));
  EXPECT_EQ(parse_ok({"rnorelatime"}).attr_set, static_cast<unsigned long long>(MOUNT_ATTR_STRICTATIME));
}

TEST(MountOptions, IdmapTmpcopyupAndCopySymlink) {
  auto idmap = parse_ok({"idmap"});
  EXPECT_TRUE(idmap.idmap);
  EXPECT_FALSE(idmap.idmap_recursive);
  auto ridmap = parse_ok({"ridmap"});
  EXPECT_TRUE(ridmap.idmap);
  EXPECT_TRUE(ridmap.idmap_recursive);
  auto other = parse_ok({"tmpcopyup", "copy-symlink"});
  EXPECT_TRUE(other.tmpcopyup);
  EXPECT_TRUE(other.copy_symlink);
  EXPECT_FALSE(other.idmap);
  EXPECT_EQ(other.data, "");
}

TEST(MountOptions, UnknownWordsGoToDataInOrder) {
  auto o = parse_ok({"nosuid", "mode=755", "strictatime", "size=65536k", "newinstance", "ptmxmode=0666"});
  EXPECT_EQ(o.data, "mode=755,size=65536k,newinstance,ptmxmode=0666");
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(parse_ok({"lowerdir=/a:/b", "upperdir=/u", "workdir=/w"}).data, "lowerdir=/a:/b,upperdir=/u,workdir=/w");
}

TEST(MountOptions, EmptyOptionIsAnErrorNamingItsIndex) {
  auto parsed = parse_mount_options({"ro", "nosuid", ""});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "mount option 2 is empty");
  EXPECT_EQ(parsed.error().code, EINVAL);
}
