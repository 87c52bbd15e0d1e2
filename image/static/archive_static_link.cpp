// Linking libarchive statically (see image/CMakeLists.txt) without its
// writers for every format.
//
// The pax and ustar writers we use call one helper,
// __archive_write_entry_filetype_unsupported, that libarchive keeps in
// archive_write_set_format.o: the object holding the by-name table of ALL
// writers. Pulling it in would pull the xar, zip, 7zip, iso9660, mtree and
// warc writers and with them libxml2, ICU, libstdc++.so and nettle: the
// start-up cost static linking is meant to remove. We provide the helper
// (ctr never selects a writer by name, so nothing needs the table), and the
// link forces this definition in with --undefined so the library's object
// is never needed. Same contract as libarchive 3.6's: set the error for an
// entry whose file type the format cannot store, return ARCHIVE_FAILED.
#include <archive.h>
#include <archive_entry.h>

#include <cerrno>

extern "C" int __archive_write_entry_filetype_unsupported(struct archive* a, struct archive_entry* entry,
                                                          const char* format) {
  const char* type = nullptr;
  switch (archive_entry_filetype(entry)) {
    case AE_IFSOCK: type = "socket"; break;
    case AE_IFCHR: type = "character device"; break;
    case AE_IFBLK: type = "block device"; break;
    case AE_IFDIR: type = "directory"; break;
    case AE_IFIFO: type = "named pipe"; break;
    case AE_IFLNK: type = "symbolic link"; break;
    case AE_IFREG: type = "regular file"; break;
    default: break;
  }
  if (type != nullptr)
    archive_set_error(a, EINVAL, "%s: %s format cannot archive %s", archive_entry_pathname(entry), format, type);
  else
    archive_set_error(a, EINVAL, "%s: %s format cannot archive files with mode 0%lo", archive_entry_pathname(entry),
                      format, static_cast<unsigned long>(archive_entry_mode(entry)));
  return ARCHIVE_FAILED;
}
