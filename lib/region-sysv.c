// SPDX-License-Identifier: MIT
/*
 * System V regions: shmget(2) by key, shmat(2), shmdt(2), IPC_RMID.
 *
 * SysV permissions ignore the umask, so the mode asked is the mode the
 * segment gets. The kernel bounds a segment by SHMMAX (shmget says EINVAL,
 * which this file turns into EFBIG since the key is new and only the size
 * can be wrong) and all segments by SHMALL (ENOSPC). A segment's pages come
 * from the kernel's internal tmpfs, which has no size limit of its own, so
 * there is no space to reserve: the limits above are checked at create.
 *
 * IPC_RMID removes the key at once but the memory only at the last detach,
 * so attached processes keep working (zc_region_remove).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "region.h"

/* Attach shmid whole; claimed, if not 0, must fit in it. */
int zc__sysv_attach(struct zc_region *r, int shmid, uint64_t claimed)
{
	struct shmid_ds ds;
	void *addr = NULL;
	long e;

	r->kind = ZC_REGION_SYSV;
	r->fd = -1;
	r->shmid = shmid;
	e = zc__sys_shmctl(shmid, IPC_STAT, &ds);
	if (e < 0)
		return (int)e;
	if (claimed > ds.shm_segsz)
		return -EBADMSG;
	e = zc__sys_shmat(shmid, &addr, r->flags & ZC_REGION_RDONLY ? SHM_RDONLY : 0);
	if (e < 0)
		return (int)e;
	r->addr = addr;
	r->size = claimed ? claimed : ds.shm_segsz;
	return 0;
}

static int create_segment(int32_t key, uint64_t size, uint32_t mode)
{
	int id = zc__sys_shmget(key, (size_t)size, IPC_CREAT | IPC_EXCL | (int)mode);

	return id == -EINVAL ? -EFBIG : id;
}

static int sysv_create(struct zc_region *r, int32_t key, uint64_t size, uint32_t mode,
		       uint32_t flags)
{
	int id, e;

	if ((flags & ~ZC_REGION_OPEN_OR_CREATE) || (mode & ~0777u))
		return -EINVAL;
	e = zc__region_check_size(size);
	if (e < 0)
		return e;
	id = create_segment(key, size, mode ? mode : 0600);
	if (id == -EEXIST && (flags & ZC_REGION_OPEN_OR_CREATE))
		id = zc__sys_shmget(key, 0, 0);
	else if (id >= 0)
		r->flags = ZC_REGION_CREATED;
	if (id < 0)
		return id;
	e = zc__sysv_attach(r, id, 0);
	/* A segment this call made and cannot attach would be left for nobody. */
	if (e < 0 && (r->flags & ZC_REGION_CREATED))
		zc__sys_shmctl(id, IPC_RMID, NULL);
	return e;
}

ZC_EXPORT int zc_region_sysv_create(struct zc_region *r, int32_t key, uint64_t size,
				    uint32_t mode, uint32_t flags)
{
	int e = zc__region_begin(r);

	return zc__ret(zc__region_end(r, e < 0 ? e : sysv_create(r, key, size, mode, flags)));
}

static int sysv_open(struct zc_region *r, int32_t key, uint32_t flags)
{
	int id;

	if ((flags & ~ZC_REGION_RDONLY) || key == IPC_PRIVATE)
		return -EINVAL;
	r->flags = flags;
	id = zc__sys_shmget(key, 0, 0);	/* shmat checks the permissions */
	return id < 0 ? id : zc__sysv_attach(r, id, 0);
}

ZC_EXPORT int zc_region_sysv_open(struct zc_region *r, int32_t key, uint32_t flags)
{
	int e = zc__region_begin(r);

	return zc__ret(zc__region_end(r, e < 0 ? e : sysv_open(r, key, flags)));
}
