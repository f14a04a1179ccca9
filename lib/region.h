/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of the shared-memory regions (region.c, shm-*.c).
 */
#ifndef ZC_REGION_H
#define ZC_REGION_H

#include <errno.h>

#include "internal.h"

/* Where shm_open(3) keeps its objects; glibc uses the same directory. */
#define ZC__SHM_DIR "/dev/shm"

/*
 * The mark on objects this library created, so that stale-region cleanup
 * never touches anyone else's. tmpfs keeps user.* xattrs since Linux 6.6.
 */
#define ZC__MARK_XATTR "user.zcopy.region"
#define ZC__MARK_VALUE "1"

#define ZC__NAME_SIZE (ZC_REGION_NAME_MAX + 1)

/* The name a stale region has in ZC__SHM_DIR while cleanup removes it. */
#define ZC__CLEAN_PREFIX ".zcopy-rm-"

/* region-name.c */
int zc__shm_name(const char *name, char out[ZC__NAME_SIZE]);
int zc__shm_path(const char *name, char *path, size_t size);

/* region.c */
int zc__region_begin(struct zc_region *r);
int zc__region_end(struct zc_region *r, int e);
void zc__region_reset(struct zc_region *r);
int zc__region_close(struct zc_region *r);
int zc__region_check_size(uint64_t size);
int zc__region_reserve(int fd, uint64_t have, uint64_t size);
int zc__region_map_fd(struct zc_region *r, uint64_t size, bool shared);

/* region-limit.c: 0, or -ENOMEM for more memory than the process can hold */
int zc__region_fits(uint64_t size);
int zc__region_fits_at(const char *root, uint64_t size);

/* region-posix.c */
int zc__region_unlink(const char *name);

/* region-file.c */
int zc__region_load_fd(struct zc_region *r, int fd, uint32_t flags);

/* region-memfd.c */
int zc__memfd_new(const char *label, uint64_t size);
uint32_t zc__seals_of(int fd);

/* region-sysv.c */
int zc__sysv_attach(struct zc_region *r, int shmid, uint64_t claimed);

#endif /* ZC_REGION_H */
