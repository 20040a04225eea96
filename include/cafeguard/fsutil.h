/*
 * fsutil: the few file-system steps the daemon and the tool share.
 */
#ifndef CAFEGUARD_FSUTIL_H
#define CAFEGUARD_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "cafeguard/diag.h"

/* Creates dir and its missing parents (each with mode); an existing
 * directory is fine.  Returns 0, or -1 with errno set. */
int cg_mkdir_p(const char *dir, mode_t mode);

/* The same for the directory that holds path ("/run/cafeguard" for
 * "/run/cafeguard/control"). */
int cg_mkdir_parent(const char *path, mode_t mode);

/* Replaces path with data[0..len) (mode): written beside it, synced and
 * renamed into place, so a crash leaves the old file or the new one,
 * never half of one.  Returns 0, or -1 with err. */
int cg_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, struct cg_error *err);

#endif
