/* File operations run inside a sandbox: `warden-agent fs <op> ...` (see ../FSOPS.md). */
#ifndef WARDEN_FSOPS_H
#define WARDEN_FSOPS_H

/* argv[0] is the operation name. Returns the process exit status. */
int fsops_main(int argc, char **argv);

#endif
