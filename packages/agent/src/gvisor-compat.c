/*
 * warden-gvisor-compat.so: preloaded (/etc/ld.so.preload) into every
 * dynamically linked program of a gVisor sandbox.
 *
 * The gVisor release Debian 12 ships (runsc 0.0~20221219) answers EINVAL to
 * statx(2) and fstatat(2) when the flags carry AT_NO_AUTOMOUNT, and
 * coreutils 9 passes that flag on every call: `ls`, `ls -l` and `stat` fail on
 * every path. gVisor has no automount points, so the flag means nothing there
 * (later gVisor releases ignore it the same way); these wrappers drop it and
 * make the system call. Nothing else changes: same arguments, same result,
 * same errno. glibc's internal calls do not go through these symbols.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AT_NO_AUTOMOUNT
#define AT_NO_AUTOMOUNT 0x800
#endif

__attribute__((visibility("default"))) int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf) {
  return (int)syscall(SYS_statx, dirfd, path, flags & ~AT_NO_AUTOMOUNT, mask, buf);
}

__attribute__((visibility("default"))) int fstatat(int dirfd, const char *path, struct stat *buf, int flags) {
  return (int)syscall(SYS_newfstatat, dirfd, path, buf, flags & ~AT_NO_AUTOMOUNT);
}

__attribute__((visibility("default"))) int fstatat64(int dirfd, const char *path, struct stat64 *buf, int flags) {
  return (int)syscall(SYS_newfstatat, dirfd, path, buf, flags & ~AT_NO_AUTOMOUNT);
}
