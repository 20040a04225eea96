/*
 * fsutil: the few file-system steps the daemon and the tool share.
 */
#ifndef CAFEGUARD_FSUTIL_H
#define CAFEGUARD_FSUTIL_H

#include <sys/types.h>

/* Creates dir and its missing parents (each with mode); an existing
 * directory is fine.  Returns 0, or -1 with errno set. */
int cg_mkdir_p(const char *dir, mode_t mode);

/* The same for the directory that holds path ("/run/cafeguard" for
 * "/run/cafeguard/control"). */
int cg_mkdir_parent(const char *path, mode_t mode);

#endif
