/*
 * warden-agent: the first process of every Warden sandbox.
 *
 * Speaks the length-prefixed protocol documented in ../PROTOCOL.md over
 * stdin/stdout, starts processes with posix_spawn (fork on a pseudo-terminal),
 * streams their output and reports how they ended. Single-threaded, epoll
 * driven, no allocations on the hot path beyond the frame buffers. Build: see
 * ../build.mjs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "fsops.h"
#include "relay.h"

#define AGENT_VERSION "1.2.0"
#define PROTOCOL_VERSION 1
#define HEADER_LEN 9
#define MAX_PAYLOAD (16u * 1024u * 1024u)
#define MAX_STDIN_QUEUE (64u * 1024u * 1024u)
#define READ_CHUNK 65536
#define MAX_ARGS 65536
#define DEFAULT_TERM "TERM=xterm-256color"

/* START flags */
enum { F_STDIN = 1, F_PTY = 2 };
enum { T_START = 0x01, T_STDIN = 0x02, T_SIGNAL = 0x03, T_PING = 0x04, T_RESIZE = 0x05 };
enum {
  T_HELLO = 0x80, T_STARTED = 0x81, T_STDOUT = 0x82, T_STDERR = 0x83,
  T_EXIT = 0x84, T_ERROR = 0x85, T_PONG = 0x86
};
enum {
  E_MALFORMED = 1, E_START = 2, E_UNKNOWN_TYPE = 3, E_UNKNOWN_ID = 4,
  E_TOO_LARGE = 5, E_DUPLICATE_ID = 6, E_STDIN_OVERFLOW = 7, E_NOT_A_TTY = 8
};
/* SIGNAL scopes */
enum { S_PROCESS = 0, S_GROUP = 1, S_TREE = 2, S_DESCENDANTS = 3 };

/* epoll tags: low 2 bits say which fd of a process, the rest is the slot. */
enum { TAG_CONTROL = 0, TAG_SIGNAL = 1, TAG_STDOUT = 2, TAG_STDERR = 3, TAG_STDIN = 4 };

struct chunk {
  struct chunk *next;
  size_t len, off;
  unsigned char data[];
};

struct proc {
  int used;
  uint32_t id;
  pid_t pid;
  int out_fd, err_fd, in_fd;   /* -1 when closed */
  /* A pty process: the master, kept open for RESIZE and the terminal's
   * lifetime; out_fd and in_fd are its duplicates, err_fd is -1. */
  int pty_fd;
  int in_close_pending;        /* empty STDIN frame seen */
  struct chunk *in_head, *in_tail;
  size_t in_queued;
  int reaped;
  int status;
  struct rusage usage;
};

static struct proc *procs;
static size_t nprocs_cap;
static int epfd;
static unsigned char *inbuf;
static size_t inbuf_len, inbuf_cap;
static uint64_t discard_left; /* bytes of an oversized frame still to skip */

static void die(const char *what) {
  fprintf(stderr, "warden-agent: %s: %s\n", what, strerror(errno));
  exit(70);
}

static void put_u16(unsigned char *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}
static void put_u64(unsigned char *p, uint64_t v) {
  put_u32(p, (uint32_t)v);
  put_u32(p + 4, (uint32_t)(v >> 32));
}
static uint16_t get_u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Writes are blocking: the host always drains our stdout, and blocking here is
 * the back-pressure that stops a flooding process from growing our memory. */
static void write_all_iov(struct iovec *iov, int cnt) {
  while (cnt > 0) {
    ssize_t n = writev(STDOUT_FILENO, iov, cnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      /* The host is gone: nothing left to serve. */
      exit(0);
    }
    while (cnt > 0 && (size_t)n >= iov->iov_len) {
      n -= (ssize_t)iov->iov_len;
      iov++;
      cnt--;
    }
    if (cnt > 0) {
      iov->iov_base = (char *)iov->iov_base + n;
      iov->iov_len -= (size_t)n;
    }
  }
}

static void send_frame2(uint8_t type, uint32_t id, const void *a, size_t alen,
                        const void *b, size_t blen) {
  unsigned char hdr[HEADER_LEN];
  put_u32(hdr, (uint32_t)(5 + alen + blen));
  hdr[4] = type;
  put_u32(hdr + 5, id);
  struct iovec iov[3] = {
    { hdr, HEADER_LEN }, { (void *)a, alen }, { (void *)b, blen }
  };
  write_all_iov(iov, 3);
}

static void send_frame(uint8_t type, uint32_t id, const void *p, size_t len) {
  send_frame2(type, id, p, len, NULL, 0);
}

static void send_error(uint32_t id, uint16_t code, const char *msg) {
  size_t mlen = strlen(msg);
  unsigned char head[6];
  put_u16(head, code);
  put_u32(head + 2, (uint32_t)mlen);
  send_frame2(T_ERROR, id, head, sizeof head, msg, mlen);
}

static struct proc *find_proc(uint32_t id) {
  for (size_t i = 0; i < nprocs_cap; i++)
    if (procs[i].used && procs[i].id == id) return &procs[i];
  return NULL;
}

static struct proc *find_pid(pid_t pid) {
  for (size_t i = 0; i < nprocs_cap; i++)
    if (procs[i].used && procs[i].pid == pid) return &procs[i];
  return NULL;
}

static struct proc *alloc_proc(void) {
  for (size_t i = 0; i < nprocs_cap; i++)
    if (!procs[i].used) return &procs[i];
  size_t ncap = nprocs_cap ? nprocs_cap * 2 : 16;
  struct proc *n = realloc(procs, ncap * sizeof *n);
  if (!n) die("realloc");
  memset(n + nprocs_cap, 0, (ncap - nprocs_cap) * sizeof *n);
  procs = n;
  struct proc *p = &procs[nprocs_cap];
  nprocs_cap = ncap;
  return p;
}

static uint64_t tag_of(struct proc *p, int which) {
  return ((uint64_t)(p - procs) << 3) | (uint64_t)which;
}

static void close_fd(int *fd) {
  if (*fd >= 0) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, *fd, NULL);
    close(*fd);
    *fd = -1;
  }
}

static void free_stdin_queue(struct proc *p) {
  struct chunk *c = p->in_head;
  while (c) {
    struct chunk *n = c->next;
    free(c);
    c = n;
  }
  p->in_head = p->in_tail = NULL;
  p->in_queued = 0;
}

static void release(struct proc *p) {
  close_fd(&p->out_fd);
  close_fd(&p->err_fd);
  close_fd(&p->in_fd);
  /* The last descriptor of the master: the terminal hangs up, and whatever
   * still holds its slave gets end-of-file on reads and EIO on writes. */
  if (p->pty_fd >= 0) close(p->pty_fd);
  p->pty_fd = -1;
  free_stdin_queue(p);
  p->used = 0;
}

/* Reads one chunk from an output pipe or pty master. Returns 0 on EOF or error
 * (closed; on a master EIO means no process holds the slave any more), 1 when
 * data was forwarded, -1 when nothing is available right now. */
static int pump_output(struct proc *p, int *fd, uint8_t type) {
  static unsigned char buf[READ_CHUNK];
  ssize_t n = read(*fd, buf, sizeof buf);
  if (n > 0) {
    send_frame(type, p->id, buf, (size_t)n);
    return 1;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return -1;
  close_fd(fd);
  return 0;
}

static void send_exit(struct proc *p) {
  unsigned char b[29];
  if (WIFSIGNALED(p->status)) {
    b[0] = 1;
    put_u32(b + 1, (uint32_t)WTERMSIG(p->status));
  } else {
    b[0] = 0;
    put_u32(b + 1, (uint32_t)WEXITSTATUS(p->status));
  }
  uint64_t user = (uint64_t)p->usage.ru_utime.tv_sec * 1000000u + (uint64_t)p->usage.ru_utime.tv_usec;
  uint64_t sys = (uint64_t)p->usage.ru_stime.tv_sec * 1000000u + (uint64_t)p->usage.ru_stime.tv_usec;
  put_u64(b + 5, user);
  put_u64(b + 13, sys);
  put_u64(b + 21, (uint64_t)p->usage.ru_maxrss);
  send_frame(T_EXIT, p->id, b, sizeof b);
}

/* Once reaped, forward what is already buffered in the pipes, then report the
 * exit. Data written later by background children that inherited the pipes is
 * not waited for: a command ends when its process ends. */
static void finish(struct proc *p) {
  while (p->out_fd >= 0 && pump_output(p, &p->out_fd, T_STDOUT) == 1) {}
  while (p->err_fd >= 0 && pump_output(p, &p->err_fd, T_STDERR) == 1) {}
  send_exit(p);
  release(p);
}

static void reap_children(void) {
  for (;;) {
    int status;
    struct rusage ru;
    pid_t pid = wait4(-1, &status, WNOHANG, &ru);
    if (pid <= 0) return;
    struct proc *p = find_pid(pid);
    if (!p) continue; /* an orphan re-parented to us (we are PID 1) */
    p->reaped = 1;
    p->status = status;
    p->usage = ru;
    finish(p);
  }
}

/* ---- process tree signalling ------------------------------------------ */

struct pinfo { pid_t pid, ppid, pgrp, sid; };

static size_t scan_procs(struct pinfo **out) {
  size_t n = 0, cap = 64;
  struct pinfo *v = malloc(cap * sizeof *v);
  if (!v) return 0;
  DIR *d = opendir("/proc");
  if (!d) { free(v); return 0; }
  struct dirent *e;
  char path[300], buf[512];
  while ((e = readdir(d))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) continue;
    buf[r] = 0;
    /* comm may contain spaces and parentheses: parse after the last ')'. */
    char *rp = strrchr(buf, ')');
    if (!rp) continue;
    char state;
    int ppid, pgrp, sid;
    if (sscanf(rp + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sid) != 4) continue;
    if (n == cap) {
      cap *= 2;
      struct pinfo *nv = realloc(v, cap * sizeof *nv);
      if (!nv) break;
      v = nv;
    }
    v[n].pid = atoi(e->d_name);
    v[n].ppid = ppid;
    v[n].pgrp = pgrp;
    v[n].sid = sid;
    n++;
  }
  closedir(d);
  *out = v;
  return n;
}

/* Marks, in a /proc snapshot, root's tree: root, its session and process
 * group, and every descendant by parent links. */
static char *mark_tree(const struct pinfo *v, size_t n, pid_t root) {
  char *mark = calloc(n ? n : 1, 1);
  if (!mark) return NULL;
  for (size_t i = 0; i < n; i++)
    if (v[i].pid == root || v[i].sid == root || v[i].pgrp == root) mark[i] = 1;
  int grew = 1;
  while (grew) {
    grew = 0;
    for (size_t i = 0; i < n; i++) {
      if (mark[i]) continue;
      for (size_t j = 0; j < n; j++)
        if (mark[j] && v[i].ppid == v[j].pid) { mark[i] = 1; grew = 1; break; }
    }
  }
  return mark;
}

/* The tree is walked before anything in it is signalled: a process that dies
 * hands its children to init, which cuts the parent links the walk follows
 * (a child that called setsid would escape). For SIGKILL the tree is first
 * frozen with SIGSTOP, pass after pass until a pass finds nothing new (a
 * stopped process can neither fork nor exit), then killed as a whole.
 * Without with_root, root itself is left alone (SIGNAL scope 3): it keeps
 * running, so what it forks while the walk is under way may be missed. */
static void signal_tree(pid_t root, int sig, int with_root) {
  int freeze = sig == SIGKILL;
  pid_t *seen = NULL;
  size_t nseen = 0, capseen = 0;
  for (int round = 0; round < 64; round++) {
    struct pinfo *v = NULL;
    size_t n = scan_procs(&v);
    if (!v) break;
    char *mark = mark_tree(v, n, root);
    if (!mark) { free(v); break; }
    size_t fresh = 0;
    for (size_t i = 0; i < n; i++) {
      if (!mark[i] || v[i].pid == 1 || v[i].pid == getpid() || (!with_root && v[i].pid == root)) continue;
      int known = 0;
      for (size_t k = 0; k < nseen && !known; k++) known = seen[k] == v[i].pid;
      if (known) continue;
      if (nseen == capseen) {
        size_t ncap = capseen ? capseen * 2 : 64;
        pid_t *ns = realloc(seen, ncap * sizeof *ns);
        if (!ns) break;
        seen = ns;
        capseen = ncap;
      }
      seen[nseen++] = v[i].pid;
      fresh++;
      kill(v[i].pid, freeze ? SIGSTOP : sig);
    }
    free(mark);
    free(v);
    if (!fresh || !freeze) break;
  }
  if (freeze) {
    if (with_root) kill(-root, SIGKILL);
    for (size_t k = 0; k < nseen; k++) kill(seen[k], SIGKILL);
    reap_children();
  } else if (!nseen && with_root) {
    kill(-root, sig); /* /proc unreadable: the group is the best we can do */
  }
  free(seen);
}

/* ---- starting processes ------------------------------------------------ */

struct reader { const unsigned char *p; size_t left; int bad; };

static uint16_t rd_u16(struct reader *r) {
  if (r->left < 2) { r->bad = 1; return 0; }
  uint16_t v = get_u16(r->p);
  r->p += 2; r->left -= 2;
  return v;
}

static uint32_t rd_u32(struct reader *r) {
  if (r->left < 4) { r->bad = 1; return 0; }
  uint32_t v = get_u32(r->p);
  r->p += 4; r->left -= 4;
  return v;
}

/* Returns a freshly allocated NUL-terminated copy; rejects embedded NULs. */
static char *rd_str(struct reader *r) {
  uint32_t len = rd_u32(r);
  if (r->bad || len > r->left) { r->bad = 1; return NULL; }
  if (memchr(r->p, 0, len)) { r->bad = 1; return NULL; }
  char *s = malloc((size_t)len + 1);
  if (!s) { r->bad = 1; return NULL; }
  memcpy(s, r->p, len);
  s[len] = 0;
  r->p += len; r->left -= len;
  return s;
}

static void free_strv(char **v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

static char **rd_strv(struct reader *r, size_t *count) {
  uint32_t n = rd_u32(r);
  /* each string needs at least its 4-byte length */
  if (r->bad || n > MAX_ARGS || (size_t)n * 4 > r->left) { r->bad = 1; return NULL; }
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (!v) { r->bad = 1; return NULL; }
  for (uint32_t i = 0; i < n; i++) {
    v[i] = rd_str(r);
    if (r->bad) { free_strv(v, i); return NULL; }
  }
  *count = n;
  return v;
}

static const char *env_lookup(char **env, const char *key) {
  size_t kl = strlen(key);
  for (char **e = env; *e; e++)
    if (strncmp(*e, key, kl) == 0 && (*e)[kl] == '=') return *e + kl + 1;
  return NULL;
}

/* Runs `run` on `file` or, when it has no '/', on each candidate in the PATH
 * of the process's own environment until one fails with something other than
 * not-found or not-permitted. Returns 0 or an errno. */
typedef int (*run_fn)(const char *path, void *ctx);

static int run_path(const char *file, char **env, run_fn run, void *ctx) {
  if (strchr(file, '/')) return run(file, ctx);
  const char *path = env_lookup(env, "PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  int last = ENOENT;
  size_t flen = strlen(file);
  const char *s = path;
  for (;;) {
    const char *colon = strchr(s, ':');
    size_t dlen = colon ? (size_t)(colon - s) : strlen(s);
    char cand[4096];
    if (dlen + flen + 2 <= sizeof cand) {
      if (dlen == 0) { memcpy(cand, ".", 1); dlen = 1; } else memcpy(cand, s, dlen);
      cand[dlen] = '/';
      memcpy(cand + dlen + 1, file, flen + 1);
      if (access(cand, X_OK) == 0) {
        int rc = run(cand, ctx);
        if (rc != ENOENT && rc != EACCES && rc != ENOTDIR) return rc;
        last = rc;
      } else if (errno == EACCES) {
        last = EACCES;
      }
    }
    if (!colon) break;
    s = colon + 1;
  }
  return last;
}

struct spawn_ctx {
  pid_t *pid;
  const posix_spawn_file_actions_t *fa;
  const posix_spawnattr_t *at;
  char **argv, **env;
};

static int run_spawn(const char *path, void *ctx) {
  struct spawn_ctx *c = ctx;
  return posix_spawn(c->pid, path, c->fa, c->at, c->argv, c->env);
}

struct exec_ctx { char **argv, **env; };

static int run_exec(const char *path, void *ctx) {
  struct exec_ctx *c = ctx;
  execve(path, c->argv, c->env);
  return errno;
}

/* sigfillset leaves out the C library's internal signals (32 and 33 with
 * glibc), and glibc's posix_spawn then sets those to SIG_IGN in the child,
 * which survives exec. sigaddset refuses them, so set their bits directly:
 * sigset_t is a bitmap in which signal n is bit n-1. */
static void fill_all_signals(sigset_t *s) {
  sigfillset(s);
  unsigned long *w = (unsigned long *)s;
  const size_t bits = 8 * sizeof *w;
  for (int sig = 32; sig < SIGRTMIN; sig++) w[(sig - 1) / bits] |= 1UL << ((sig - 1) % bits);
}

static int make_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

/* The agent's ends of a started process: pipes (err set) or a pty (pty set). */
struct io { int out, err, in, pty; };

static int start_with_pipes(pid_t *pid, struct io *io, int with_stdin, const char *cwd, char **argv, char **env) {
  int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 };
  int ok = make_pipe(out) == 0 && make_pipe(err) == 0;
  if (ok && with_stdin) ok = make_pipe(in) == 0;
  int rc = ok ? 0 : errno;
  if (ok) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    if (with_stdin) posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    if (cwd[0]) posix_spawn_file_actions_addchdir_np(&fa, cwd);
    sigset_t none, all;
    sigemptyset(&none);
    fill_all_signals(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    struct spawn_ctx c = { pid, &fa, &at, argv, env };
    rc = run_path(argv[0], env, run_spawn, &c);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
  }
  if (out[1] >= 0) close(out[1]);
  if (err[1] >= 0) close(err[1]);
  if (in[0] >= 0) close(in[0]);
  if (rc != 0) {
    if (out[0] >= 0) close(out[0]);
    if (err[0] >= 0) close(err[0]);
    if (in[1] >= 0) close(in[1]);
    return rc;
  }
  io->out = out[0];
  io->err = err[0];
  io->in = in[1];
  return 0;
}

/* Allocates a pty of the given size. The slave is opened through the master
 * (TIOCGPTPEER: no path lookup) or, before Linux 4.13, by its name. Both are
 * O_NOCTTY: the agent leads a session and must not take the terminal itself.
 * devpts sets the slave's owner and mode when it creates it, so there is
 * nothing for grantpt() to do. */
static int open_pty(const struct winsize *ws, int *master, int *slave) {
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return errno;
  int unlock = 0, s = -1;
  if (ioctl(m, TIOCSPTLCK, &unlock) == 0 && ioctl(m, TIOCSWINSZ, ws) == 0) {
    s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    unsigned int n;
    if (s < 0 && (errno == EINVAL || errno == ENOTTY) && ioctl(m, TIOCGPTN, &n) == 0) {
      char name[32];
      snprintf(name, sizeof name, "/dev/pts/%u", n);
      s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    }
  }
  if (s < 0) {
    int e = errno;
    close(m);
    return e;
  }
  *master = m;
  *slave = s;
  return 0;
}

/* The child of a pty start, between fork and exec: the same clean signal
 * state posix_spawn gives the other children, a new session whose
 * controlling terminal is the slave, and the slave as fds 0, 1 and 2.
 * A failure is reported as an errno on `report`, which a successful exec
 * closes (close-on-exec). */
static void pty_child(int slave, int report, const char *cwd, char **argv, char **env) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig <= 64; sig++) sigaction(sig, &dfl, NULL); /* EINVAL for KILL, STOP: fine */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int err = 0;
  if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) err = errno;
  for (int fd = 0; !err && fd < 3; fd++)
    if (dup2(slave, fd) < 0) err = errno;
  if (!err && slave > 2) close(slave);
  if (!err && cwd[0] && chdir(cwd) < 0) err = errno;
  if (!err) {
    struct exec_ctx c = { argv, env };
    err = run_path(argv[0], env, run_exec, &c);
  }
  if (write(report, &err, sizeof err) < 0) _exit(127);
  _exit(127);
}

/* posix_spawn cannot make a terminal the controlling one (TIOCSCTTY), so a
 * pty process is forked; the agent is single-threaded, which makes that safe. */
static int start_in_pty(pid_t *pid, struct io *io, const struct winsize *ws, const char *cwd,
                        char **argv, char **env, size_t envc) {
  char **envt = env;
  if (!env_lookup(env, "TERM")) { /* terminal programs misbehave without one */
    envt = malloc((envc + 2) * sizeof *envt);
    if (!envt) return ENOMEM;
    memcpy(envt, env, envc * sizeof *envt);
    envt[envc] = DEFAULT_TERM;
    envt[envc + 1] = NULL;
  }
  int master = -1, slave = -1, out = -1, in = -1, report[2] = { -1, -1 };
  int rc = open_pty(ws, &master, &slave);
  /* Separate descriptors for reading and writing, so either can be closed
   * (EIO, a hung-up writer) while the master stays usable for RESIZE. */
  if (rc == 0 && ((out = fcntl(master, F_DUPFD_CLOEXEC, 3)) < 0 || (in = fcntl(master, F_DUPFD_CLOEXEC, 3)) < 0)) rc = errno;
  if (rc == 0 && pipe2(report, O_CLOEXEC) != 0) rc = errno;
  if (rc == 0) {
    pid_t c = fork();
    if (c == 0) pty_child(slave, report[1], cwd, argv, envt);
    if (c < 0) {
      rc = errno;
    } else {
      close(report[1]);
      report[1] = -1;
      int err = 0;
      ssize_t n;
      do n = read(report[0], &err, sizeof err); while (n < 0 && errno == EINTR);
      if (n == (ssize_t)sizeof err) {
        rc = err ? err : ENOEXEC;
        waitpid(c, NULL, 0);
      } else {
        *pid = c;
      }
    }
  }
  if (envt != env) free(envt);
  if (slave >= 0) close(slave); /* the child holds it now: its exit means EIO on the master */
  if (report[0] >= 0) close(report[0]);
  if (report[1] >= 0) close(report[1]);
  if (rc != 0) {
    if (out >= 0) close(out);
    if (in >= 0) close(in);
    if (master >= 0) close(master);
    return rc;
  }
  io->out = out;
  io->in = in;
  io->pty = master;
  return 0;
}

static void handle_start(uint32_t id, const unsigned char *pl, size_t len) {
  if (find_proc(id)) { send_error(id, E_DUPLICATE_ID, "a process with this id is still running"); return; }
  struct reader r = { pl, len, 0 };
  if (r.left < 1) { send_error(id, E_MALFORMED, "START payload is empty"); return; }
  uint8_t flags = r.p[0];
  r.p++; r.left--;
  char *cwd = rd_str(&r);
  size_t argc = 0, envc = 0;
  char **argv = r.bad ? NULL : rd_strv(&r, &argc);
  char **env = r.bad ? NULL : rd_strv(&r, &envc);
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  if (!r.bad && (flags & F_PTY)) {
    ws.ws_col = rd_u16(&r);
    ws.ws_row = rd_u16(&r);
  }
  const char *bad = NULL;
  if (flags & ~(F_STDIN | F_PTY)) bad = "START has unknown flag bits";
  else if (r.bad) bad = "START payload is malformed";
  else if (argc == 0) bad = "START needs at least one argv entry";
  else if (r.left != 0) bad = "START payload is malformed";
  else if ((flags & F_PTY) && (ws.ws_col == 0 || ws.ws_row == 0)) bad = "START terminal size must be at least 1x1";
  if (bad) {
    send_error(id, E_MALFORMED, bad);
    free(cwd); free_strv(argv, argc); free_strv(env, envc);
    return;
  }

  if (cwd[0]) {
    struct stat st;
    const char *why = NULL;
    if (stat(cwd, &st) != 0) why = strerror(errno);
    else if (!S_ISDIR(st.st_mode)) why = strerror(ENOTDIR);
    if (why) {
      char msg[4400];
      snprintf(msg, sizeof msg, "working directory '%.4000s': %s", cwd, why);
      send_error(id, E_START, msg);
      free(cwd); free_strv(argv, argc); free_strv(env, envc);
      return;
    }
  }

  struct io io = { -1, -1, -1, -1 };
  pid_t pid = -1;
  int rc = (flags & F_PTY) ? start_in_pty(&pid, &io, &ws, cwd, argv, env, envc)
                           : start_with_pipes(&pid, &io, flags & F_STDIN, cwd, argv, env);
  if (rc != 0) {
    char msg[4400];
    snprintf(msg, sizeof msg, "cannot start '%.4000s': %s", argv[0], strerror(rc));
    send_error(id, E_START, msg);
  } else {
    struct proc *p = alloc_proc();
    memset(p, 0, sizeof *p);
    p->used = 1;
    p->id = id;
    p->pid = pid;
    p->out_fd = io.out;
    p->err_fd = io.err;
    p->in_fd = io.in;
    p->pty_fd = io.pty;
    /* On a pty this one call covers all three descriptors: they share the
     * open file description, and O_NONBLOCK lives there. */
    fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.u64 = tag_of(p, TAG_STDOUT);
    epoll_ctl(epfd, EPOLL_CTL_ADD, p->out_fd, &ev);
    if (p->err_fd >= 0) {
      fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
      ev.data.u64 = tag_of(p, TAG_STDERR);
      epoll_ctl(epfd, EPOLL_CTL_ADD, p->err_fd, &ev);
    }
    if (p->in_fd >= 0) fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
    unsigned char b[4];
    put_u32(b, (uint32_t)pid);
    send_frame(T_STARTED, id, b, 4);
  }
  free(cwd);
  free_strv(argv, argc);
  free_strv(env, envc);
}

/* ---- stdin forwarding --------------------------------------------------- */

static void flush_stdin(struct proc *p) {
  while (p->in_head) {
    struct chunk *c = p->in_head;
    ssize_t n = write(p->in_fd, c->data + c->off, c->len - c->off);
    if (n < 0) {
      if (errno == EAGAIN) break;
      if (errno == EINTR) continue;
      /* EPIPE: the reader is gone; drop what is queued. */
      free_stdin_queue(p);
      close_fd(&p->in_fd);
      return;
    }
    c->off += (size_t)n;
    p->in_queued -= (size_t)n;
    if (c->off == c->len) {
      p->in_head = c->next;
      if (!p->in_head) p->in_tail = NULL;
      free(c);
    }
  }
  struct epoll_event ev = { .events = EPOLLOUT };
  ev.data.u64 = tag_of(p, TAG_STDIN);
  if (p->in_head) {
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, p->in_fd, &ev) < 0)
      epoll_ctl(epfd, EPOLL_CTL_ADD, p->in_fd, &ev);
  } else {
    epoll_ctl(epfd, EPOLL_CTL_DEL, p->in_fd, NULL);
    if (p->in_close_pending) close_fd(&p->in_fd);
  }
}

/* A terminal has no end-of-file to close: what a user types for one is the
 * VEOF character (normally ^D), which ends input for a reader in canonical
 * mode when it starts a line. The terminal itself stays open. */
static unsigned char pty_eof_char(const struct proc *p) {
  struct termios t;
  if (tcgetattr(p->pty_fd, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE) return t.c_cc[VEOF];
  return 4;
}

static void handle_stdin(uint32_t id, const unsigned char *pl, size_t len) {
  struct proc *p = find_proc(id);
  if (!p || p->reaped) { send_error(id, E_UNKNOWN_ID, "STDIN for an unknown or finished process"); return; }
  if (p->in_fd < 0) return; /* stdin already closed or not requested: drop */
  unsigned char eof;
  if (len == 0 && p->pty_fd >= 0) {
    eof = pty_eof_char(p);
    pl = &eof;
    len = 1;
  } else if (len == 0) {
    p->in_close_pending = 1;
    flush_stdin(p);
    return;
  }
  if (p->in_queued + len > MAX_STDIN_QUEUE) {
    send_error(id, E_STDIN_OVERFLOW, "stdin queue exceeds 64 MiB; stdin closed");
    free_stdin_queue(p);
    close_fd(&p->in_fd);
    return;
  }
  struct chunk *c = malloc(sizeof *c + len);
  if (!c) die("malloc");
  c->next = NULL;
  c->len = len;
  c->off = 0;
  memcpy(c->data, pl, len);
  if (p->in_tail) p->in_tail->next = c; else p->in_head = c;
  p->in_tail = c;
  p->in_queued += len;
  flush_stdin(p);
}

static void handle_signal(uint32_t id, const unsigned char *pl, size_t len) {
  struct proc *p = find_proc(id);
  if (len != 2) { send_error(id, E_MALFORMED, "SIGNAL payload must be 2 bytes"); return; }
  if (!p) { send_error(id, E_UNKNOWN_ID, "SIGNAL for an unknown or finished process"); return; }
  int sig = pl[0], scope = pl[1];
  if (sig < 1 || sig > 64 || scope > S_DESCENDANTS) { send_error(id, E_MALFORMED, "SIGNAL has an invalid signal or scope"); return; }
  if (scope == S_PROCESS) kill(p->pid, sig);
  else if (scope == S_GROUP) kill(-p->pid, sig);
  else signal_tree(p->pid, sig, scope == S_TREE);
}

/* TIOCSWINSZ on the master resizes the terminal, and the kernel sends
 * SIGWINCH to its foreground process group. */
static void handle_resize(uint32_t id, const unsigned char *pl, size_t len) {
  struct proc *p = find_proc(id);
  if (len != 4) { send_error(id, E_MALFORMED, "RESIZE payload must be 4 bytes"); return; }
  if (!p || p->reaped) { send_error(id, E_UNKNOWN_ID, "RESIZE for an unknown or finished process"); return; }
  if (p->pty_fd < 0) { send_error(id, E_NOT_A_TTY, "RESIZE for a process started without a terminal"); return; }
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_col = get_u16(pl);
  ws.ws_row = get_u16(pl + 2);
  if (ws.ws_col == 0 || ws.ws_row == 0) { send_error(id, E_MALFORMED, "RESIZE size must be at least 1x1"); return; }
  ioctl(p->pty_fd, TIOCSWINSZ, &ws);
}

static void dispatch(uint8_t type, uint32_t id, const unsigned char *pl, size_t len) {
  switch (type) {
    case T_START: handle_start(id, pl, len); break;
    case T_STDIN: handle_stdin(id, pl, len); break;
    case T_SIGNAL: handle_signal(id, pl, len); break;
    case T_PING: send_frame(T_PONG, id, pl, len); break;
    case T_RESIZE: handle_resize(id, pl, len); break;
    default: send_error(id, E_UNKNOWN_TYPE, "unknown frame type"); break;
  }
}

static void shutdown_all(void) {
  for (size_t i = 0; i < nprocs_cap; i++)
    if (procs[i].used) signal_tree(procs[i].pid, SIGKILL, 1);
  exit(0);
}

static void read_control(void) {
  if (inbuf_cap - inbuf_len < READ_CHUNK) {
    size_t ncap = inbuf_cap ? inbuf_cap * 2 : 2 * READ_CHUNK;
    while (ncap - inbuf_len < READ_CHUNK) ncap *= 2;
    unsigned char *n = realloc(inbuf, ncap);
    if (!n) die("realloc");
    inbuf = n;
    inbuf_cap = ncap;
  }
  ssize_t n = read(STDIN_FILENO, inbuf + inbuf_len, inbuf_cap - inbuf_len);
  if (n == 0) shutdown_all();
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    shutdown_all();
  }
  inbuf_len += (size_t)n;
  size_t off = 0;
  for (;;) {
    if (discard_left) {
      size_t take = inbuf_len - off < discard_left ? inbuf_len - off : (size_t)discard_left;
      off += take;
      discard_left -= take;
      if (discard_left) break;
    }
    if (inbuf_len - off < 4) break;
    uint32_t flen = get_u32(inbuf + off);
    if (flen < 5) {
      send_error(0, E_MALFORMED, "frame length below the 5-byte minimum; skipped");
      off += 4;
      discard_left = flen;
      continue;
    }
    if (flen > 5 + MAX_PAYLOAD) {
      send_error(0, E_TOO_LARGE, "frame larger than 16 MiB payload; skipped");
      off += 4;
      discard_left = flen;
      continue;
    }
    if (inbuf_len - off < 4 + (size_t)flen) break;
    const unsigned char *f = inbuf + off + 4;
    dispatch(f[0], get_u32(f + 1), f + 5, flen - 5);
    off += 4 + (size_t)flen;
  }
  memmove(inbuf, inbuf + off, inbuf_len - off);
  inbuf_len -= off;
  /* Give back memory after a large frame. */
  if (inbuf_cap > 4 * READ_CHUNK && inbuf_len < READ_CHUNK) {
    unsigned char *s = realloc(inbuf, 2 * READ_CHUNK);
    if (s) { inbuf = s; inbuf_cap = 2 * READ_CHUNK; }
  }
}

/* Descriptors inherited from whoever started us (stray ones of a server, say)
 * must not reach sandboxed code: mark everything above stderr close-on-exec. */
static void cloexec_inherited(void) {
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  DIR *d = opendir("/proc/self/fd"); /* kernels before 5.11 */
  if (!d) die("cannot make inherited descriptors close-on-exec");
  struct dirent *e;
  while ((e = readdir(d)))
    if (atoi(e->d_name) > 2 && atoi(e->d_name) != dirfd(d)) fcntl(atoi(e->d_name), F_SETFD, FD_CLOEXEC);
  closedir(d);
}

int main(int argc, char **argv) {
  /* `warden-agent fs ...`: a file-operation helper started like any command,
   * not the sandbox's PID 1; none of the agent set-up below applies. */
  if (argc >= 2 && strcmp(argv[1], "fs") == 0) return fsops_main(argc - 2, argv + 2);
  const char *relay = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--relay") == 0 && i + 1 < argc) relay = argv[++i];
    else { fprintf(stderr, "warden-agent: unknown argument '%s' (usage: warden-agent [--relay PORT:SOCKET])\n", argv[i]); return 64; }
  }
  cloexec_inherited();
  /* Sandboxed code runs as our uid: without this it could open /proc/1/mem
   * and forge protocol frames. */
  prctl(PR_SET_DUMPABLE, 0);
  signal(SIGPIPE, SIG_IGN);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) die("signalfd");

  /* Our own protocol descriptors must not leak into children. */
  fcntl(STDIN_FILENO, F_SETFD, FD_CLOEXEC);
  fcntl(STDOUT_FILENO, F_SETFD, FD_CLOEXEC);
  fcntl(STDIN_FILENO, F_SETFL, O_NONBLOCK);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  struct epoll_event ev = { .events = EPOLLIN };
  ev.data.u64 = TAG_CONTROL;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) < 0) die("epoll_ctl stdin");
  ev.data.u64 = TAG_SIGNAL;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) < 0) die("epoll_ctl signalfd");
  /* Before HELLO, so before any sandboxed code runs: nothing else can take the port. */
  if (relay && relay_setup(epfd, relay) != 0) exit(70);

  {
    const char *ver = AGENT_VERSION;
    unsigned char b[10];
    put_u16(b, PROTOCOL_VERSION);
    put_u32(b + 2, (uint32_t)getpid());
    put_u32(b + 6, (uint32_t)strlen(ver));
    send_frame2(T_HELLO, 0, b, sizeof b, ver, strlen(ver));
  }

  struct epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epfd, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      uint64_t tag = events[i].data.u64;
      if (tag == TAG_CONTROL) { read_control(); continue; }
      if (tag == TAG_SIGNAL) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == sizeof si) {}
        reap_children();
        continue;
      }
      if ((tag & 7) >= RELAY_TAG_LISTEN) { relay_event(tag, events[i].events); continue; }
      struct proc *p = &procs[tag >> 3];
      if (!p->used) continue; /* finished earlier in this batch */
      switch (tag & 7) {
        case TAG_STDOUT: if (p->out_fd >= 0) pump_output(p, &p->out_fd, T_STDOUT); break;
        case TAG_STDERR: if (p->err_fd >= 0) pump_output(p, &p->err_fd, T_STDERR); break;
        case TAG_STDIN:
          if (p->in_fd < 0) break;
          /* A master reports EPOLLHUP as long as no process holds its slave,
           * and accepts writes until the slave's input buffer is full: input
           * has no reader, and polling on would spin. */
          if (p->pty_fd >= 0 && (events[i].events & (EPOLLHUP | EPOLLERR))) {
            free_stdin_queue(p);
            close_fd(&p->in_fd);
            break;
          }
          flush_stdin(p);
          break;
        default: break;
      }
    }
  }
}
