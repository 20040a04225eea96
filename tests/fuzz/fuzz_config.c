/*
 * Arbitrary text as a configuration file: libconfig's parser and every
 * check of ours on what it returns.  The rules are not built (list files
 * named by the input would be opened).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cafeguard/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("cafeguard.conf", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct cg_config cfg;
	struct cg_diag d;
	memset(&d, 0, sizeof(d));
	cg_config_load(path, &cfg, &d);
	FILE *null = fopen("/dev/null", "w");
	if (null) {
		cg_diag_print(&d, null);
		fclose(null);
	}
	cg_diag_clear(&d);
	cg_config_free(&cfg);
	close(fd);
	return 0;
}
