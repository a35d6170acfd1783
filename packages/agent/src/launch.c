/*
 * warden-launch: runs as root on the host, puts itself into the sandbox's
 * cgroups, prepares size- and inode-capped tmpfs mounts in a private mount
 * namespace, sets rlimits, drops to the sandbox's unprivileged uid and execs
 * the runtime (bwrap). Everything it sets up is inherited by the sandbox, so
 * no sandboxed code ever runs outside its cgroup or with root's identity.
 *
 * usage: warden-launch [--cgroup PROCS_FILE]... [--tmpfs DIR:SIZE:INODES:MODE]...
 *                      [--bind-ro SRC:TARGET] [--delta DIR:SIZE:INODES]
 *                      [[--lower DIR]... --overlay TARGET:NAME:ROOTMODE]...
 *                      [--rlimit RESOURCE:SOFT:HARD]... [--uid N --gid N]
 *                      [--seccomp FILE] [--no-pdeathsig] [--host-ns] -- PROGRAM ARGS...
 *
 * --bind-ro/--delta/--lower/--overlay: a codebase workspace. An optional
 * read-only bind of the view, one size-capped tmpfs for every writable layer,
 * and overlays of --lower layers (first is topmost) with an upper in that
 * tmpfs, mounted in order (an overlay may sit on a directory of the bind).
 * All of it lives in the private mount namespace: it disappears with the
 * sandbox, and the host reads the deltas through /proc/PID/root.
 *
 * Two modes serve runtimes whose sandbox is not our child (Docker):
 * --host-ns makes the mounts in the caller's mount namespace, where a
 * container engine can bind them, and then exits 0 when no program follows
 * (the caller unmounts them). --seccomp FILE (a classic BPF program, as
 * struct sock_filter[]) is installed after no_new_privs, just before exec:
 * run as a container's entrypoint, it puts the agent under Warden's filter
 * as bwrap does. --no-pdeathsig skips the parent-death signal, for a parent
 * (a container shim) whose threads are no measure of the sandbox's life.
 * Exits 125 with a message on stderr when a step fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define FAIL 125

static void fail(const char *step, const char *arg) {
  fprintf(stderr, "warden-launch: %s%s%s: %s\n", step, arg ? " " : "", arg ? arg : "", strerror(errno));
  exit(FAIL);
}

static void usage(const char *why) {
  fprintf(stderr, "warden-launch: %s\n", why);
  exit(FAIL);
}

static unsigned long long num(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end) usage(what);
  return v;
}

static int resource_of(const char *name) {
  if (!strcmp(name, "nofile")) return RLIMIT_NOFILE;
  if (!strcmp(name, "fsize")) return RLIMIT_FSIZE;
  if (!strcmp(name, "core")) return RLIMIT_CORE;
  if (!strcmp(name, "stack")) return RLIMIT_STACK;
  if (!strcmp(name, "memlock")) return RLIMIT_MEMLOCK;
  if (!strcmp(name, "msgqueue")) return RLIMIT_MSGQUEUE;
  usage("unknown rlimit resource");
  return -1;
}

static void join_cgroup(const char *procs) {
  int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open cgroup", procs);
  if (write(fd, "0", 1) != 1) fail("join cgroup", procs);
  close(fd);
}

static int ns_ready = 0;
/* --host-ns: mounts go to the caller's namespace (nothing is unshared). */
static int host_ns = 0;

static void private_mount_ns(void) {
  if (ns_ready || host_ns) return;
  if (unshare(CLONE_NEWNS) != 0) fail("unshare mount namespace", NULL);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("make mounts private", NULL);
  ns_ready = 1;
}

/* DIR:SIZE_BYTES:NR_INODES:MODE(octal) — owner is set to --uid/--gid. */
static void mount_tmpfs(char *spec, long uid, long gid) {
  char *dir = strtok(spec, ":");
  char *size = strtok(NULL, ":");
  char *inodes = strtok(NULL, ":");
  char *mode = strtok(NULL, ":");
  if (!dir || !size || !inodes || !mode) usage("--tmpfs needs DIR:SIZE:INODES:MODE");
  num(size, "--tmpfs size must be a number");
  num(inodes, "--tmpfs inodes must be a number");
  private_mount_ns();
  char opts[256];
  snprintf(opts, sizeof opts, "size=%s,nr_inodes=%s,mode=%s,uid=%ld,gid=%ld", size, inodes, mode,
           uid < 0 ? 0 : uid, gid < 0 ? 0 : gid);
  if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) fail("mount tmpfs on", dir);
}

#define MAX_LOWERS 16
static const char *lowers[MAX_LOWERS];
static int nlowers = 0;
static const char *delta_dir = NULL;

/* Rejects characters that would change the meaning of overlay mount options. */
static void plain_path(const char *p, const char *what) {
  if (p[0] != '/' || strpbrk(p, ",:\\\n")) usage(what);
}

/* --delta DIR:SIZE:INODES: one capped tmpfs holding every overlay's upper and work dirs. */
static void mount_delta(char *spec) {
  char *dir = strtok(spec, ":");
  char *size = strtok(NULL, ":");
  char *inodes = strtok(NULL, ":");
  if (!dir || !size || !inodes) usage("--delta needs DIR:SIZE:INODES");
  plain_path(dir, "--delta dir must be an absolute plain path");
  num(size, "--delta size must be a number");
  num(inodes, "--delta inodes must be a number");
  private_mount_ns();
  char opts[256];
  snprintf(opts, sizeof opts, "size=%s,nr_inodes=%s,mode=0700", size, inodes);
  if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) fail("mount delta tmpfs on", dir);
  delta_dir = dir;
}

/* --overlay TARGET:NAME:ROOTMODE: the --lower layers given since the last
 * overlay, under DELTA/NAME/upper (root owned, ROOTMODE, like the view's
 * directory it covers), on TARGET. */
static void mount_overlay(char *spec) {
  char *target = strtok(spec, ":");
  char *name = strtok(NULL, ":");
  char *rootmode = strtok(NULL, ":");
  if (!target || !name || !rootmode) usage("--overlay needs TARGET:NAME:ROOTMODE");
  if (!delta_dir) usage("--overlay needs --delta first");
  if (nlowers == 0) usage("--overlay needs at least one --lower");
  plain_path(target, "--overlay target must be an absolute plain path");
  if (strchr(name, '/') || strchr(name, '.')) usage("--overlay name must be a plain name");
  char base[3800], upper[4096], work[4096], opts[8192];
  snprintf(base, sizeof base, "%s/%s", delta_dir, name);
  snprintf(upper, sizeof upper, "%s/upper", base);
  snprintf(work, sizeof work, "%s/work", base);
  if (mkdir(base, 0700) != 0) fail("mkdir", base);
  if (mkdir(upper, 0700) != 0 || chmod(upper, (mode_t)strtoul(rootmode, NULL, 8)) != 0) fail("mkdir", upper);
  if (mkdir(work, 0700) != 0) fail("mkdir", work);
  int off = snprintf(opts, sizeof opts, "lowerdir=");
  for (int i = 0; i < nlowers; i++) off += snprintf(opts + off, sizeof opts - (size_t)off, "%s%s", i ? ":" : "", lowers[i]);
  off += snprintf(opts + off, sizeof opts - (size_t)off, ",upperdir=%s,workdir=%s,redirect_dir=off,index=off,metacopy=off,xino=off", upper, work);
  if ((size_t)off >= sizeof opts) usage("overlay options too long");
  if (mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, opts) != 0) fail("mount overlay on", target);
  nlowers = 0;
}

/* A read-only bind (for a codebase view nothing in which is writable): no
 * overlay, so reads cost what they cost on the host. */
static void bind_ro(char *spec) {
  char *src = strtok(spec, ":");
  char *target = strtok(NULL, ":");
  if (!src || !target) usage("--bind-ro needs SRC:TARGET");
  plain_path(src, "--bind-ro source must be an absolute plain path");
  plain_path(target, "--bind-ro target must be an absolute plain path");
  private_mount_ns();
  if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) != 0) fail("bind", src);
  if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0) fail("remount read-only", target);
}

/* --seccomp FILE: the whole program, read before it is needed (after the
 * filter is in, only execve is left to do). */
#define MAX_FILTER_INSNS 4096
static struct sock_filter filter_insns[MAX_FILTER_INSNS];
static struct sock_fprog filter = { 0, filter_insns };

static void read_filter(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open seccomp filter", path);
  size_t got = 0;
  char *buf = (char *)filter_insns;
  for (;;) {
    if (got == sizeof filter_insns) usage("--seccomp filter is too long");
    ssize_t n = read(fd, buf + got, sizeof filter_insns - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read seccomp filter", path);
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (got == 0 || got % sizeof(struct sock_filter)) usage("--seccomp filter must be a non-empty struct sock_filter array");
  filter.len = (unsigned short)(got / sizeof(struct sock_filter));
}

int main(int argc, char **argv) {
  long uid = -1, gid = -1;
  int i = 1, pdeathsig = 1;
  /* First pass: identity, needed by --tmpfs, and the flags that change how options apply. */
  for (int j = 1; j < argc && strcmp(argv[j], "--"); j++) {
    if (!strcmp(argv[j], "--uid") && j + 1 < argc) uid = (long)num(argv[++j], "--uid must be a number");
    else if (!strcmp(argv[j], "--gid") && j + 1 < argc) gid = (long)num(argv[++j], "--gid must be a number");
    else if (!strcmp(argv[j], "--host-ns")) host_ns = 1;
  }
  if ((uid < 0) != (gid < 0)) usage("--uid and --gid go together");
  if (uid == 0 || gid == 0) usage("refusing to run a sandbox as root (uid/gid 0)");

  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) { i++; break; }
    if (!strcmp(a, "--host-ns")) continue;
    if (!strcmp(a, "--no-pdeathsig")) { pdeathsig = 0; continue; }
    if (i + 1 >= argc) usage("option needs a value");
    char *v = argv[++i];
    if (!strcmp(a, "--cgroup")) join_cgroup(v);
    else if (!strcmp(a, "--tmpfs")) mount_tmpfs(v, uid, gid);
    else if (!strcmp(a, "--lower")) {
      if (nlowers == MAX_LOWERS) usage("too many --lower layers");
      plain_path(v, "--lower must be an absolute plain path");
      lowers[nlowers++] = v;
    } else if (!strcmp(a, "--delta")) mount_delta(v);
    else if (!strcmp(a, "--overlay")) mount_overlay(v);
    else if (!strcmp(a, "--bind-ro")) bind_ro(v);
    else if (!strcmp(a, "--seccomp")) read_filter(v);
    else if (!strcmp(a, "--rlimit")) {
      char *res = strtok(v, ":");
      char *soft = strtok(NULL, ":");
      char *hard = strtok(NULL, ":");
      if (!res || !soft || !hard) usage("--rlimit needs RESOURCE:SOFT:HARD");
      struct rlimit rl = { num(soft, "rlimit soft must be a number"), num(hard, "rlimit hard must be a number") };
      if (setrlimit(resource_of(res), &rl) != 0) fail("setrlimit", res);
    } else if (strcmp(a, "--uid") && strcmp(a, "--gid")) usage("unknown option");
  }
  /* The mounts are made and stay in the caller's namespace: done. */
  if (host_ns && i >= argc) return 0;
  if (i >= argc) usage("missing program after --");

  if (uid > 0) {
    gid_t g = (gid_t)gid;
    if (setgroups(1, &g) != 0) fail("setgroups", NULL);
    if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) fail("setgid", NULL);
    if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) fail("setuid", NULL);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs", NULL);
  /* Credential changes clear the parent-death signal: set it afterwards, so
   * the sandbox dies with the Warden process that started it. */
  if (pdeathsig) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail("pdeathsig", NULL);
    if (getppid() == 1) { errno = ESRCH; fail("parent exited before start", NULL); }
  }
  if (filter.len > 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0) fail("install seccomp filter", NULL);

  char *envp[] = { NULL };
  execve(argv[i], argv + i, envp);
  fail("exec", argv[i]);
  return FAIL;
}
