/*
 * warden-agent fs: file operations inside the sandbox, as the sandbox's own
 * user, so the kernel (not the host) decides what is allowed and every path
 * (symlinks included) resolves in the sandbox's own mount namespace. The host
 * starts it like any command: `/.warden/agent fs <op> ARGS` (see ../FSOPS.md).
 *
 * Output is JSON on stdout (one object, or one object per line); a failure
 * exits non-zero with one JSON line on stderr. File names are bytes: valid
 * UTF-8 is emitted as is, every byte of an invalid sequence as the lone
 * surrogate \udcXX (Python's "surrogateescape"), which no valid UTF-8 decodes
 * to, so the host can turn a name back into its exact bytes.
 *
 * Memory is bounded: files and trees are streamed, never loaded whole.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "fsops.h"

#define CHUNK 65536
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define MAX_DEPTH 4096
#define MAX_WINDOW (64u * 1024u * 1024u)

/* ---- output --------------------------------------------------------------- */

struct sink {
  int fd;
  size_t len;
  char buf[CHUNK];
};

static struct sink out = { .fd = STDOUT_FILENO };
static struct sink err_sink = { .fd = STDERR_FILENO };

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

static void sink_flush(struct sink *k) {
  /* stdout gone means the host gave up on us: nothing left to do. */
  if (k->len && write_all(k->fd, k->buf, k->len) != 0) _exit(EXIT_FAILED);
  k->len = 0;
}

static void sink_bytes(struct sink *k, const void *p, size_t n) {
  if (k->len + n > sizeof k->buf) sink_flush(k);
  if (n > sizeof k->buf) {
    if (write_all(k->fd, p, n) != 0) _exit(EXIT_FAILED);
    return;
  }
  memcpy(k->buf + k->len, p, n);
  k->len += n;
}

static void sink_str(struct sink *k, const char *s) { sink_bytes(k, s, strlen(s)); }

static void sink_fmt(struct sink *k, const char *fmt, long long v) {
  char b[32];
  int n = snprintf(b, sizeof b, fmt, v);
  sink_bytes(k, b, (size_t)n);
}

/* Length of the well-formed UTF-8 sequence at s (Unicode Table 3-7: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c == 0xe0) { len = 3; lo = 0xa0; }
  else if (c >= 0xe1 && c <= 0xec) len = 3;
  else if (c == 0xed) { len = 3; hi = 0x9f; }
  else if (c >= 0xee && c <= 0xef) len = 3;
  else if (c == 0xf0) { len = 4; lo = 0x90; }
  else if (c >= 0xf1 && c <= 0xf3) len = 4;
  else if (c == 0xf4) { len = 4; hi = 0x8f; }
  else return 0;
  if (n < len) return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xbf) return 0;
  return len;
}

static void json_str(struct sink *k, const char *str, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str;
  sink_bytes(k, "\"", 1);
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c >= 0x80) {
      size_t len = utf8_len(s + i, n - i);
      if (len) {
        sink_bytes(k, s + i, len);
        i += len;
      } else {
        char e[6] = { '\\', 'u', 'd', 'c', hex[c >> 4], hex[c & 15] };
        sink_bytes(k, e, 6);
        i++;
      }
      continue;
    }
    if (c == '"' || c == '\\') {
      char e[2] = { '\\', (char)c };
      sink_bytes(k, e, 2);
    } else if (c < 0x20 || c == 0x7f) {
      char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
      sink_bytes(k, e, 6);
    } else {
      sink_bytes(k, &s[i], 1);
    }
    i++;
  }
  sink_bytes(k, "\"", 1);
}

static void json_cstr(struct sink *k, const char *s) { json_str(k, s, strlen(s)); }

/* ---- failure -------------------------------------------------------------- */

/* One JSON line on stderr: {"errno":"ENOENT","message":"...","path":"..."}. */
__attribute__((noreturn)) static void fail(int e, const char *message, const char *path, const char *dest) {
  const char *name = strerrorname_np(e);
  sink_flush(&out);
  sink_str(&err_sink, "{\"errno\":");
  json_cstr(&err_sink, name ? name : "EUNKNOWN");
  sink_str(&err_sink, ",\"message\":");
  json_cstr(&err_sink, message ? message : strerror(e));
  if (path) {
    sink_str(&err_sink, ",\"path\":");
    json_cstr(&err_sink, path);
  }
  if (dest) {
    sink_str(&err_sink, ",\"dest\":");
    json_cstr(&err_sink, dest);
  }
  sink_str(&err_sink, "}\n");
  sink_flush(&err_sink);
  exit(e == EINVAL && !path ? EXIT_USAGE : EXIT_FAILED);
}

__attribute__((noreturn)) static void usage(const char *what) { fail(EINVAL, what, NULL, NULL); }

/* ---- paths ---------------------------------------------------------------- */

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* An absolute path as given, or `hex:` and its bytes in hex (how the host
 * passes names that are not valid UTF-8: argv travels as UTF-8 strings). */
static char *path_arg(const char *a) {
  char *p;
  if (a[0] == '/') {
    p = strdup(a);
  } else if (strncmp(a, "hex:", 4) == 0) {
    const char *h = a + 4;
    size_t n = strlen(h);
    if (n % 2) usage("a hex: path needs an even number of hex digits");
    p = malloc(n / 2 + 1);
    if (!p) fail(ENOMEM, NULL, NULL, NULL);
    for (size_t i = 0; i < n / 2; i++) {
      int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
      if (hi < 0 || lo < 0) usage("a hex: path holds a non-hex digit");
      p[i] = (char)(hi << 4 | lo);
      if (!p[i]) usage("a path must not contain NUL bytes");
    }
    p[n / 2] = 0;
    if (p[0] != '/') usage("paths must be absolute");
  } else {
    usage("paths must be absolute (start with /) or be hex: and the path's bytes in hex");
  }
  if (!p) fail(ENOMEM, NULL, NULL, NULL);
  if (strlen(p) >= PATH_MAX) fail(ENAMETOOLONG, NULL, p, NULL);
  return p;
}

/* A growable path for walks: push a name, pop back to a saved length. */
struct pbuf {
  char *b;
  size_t len, cap;
};

static void pb_init(struct pbuf *pb, const char *root) {
  pb->len = strlen(root);
  pb->cap = pb->len + 256 + 2;
  pb->b = malloc(pb->cap);
  if (!pb->b) fail(ENOMEM, NULL, root, NULL);
  memcpy(pb->b, root, pb->len + 1);
  while (pb->len > 1 && pb->b[pb->len - 1] == '/') pb->b[--pb->len] = 0;
}

static size_t pb_push(struct pbuf *pb, const char *name) {
  size_t save = pb->len, n = strlen(name);
  if (pb->len + n + 2 > pb->cap) {
    size_t ncap = (pb->len + n + 2) * 2;
    char *nb = realloc(pb->b, ncap);
    if (!nb) fail(ENOMEM, NULL, pb->b, NULL);
    pb->b = nb;
    pb->cap = ncap;
  }
  if (!(pb->len == 1 && pb->b[0] == '/')) pb->b[pb->len++] = '/';
  memcpy(pb->b + pb->len, name, n + 1);
  pb->len += n;
  return save;
}

static void pb_set(struct pbuf *pb, const char *path) {
  size_t n = strlen(path);
  if (n + 1 > pb->cap) {
    char *nb = realloc(pb->b, n + 256 + 2);
    if (!nb) fail(ENOMEM, NULL, path, NULL);
    pb->b = nb;
    pb->cap = n + 256 + 2;
  }
  memcpy(pb->b, path, n + 1);
  pb->len = n;
}

static void pb_pop(struct pbuf *pb, size_t save) {
  pb->len = save;
  pb->b[save] = 0;
}

/* The last component of a path (trailing slashes ignored), copied. */
static char *base_name(const char *path) {
  size_t end = strlen(path);
  while (end > 1 && path[end - 1] == '/') end--;
  size_t start = end;
  while (start > 0 && path[start - 1] != '/') start--;
  if (end == 1 && path[0] == '/') start = 0;
  char *b = strndup(path + start, end - start);
  if (!b) fail(ENOMEM, NULL, path, NULL);
  return b;
}

/* Splits `path` into an open parent directory and the last component; refuses
 * "/", "." and ".." as the last component (they name no entry to act on). */
static int open_parent(const char *path, char **base) {
  char *b = base_name(path);
  if (!b[0] || strcmp(b, "/") == 0 || strcmp(b, ".") == 0 || strcmp(b, "..") == 0) fail(EINVAL, "the path must name an entry (not /, . or ..)", path, NULL);
  size_t end = strlen(path);
  while (end > 1 && path[end - 1] == '/') end--;
  size_t dlen = end - strlen(b);
  char *dir = dlen == 0 ? strdup(".") : strndup(path, dlen);
  if (!dir) fail(ENOMEM, NULL, path, NULL);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(errno, NULL, path, NULL);
  free(dir);
  *base = b;
  return fd;
}

/* mkdir -p. On failure errno says why and `p` is left whole. A last
 * component that exists as a non-directory is EEXIST when it is the directory
 * asked for, ENOTDIR when it is the parent of something. */
static int mkdir_p(char *p, int *created, int is_parent) {
  size_t len = strlen(p);
  *created = 0;
  for (size_t i = 1; i <= len; i++) {
    if (i < len && p[i] != '/') continue;
    if (p[i - 1] == '/') continue;
    char c = p[i];
    p[i] = 0;
    if (mkdir(p, 0755) == 0) {
      if (i == len) *created = 1;
    } else {
      int e = errno;
      struct stat st;
      if (stat(p, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) e = i == len && !is_parent ? EEXIST : ENOTDIR;
        else e = 0;
      } else if (e == EEXIST) {
        e = errno; /* a dangling symlink: what it points to does not exist */
      }
      if (e) {
        p[i] = c;
        errno = e;
        return -1;
      }
    }
    p[i] = c;
  }
  return 0;
}

/* ---- entries -------------------------------------------------------------- */

static const char *type_of(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "symlink";
  return "other";
}

/* {"name","path","type","size","mode","mtime"(ms)[,"target"]} — `at`/`rel`
 * locate the entry again for readlinkat. */
static void put_entry(const char *name, const char *path, const struct stat *st, int at, const char *rel) {
  sink_str(&out, "{\"name\":");
  json_cstr(&out, name);
  sink_str(&out, ",\"path\":");
  json_cstr(&out, path);
  sink_str(&out, ",\"type\":");
  json_cstr(&out, type_of(st->st_mode));
  sink_fmt(&out, ",\"size\":%lld", (long long)st->st_size);
  sink_fmt(&out, ",\"mode\":%lld", (long long)(st->st_mode & 07777));
  sink_fmt(&out, ",\"mtime\":%lld", (long long)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000);
  if (S_ISLNK(st->st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(at, rel, target, sizeof target);
    if (n >= 0) {
      sink_str(&out, ",\"target\":");
      json_str(&out, target, (size_t)n);
    }
  }
  sink_str(&out, "}\n");
}

/* ---- stat, exists, mkdir, move ------------------------------------------- */

static int op_stat(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) fail(errno, NULL, path, NULL);
  char *name = base_name(path);
  put_entry(name, path, &st, AT_FDCWD, path);
  free(name);
  return 0;
}

static int op_exists(const char *path) {
  struct stat st;
  if (lstat(path, &st) == 0) sink_str(&out, "{\"exists\":true}\n");
  else if (errno == ENOENT || errno == ENOTDIR) sink_str(&out, "{\"exists\":false}\n");
  else fail(errno, NULL, path, NULL);
  return 0;
}

static int op_mkdir(char *path) {
  int created;
  if (mkdir_p(path, &created, 0) != 0) fail(errno, NULL, path, NULL);
  sink_str(&out, created ? "{\"created\":true}\n" : "{\"created\":false}\n");
  return 0;
}

static int op_move(const char *src, const char *dst, int overwrite) {
  int rc = renameat2(AT_FDCWD, src, AT_FDCWD, dst, overwrite ? 0 : RENAME_NOREPLACE);
  if (rc != 0 && errno == EINVAL && !overwrite) {
    /* A filesystem without RENAME_NOREPLACE: check, then rename (racy, but
     * only against the sandbox's own processes). */
    struct stat st;
    if (lstat(dst, &st) == 0) errno = EEXIST;
    else rc = rename(src, dst);
  }
  if (rc != 0) {
    int e = errno;
    struct stat st;
    /* rename(2) does not say which side failed; say it where we can tell. */
    if ((e == ENOENT || e == ENOTDIR) && lstat(src, &st) == 0) fail(e, NULL, dst, NULL);
    if (e == EEXIST || e == ENOTEMPTY || e == EISDIR) fail(e, NULL, dst, NULL);
    fail(e, NULL, src, dst);
  }
  struct stat st;
  if (lstat(dst, &st) != 0) fail(errno, NULL, dst, NULL);
  char *name = base_name(dst);
  put_entry(name, dst, &st, AT_FDCWD, dst);
  free(name);
  return 0;
}

/* ---- list ----------------------------------------------------------------- */

static void list_dir(int fd, struct pbuf *pb, int level, int depth) {
  DIR *d = fdopendir(fd);
  if (!d) fail(errno, NULL, pb->b, NULL);
  struct dirent *e;
  for (;;) {
    errno = 0;
    e = readdir(d);
    if (!e) break;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue; /* removed since readdir */
      /* No search permission on the directory: the name is all we know. */
      memset(&st, 0, sizeof st);
      st.st_mode = e->d_type == DT_DIR ? S_IFDIR : e->d_type == DT_REG ? S_IFREG : e->d_type == DT_LNK ? S_IFLNK : S_IFIFO;
    }
    size_t save = pb_push(pb, e->d_name);
    put_entry(e->d_name, pb->b, &st, dirfd(d), e->d_name);
    if (S_ISDIR(st.st_mode) && level < depth) {
      int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) list_dir(sub, pb, level + 1, depth);
      else if (errno != EACCES && errno != ENOENT && errno != ENOTDIR && errno != ELOOP) fail(errno, NULL, pb->b, NULL);
    }
    pb_pop(pb, save);
  }
  if (errno) fail(errno, NULL, pb->b, NULL);
  closedir(d);
}

static int op_list(const char *path, const char *depth_arg) {
  char *end;
  long depth = strtol(depth_arg, &end, 10);
  if (*end || depth < 1 || depth > MAX_DEPTH) usage("list DEPTH must be an integer from 1 to 4096");
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(errno, NULL, path, NULL);
  struct pbuf pb;
  pb_init(&pb, path);
  list_dir(fd, &pb, 1, (int)depth);
  free(pb.b);
  return 0;
}

/* ---- remove --------------------------------------------------------------- */

/* Empties the directory open on `fd` (which it closes). Never follows a
 * symlink: every step is relative to an open directory and opens with
 * O_NOFOLLOW, so a link swapped in mid-walk fails instead of redirecting. */
static void remove_contents(int fd, struct pbuf *pb) {
  DIR *d = fdopendir(fd);
  if (!d) fail(errno, NULL, pb->b, NULL);
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) break;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    size_t save = pb_push(pb, e->d_name);
    int is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) { pb_pop(pb, save); continue; }
        fail(errno, NULL, pb->b, NULL);
      }
      is_dir = S_ISDIR(st.st_mode);
    }
    if (is_dir) {
      int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) fail(errno, NULL, pb->b, NULL);
      remove_contents(sub, pb);
    }
    if (unlinkat(dirfd(d), e->d_name, is_dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) fail(errno, NULL, pb->b, NULL);
    pb_pop(pb, save);
  }
  if (errno) fail(errno, NULL, pb->b, NULL);
  closedir(d);
}

static int op_remove(const char *path) {
  char *base;
  int parent = open_parent(path, &base);
  struct stat st;
  if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) != 0) fail(errno, NULL, path, NULL);
  if (S_ISDIR(st.st_mode)) {
    int fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fail(errno, NULL, path, NULL);
    struct pbuf pb;
    pb_init(&pb, path);
    remove_contents(fd, &pb);
    free(pb.b);
  }
  if (unlinkat(parent, base, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0) fail(errno, NULL, path, NULL);
  sink_str(&out, "{\"removed\":true}\n");
  return 0;
}

/* ---- read ----------------------------------------------------------------- */

static uint64_t parse_u64(const char *s, uint64_t min, uint64_t max, const char *what) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || !*s || s[0] == '-' || v < min || v > max) usage(what);
  return v;
}

/* Streams the file's bytes to stdout. With WINDOW and CREDITS the host paces
 * us: we may run CREDITS windows ahead of it, and every byte it writes to our
 * stdin grants one more window. The agent has no flow control of its own, so
 * this is what keeps a slow reader on the host from buffering a whole file. */
static int op_read(const char *path, const char *window_arg, const char *credits_arg) {
  uint64_t window = 0, allowed = UINT64_MAX, sent = 0;
  if (window_arg) {
    window = parse_u64(window_arg, 1, MAX_WINDOW, "read WINDOW must be a byte count from 1 to 64 MiB");
    allowed = window * parse_u64(credits_arg, 1, 64, "read CREDITS must be an integer from 1 to 64");
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) fail(errno, NULL, path, NULL);
  struct stat st;
  if (fstat(fd, &st) != 0) fail(errno, NULL, path, NULL);
  if (S_ISDIR(st.st_mode)) fail(EISDIR, NULL, path, NULL);
  /* A fifo or device could block or never end. */
  if (!S_ISREG(st.st_mode)) fail(EINVAL, "not a regular file", path, NULL);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  static char buf[CHUNK];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno, NULL, path, NULL);
    }
    if (n == 0) break;
    size_t off = 0;
    while (off < (size_t)n) {
      while (sent >= allowed) {
        char credit[64];
        ssize_t r = read(STDIN_FILENO, credit, sizeof credit);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0; /* the host stopped reading */
        allowed += (uint64_t)r * window;
      }
      size_t take = (size_t)n - off;
      if (take > allowed - sent) take = (size_t)(allowed - sent);
      if (write_all(STDOUT_FILENO, buf + off, take) != 0) return EXIT_FAILED;
      off += take;
      sent += take;
    }
  }
  return 0;
}

/* ---- write ---------------------------------------------------------------- */

static int tmp_name(char *name, size_t size) {
  unsigned char r[8];
  if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) return -1;
  snprintf(name, size, ".warden-write-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
  return 0;
}

/* Gives the temp file open on `fd` a name in `dir`; anonymous (O_TMPFILE) ones
 * are linked through /proc, which needs no capability. */
static int name_temp(int fd, int dir, int anonymous, char *name, size_t size) {
  if (!anonymous) return 0;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  for (int tries = 0; tries < 16; tries++) {
    if (tmp_name(name, size) != 0) return -1;
    if (linkat(AT_FDCWD, proc, dir, name, AT_SYMLINK_FOLLOW) == 0) return 0;
    if (errno != EEXIST) break;
  }
  name[0] = 0; /* not ours: the caller must not unlink it */
  return -1;
}

static int copy_fd(int from, int to) {
  static char buf[CHUNK];
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(from, buf, sizeof buf, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return 0;
    if (write_all(to, buf, (size_t)n) != 0) return -1;
    off += n;
  }
}

/* stdin → a temp file in the target's directory → rename over the target, so
 * a reader sees the old file or the new one, never half of one. Missing
 * parents are created (0755). A new file gets mode 0644; a replaced regular
 * file keeps its permission bits. With ACK, prints {"written":N} each time
 * another ACK bytes reached the file, which is how the host paces its writes:
 * the agent would otherwise queue up to 64 MiB and then drop our stdin. */
static int op_write(char *path, const char *ack_arg) {
  uint64_t ack = ack_arg ? parse_u64(ack_arg, 1, MAX_WINDOW, "write ACK must be a byte count from 1 to 64 MiB") : 0;
  char *base = base_name(path);
  if (!base[0] || strcmp(base, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) fail(EINVAL, "the path must name a file (not /, . or ..)", path, NULL);
  free(base);
  {
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/') end--;
    size_t slash = end;
    while (slash > 0 && path[slash - 1] != '/') slash--;
    if (slash > 1) {
      char *parent = strndup(path, slash - 1);
      int created;
      if (!parent) fail(ENOMEM, NULL, path, NULL);
      if (mkdir_p(parent, &created, 1) != 0) fail(errno, NULL, parent, NULL);
      free(parent);
    }
  }
  int dir = open_parent(path, &base);
  struct stat old;
  int have_old = fstatat(dir, base, &old, AT_SYMLINK_NOFOLLOW) == 0;
  if (have_old && S_ISDIR(old.st_mode)) fail(EISDIR, NULL, path, NULL);
  int replaces_file = have_old && S_ISREG(old.st_mode);
  mode_t mode = replaces_file ? (old.st_mode & 0777) : 0644;

  char tmp[64] = "";
  int anonymous = 1;
  int fd = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    anonymous = 0;
    for (int tries = 0; tries < 16 && fd < 0; tries++) {
      if (tmp_name(tmp, sizeof tmp) != 0) fail(errno, NULL, path, NULL);
      fd = openat(dir, tmp, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 && errno != EEXIST) break;
    }
  }
  if (fd < 0) fail(errno, NULL, path, NULL);
#define FAIL_CLEAN(e) do { int e_ = (e); if (tmp[0]) unlinkat(dir, tmp, 0); fail(e_, NULL, path, NULL); } while (0)
  if (fchmod(fd, mode) != 0) FAIL_CLEAN(errno);

  static char buf[4 * CHUNK];
  uint64_t total = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      FAIL_CLEAN(errno);
    }
    if (n == 0) break;
    if (write_all(fd, buf, (size_t)n) != 0) FAIL_CLEAN(errno);
    uint64_t before = total;
    total += (uint64_t)n;
    if (ack && total / ack != before / ack) {
      sink_fmt(&out, "{\"written\":%lld}\n", (long long)total);
      sink_flush(&out);
    }
  }

  if (name_temp(fd, dir, anonymous, tmp, sizeof tmp) != 0) FAIL_CLEAN(errno);
  if (renameat(dir, tmp, dir, base) != 0) {
    int e = errno;
    /* A sticky directory (a codebase directory that also holds entries the
     * sandbox may not touch) refuses replacing a file we do not own, even
     * one we may write. Write it in place then: not atomic, but the only way
     * the sandbox's own programs could change it too. */
    if (!((e == EPERM || e == EACCES) && replaces_file)) FAIL_CLEAN(e);
    int to = openat(dir, base, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (to < 0) FAIL_CLEAN(errno);
    if (copy_fd(fd, to) != 0) FAIL_CLEAN(errno);
    if (close(to) != 0) FAIL_CLEAN(errno);
    unlinkat(dir, tmp, 0);
  }
#undef FAIL_CLEAN
  close(fd);
  struct stat st;
  if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) != 0) fail(errno, NULL, path, NULL);
  char *name = base_name(path);
  put_entry(name, path, &st, dir, base);
  return 0;
}

/* ---- watch ---------------------------------------------------------------- */

#define WATCH_MASK (IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_DELETE | IN_DELETE_SELF | IN_MOVED_FROM | IN_MOVED_TO | IN_MOVE_SELF)

/* Watched directories by watch descriptor, sorted by wd. Proportional to the
 * number of directories watched, which the kernel caps (max_user_watches). */
struct wnode {
  int wd;
  char *path;
};
static struct wnode *wn;
static size_t wn_len, wn_cap;
static int ifd = -1, root_wd = -1, recursive;

static size_t wn_pos(int wd) {
  size_t lo = 0, hi = wn_len;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (wn[mid].wd < wd) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static struct wnode *wn_find(int wd) {
  size_t i = wn_pos(wd);
  return i < wn_len && wn[i].wd == wd ? &wn[i] : NULL;
}

static void wn_set(int wd, const char *path) {
  char *copy = strdup(path);
  if (!copy) fail(ENOMEM, NULL, path, NULL);
  size_t i = wn_pos(wd);
  if (i < wn_len && wn[i].wd == wd) {
    free(wn[i].path);
    wn[i].path = copy;
    return;
  }
  if (wn_len == wn_cap) {
    size_t ncap = wn_cap ? wn_cap * 2 : 64;
    struct wnode *n = realloc(wn, ncap * sizeof *n);
    if (!n) fail(ENOMEM, NULL, path, NULL);
    wn = n;
    wn_cap = ncap;
  }
  memmove(wn + i + 1, wn + i, (wn_len - i) * sizeof *wn);
  wn[i].wd = wd;
  wn[i].path = copy;
  wn_len++;
}

static void wn_del(struct wnode *w) {
  size_t i = (size_t)(w - wn);
  free(w->path);
  memmove(wn + i, wn + i + 1, (wn_len - i - 1) * sizeof *wn);
  wn_len--;
}

static void emit(const char *type, const char *path) {
  sink_str(&out, "{\"type\":\"");
  sink_str(&out, type);
  sink_str(&out, "\",\"path\":");
  json_cstr(&out, path);
  sink_str(&out, "}\n");
}

/* Watches the directory at pb and, recursively, every directory below it.
 * With `announce`, reports what it finds as created: a directory that just
 * appeared may have been filled before its watch existed. */
static void watch_tree(struct pbuf *pb, int announce, int depth) {
  if (depth > MAX_DEPTH) return;
  int wd = inotify_add_watch(ifd, pb->b, WATCH_MASK | IN_ONLYDIR | IN_DONT_FOLLOW);
  if (wd < 0) {
    if (errno == ENOSPC) fail(ENOSPC, "the inotify watch limit was reached (fs.inotify.max_user_watches)", pb->b, NULL);
    if (errno == ENOMEM) fail(ENOMEM, NULL, pb->b, NULL);
    return; /* gone already, not a directory any more, or not readable */
  }
  wn_set(wd, pb->b);
  int fd = open(pb->b, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  DIR *d = fdopendir(fd);
  if (!d) { close(fd); return; }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    size_t save = pb_push(pb, e->d_name);
    if (announce) emit("create", pb->b);
    int is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) watch_tree(pb, announce, depth + 1);
    pb_pop(pb, save);
  }
  closedir(d);
}

/* A directory moved away: its watches would report under its old path. */
static void unwatch_tree(const char *path) {
  size_t n = strlen(path);
  for (size_t i = 0; i < wn_len;) {
    const char *p = wn[i].path;
    if (wn[i].wd != root_wd && strncmp(p, path, n) == 0 && (p[n] == 0 || p[n] == '/')) {
      inotify_rm_watch(ifd, wn[i].wd);
      wn_del(&wn[i]);
    } else {
      i++;
    }
  }
}

static int op_watch(const char *path, int rec) {
  recursive = rec;
  ifd = inotify_init1(IN_CLOEXEC);
  if (ifd < 0) fail(errno, NULL, path, NULL);
  struct stat st;
  if (stat(path, &st) != 0) fail(errno, NULL, path, NULL);
  root_wd = inotify_add_watch(ifd, path, WATCH_MASK);
  if (root_wd < 0) fail(errno, errno == ENOSPC ? "the inotify watch limit was reached (fs.inotify.max_user_watches)" : NULL, path, NULL);
  struct pbuf pb;
  pb_init(&pb, path);
  wn_set(root_wd, pb.b);
  if (recursive && S_ISDIR(st.st_mode)) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail(errno, NULL, path, NULL);
    DIR *d = fdopendir(fd);
    if (!d) fail(errno, NULL, path, NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      struct stat cst;
      if (fstatat(dirfd(d), e->d_name, &cst, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(cst.st_mode)) continue;
      size_t save = pb_push(&pb, e->d_name);
      watch_tree(&pb, 0, 1);
      pb_pop(&pb, save);
    }
    closedir(d);
  }
  sink_str(&out, "{\"ready\":true}\n");
  sink_flush(&out);

  static char buf[CHUNK] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(ifd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno, NULL, path, NULL);
    }
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      p += sizeof *ev + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        emit("overflow", path);
        continue;
      }
      struct wnode *w = wn_find(ev->wd);
      if (!w) continue;
      int is_root = ev->wd == root_wd;
      if (ev->mask & IN_IGNORED) {
        if (is_root) fail(ENOENT, "the watched path was removed or moved away; the watch ended", path, NULL);
        wn_del(w);
        continue;
      }
      /* the event's path: the watched directory plus the name, if any */
      pb_set(&pb, w->path);
      if (ev->len && ev->name[0]) pb_push(&pb, ev->name);
      uint32_t m = ev->mask;
      if (m & (IN_CREATE | IN_MOVED_TO)) emit("create", pb.b);
      else if (m & IN_MODIFY) emit("write", pb.b);
      else if (m & IN_ATTRIB) emit("chmod", pb.b);
      else if (m & IN_DELETE) emit("remove", pb.b);
      else if (m & IN_MOVED_FROM) emit("rename", pb.b);
      /* a subdirectory's own removal or move is reported by its parent */
      else if ((m & IN_DELETE_SELF) && is_root) emit("remove", pb.b);
      else if ((m & IN_MOVE_SELF) && is_root) {
        emit("rename", pb.b);
        fail(ENOENT, "the watched path was moved away; the watch ended", path, NULL);
      }
      if (recursive && (m & IN_ISDIR)) {
        if (m & (IN_CREATE | IN_MOVED_TO)) watch_tree(&pb, 1, 1);
        else if (m & IN_MOVED_FROM) unwatch_tree(pb.b);
      }
    }
    sink_flush(&out);
  }
}

/* ---- entry point ---------------------------------------------------------- */

int fsops_main(int argc, char **argv) {
  /* Sandboxed code runs as our uid: keep it out of /proc/<us>/mem and fd/ so
   * it cannot forge what we report. */
  prctl(PR_SET_DUMPABLE, 0);
  /* Past RLIMIT_FSIZE, write(2) then fails with EFBIG instead of killing us. */
  signal(SIGXFSZ, SIG_IGN);
  umask(022);
  if (argc < 2) usage("usage: fs stat|list|mkdir|move|remove|exists|read|write|watch PATH ...");
  const char *op = argv[0];
  int rc;
  if (strcmp(op, "stat") == 0 && argc == 2) rc = op_stat(path_arg(argv[1]));
  else if (strcmp(op, "exists") == 0 && argc == 2) rc = op_exists(path_arg(argv[1]));
  else if (strcmp(op, "mkdir") == 0 && argc == 2) rc = op_mkdir(path_arg(argv[1]));
  else if (strcmp(op, "remove") == 0 && argc == 2) rc = op_remove(path_arg(argv[1]));
  else if (strcmp(op, "list") == 0 && argc == 3) rc = op_list(path_arg(argv[1]), argv[2]);
  else if (strcmp(op, "move") == 0 && (argc == 3 || (argc == 4 && strcmp(argv[3], "overwrite") == 0)))
    rc = op_move(path_arg(argv[1]), path_arg(argv[2]), argc == 4);
  else if (strcmp(op, "read") == 0 && (argc == 2 || argc == 4)) rc = op_read(path_arg(argv[1]), argc == 4 ? argv[2] : NULL, argc == 4 ? argv[3] : NULL);
  else if (strcmp(op, "write") == 0 && (argc == 2 || argc == 3)) rc = op_write(path_arg(argv[1]), argc == 3 ? argv[2] : NULL);
  else if (strcmp(op, "watch") == 0 && (argc == 2 || (argc == 3 && strcmp(argv[2], "recursive") == 0))) rc = op_watch(path_arg(argv[1]), argc == 3);
  else {
    usage("usage: fs stat PATH | list PATH DEPTH | mkdir PATH | move SRC DST [overwrite] | remove PATH | exists PATH | read PATH [WINDOW CREDITS] | write PATH [ACK] | watch PATH [recursive]");
    return EXIT_USAGE;
  }
  sink_flush(&out);
  return rc;
}
