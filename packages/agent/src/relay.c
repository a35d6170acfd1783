/*
 * The egress relay (agent --relay PORT:PATH): a TCP listener on
 * 127.0.0.1:PORT inside the sandbox whose every connection is spliced to a
 * new connection to the Unix socket PATH, the host's egress proxy for this
 * sandbox. The sandbox's network namespace has only `lo`, so this is its only
 * way out, and the proxy decides every destination.
 *
 * When PATH does not exist (egress is off) the client is closed at once:
 * nothing is reachable. Everything runs in the agent's epoll loop: each
 * direction has one buffer, refilled only once written out, and a descriptor
 * is registered only while the relay wants something from it (so a hung-up
 * peer cannot make epoll spin). Connections are capped; past the cap the
 * listener pauses and clients wait in its backlog.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "relay.h"

#define RELAY_MAX_CONNS 256
#define RELAY_BUF 16384

/* Bytes read from one side, waiting to be written to the other. */
struct half {
  unsigned char *data;
  size_t len, off;
  int eof; /* the side it is read from reached end-of-file */
};

struct conn {
  int used;
  int fd[2];            /* 0: the TCP client, 1: the proxy's Unix socket */
  struct half h[2];     /* h[i]: read from fd[i], written to fd[1 - i] */
  int shut[2];          /* SHUT_WR done on fd[i] */
  uint32_t armed[2];    /* events fd[i] is registered for; 0 = not registered */
};

static struct conn conns[RELAY_MAX_CONNS];
static int epfd = -1, listen_fd = -1, listen_paused;
static struct sockaddr_un upstream;
static socklen_t upstream_len;

static uint64_t tag(size_t slot, int which) { return ((uint64_t)slot << 3) | (uint64_t)which; }

static void set_listening(int on) {
  if (on == !listen_paused) return;
  struct epoll_event ev = { .events = EPOLLIN };
  ev.data.u64 = tag(0, RELAY_TAG_LISTEN);
  epoll_ctl(epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listen_fd, &ev);
  listen_paused = !on;
}

static void conn_close(struct conn *c) {
  for (int i = 0; i < 2; i++) {
    if (c->armed[i]) epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd[i], NULL);
    close(c->fd[i]);
    c->fd[i] = -1;
    c->armed[i] = 0;
  }
  free(c->h[0].data);
  memset(c, 0, sizeof *c);
  set_listening(1);
}

/* Registers each side for exactly what the relay wants from it now. */
static void rearm(struct conn *c) {
  size_t slot = (size_t)(c - conns);
  for (int i = 0; i < 2; i++) {
    uint32_t want = 0;
    if (!c->h[i].eof && c->h[i].len == 0) want |= EPOLLIN;
    if (c->h[1 - i].off < c->h[1 - i].len) want |= EPOLLOUT;
    if (want == c->armed[i]) continue;
    struct epoll_event ev = { .events = want };
    ev.data.u64 = tag(slot, i == 0 ? RELAY_TAG_CLIENT : RELAY_TAG_UPSTREAM);
    if (!want) epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd[i], NULL);
    else epoll_ctl(epfd, c->armed[i] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd[i], &ev);
    c->armed[i] = want;
  }
}

/* Reads into an empty buffer. Returns -1 when the connection must end. */
static int fill(struct conn *c, int i) {
  struct half *h = &c->h[i];
  if (h->eof || h->len) return 0;
  for (;;) {
    ssize_t n = recv(c->fd[i], h->data, RELAY_BUF, 0);
    if (n > 0) { h->len = (size_t)n; h->off = 0; return 0; }
    if (n == 0) { h->eof = 1; return 0; }
    if (errno == EINTR) continue;
    return errno == EAGAIN ? 0 : -1;
  }
}

/* Writes what side i read to the other side; passes end-of-file on. Returns -1 when the connection must end. */
static int drain(struct conn *c, int i) {
  struct half *h = &c->h[i];
  int to = c->fd[1 - i];
  while (h->off < h->len) {
    ssize_t n = send(to, h->data + h->off, h->len - h->off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN ? 0 : -1;
    }
    h->off += (size_t)n;
  }
  h->len = h->off = 0;
  if (h->eof && !c->shut[1 - i]) {
    shutdown(to, SHUT_WR);
    c->shut[1 - i] = 1;
  }
  return 0;
}

static void accept_all(void) {
  for (;;) {
    size_t slot = 0;
    while (slot < RELAY_MAX_CONNS && conns[slot].used) slot++;
    if (slot == RELAY_MAX_CONNS) { set_listening(0); return; } /* resumes when one closes */
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      /* Out of descriptors: pause rather than spin on a listener that stays readable. */
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        int any = 0;
        for (size_t k = 0; k < RELAY_MAX_CONNS && !any; k++) any = conns[k].used;
        if (any) set_listening(0);
      }
      return;
    }
    /* Egress off (no socket), the proxy gone or its backlog full: the client sees its connection closed. */
    int up = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    unsigned char *buf = NULL;
    if (up < 0 || connect(up, (struct sockaddr *)&upstream, upstream_len) < 0 || !(buf = malloc(2 * RELAY_BUF))) {
      if (up >= 0) close(up);
      close(fd);
      continue;
    }
    struct conn *c = &conns[slot];
    memset(c, 0, sizeof *c);
    c->used = 1;
    c->fd[0] = fd;
    c->fd[1] = up;
    c->h[0].data = buf;
    c->h[1].data = buf + RELAY_BUF;
    rearm(c);
  }
}

void relay_event(uint64_t t, uint32_t events) {
  int which = (int)(t & 7);
  size_t slot = (size_t)(t >> 3);
  if (which == RELAY_TAG_LISTEN) { accept_all(); return; }
  if (slot >= RELAY_MAX_CONNS || !conns[slot].used) return;
  struct conn *c = &conns[slot];
  int i = which == RELAY_TAG_CLIENT ? 0 : 1;
  if (events & EPOLLERR) { conn_close(c); return; }
  /* Move as much as is possible now, both ways, then wait for what is missing. */
  if (fill(c, i) < 0 || drain(c, i) < 0 || drain(c, 1 - i) < 0 || fill(c, 1 - i) < 0 || drain(c, 1 - i) < 0) {
    conn_close(c);
    return;
  }
  if (c->h[0].eof && c->h[1].eof && !c->h[0].len && !c->h[1].len) { conn_close(c); return; }
  rearm(c);
}

int relay_setup(int ep, const char *spec) {
  const char *colon = strchr(spec, ':');
  char *end = NULL;
  long port = strtol(spec, &end, 10);
  if (!colon || end != colon || port < 1 || port > 65535 || colon[1] != '/' || strlen(colon + 1) >= sizeof upstream.sun_path) {
    fprintf(stderr, "warden-agent: --relay takes PORT:/ABSOLUTE/SOCKET/PATH, got '%s'\n", spec);
    return -1;
  }
  epfd = ep;
  memset(&upstream, 0, sizeof upstream);
  upstream.sun_family = AF_UNIX;
  strcpy(upstream.sun_path, colon + 1);
  upstream_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(upstream.sun_path) + 1);

  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(listen_fd, SOMAXCONN) < 0) {
    fprintf(stderr, "warden-agent: cannot listen on 127.0.0.1:%ld for the egress relay: %s\n", port, strerror(errno));
    return -1;
  }
  listen_paused = 1;
  set_listening(1);
  return 0;
}
