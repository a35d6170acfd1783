/* The egress relay: 127.0.0.1:PORT inside the sandbox → a Unix socket the
 * host bind-mounted in (its egress proxy). See ../PROTOCOL.md, "Egress relay". */
#ifndef WARDEN_RELAY_H
#define WARDEN_RELAY_H

#include <stdint.h>

/* epoll tags the relay owns: low 3 bits are one of these, the rest a slot. */
enum { RELAY_TAG_LISTEN = 5, RELAY_TAG_CLIENT = 6, RELAY_TAG_UPSTREAM = 7 };

/* Parses "PORT:PATH", listens on 127.0.0.1:PORT and registers with epfd.
 * Returns 0, or -1 with a message on stderr. */
int relay_setup(int epfd, const char *spec);

/* Handles an epoll event whose tag has one of the RELAY_TAG_* low bits. */
void relay_event(uint64_t tag, uint32_t events);

#endif
