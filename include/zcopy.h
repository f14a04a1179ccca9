/* SPDX-License-Identifier: MIT */
/*
 * libzcopy: move bytes between two file descriptors the cheapest way the
 * Linux kernel allows, and share memory between processes safely.
 *
 * Every call that mirrors a system call returns -1 and sets errno on
 * failure, like sendfile(2) and splice(2). Structures use fixed-width
 * fields only, so other languages can declare them without a C compiler.
 * See zcopy(7) for the design and the path selection table.
 */
#ifndef ZCOPY_H
#define ZCOPY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZC_VERSION_MAJOR 1
#define ZC_VERSION_MINOR 1
#define ZC_VERSION_PATCH 0

/* Pass as len to move everything up to the end of the input. */
#define ZC_ALL ((size_t)-1)

/* Flags for the zc_transfer family: the first four each rule out one path. */
#define ZC_NO_COPY_FILE_RANGE	0x01u
#define ZC_NO_SPLICE		0x02u
#define ZC_NO_SENDFILE		0x04u
#define ZC_NO_MMAP		0x08u
/*
 * Let the library enlarge to 1 MiB a destination pipe the caller passed in
 * (and a source pipe feeding it) on calls of 1 MiB or more. This changes the
 * caller's fd, so it is opt-in.
 */
#define ZC_GROW_PIPES		0x10u
/*
 * The caller has SIGPIPE ignored, blocked or handled, so the library need
 * not block it around writes to pipes and sockets. Saves two system calls
 * per call; with SIGPIPE at its default action, a reader gone kills the
 * process, as it would on write(2).
 */
#define ZC_NO_SIGPIPE_GUARD	0x20u
/*
 * Write every byte, holes of a sparse source included, as zeros. Without
 * it a copy between regular files keeps the source's holes (as cp
 * --sparse=auto does); into anything else holes go as the zeros they read as.
 */
#define ZC_NO_HOLES		0x40u
/*
 * Clones. Between files on a filesystem that can share extents (btrfs,
 * xfs with reflink, ...) a copy of a file to its end clones by default,
 * as cp --reflink=auto does. ZC_NO_REFLINK copies every byte into blocks
 * of the destination's own (no clone, no copy_file_range where the
 * filesystem may clone); ZC_REFLINK_ONLY clones or fails with EOPNOTSUPP
 * or EXDEV, copying nothing, as cp --reflink=always does.
 */
#define ZC_NO_REFLINK		0x80u
#define ZC_REFLINK_ONLY		0x100u
/*
 * splice, sendfile and vmsplice from a file or a region into a pipe or a
 * socket lend its pages: a write to the source after the call returns can
 * still reach the reader. With ZC_SNAPSHOT the reader gets exactly what the
 * source held during the call (the bytes are copied once, by write(2)).
 */
#define ZC_SNAPSHOT		0x200u

/* The ways bytes can move; zc_path_name() gives each its name. */
#define ZC_PATH_NONE		0u
#define ZC_PATH_COPY_FILE_RANGE	1u
#define ZC_PATH_SPLICE		2u
#define ZC_PATH_SENDFILE	3u
#define ZC_PATH_MMAP_WRITE	4u
#define ZC_PATH_READ_WRITE	5u
#define ZC_PATH_VMSPLICE	6u	/* a region's memory into a pipe */
#define ZC_PATH_CLONE		7u	/* extents shared, FICLONERANGE */

/* What an fd was found to be; zc_fd_type_name() gives each its name. */
#define ZC_FD_UNKNOWN	0u
#define ZC_FD_FILE	1u	/* regular file on a disk filesystem */
#define ZC_FD_SHM	2u	/* regular file on tmpfs: memfd, shm_open */
#define ZC_FD_PIPE	3u	/* pipe or FIFO */
#define ZC_FD_SOCKET	4u
#define ZC_FD_CHAR	5u	/* character device that is not a terminal */
#define ZC_FD_TTY	6u
#define ZC_FD_BLOCK	7u
#define ZC_FD_DIR	8u

#define ZC_STATS_MAX 8

/* Which descriptor an error came from (zc_stats.error_side). */
#define ZC_SIDE_NONE	0u	/* neither (ENOMEM, EINVAL flags...) or no error */
#define ZC_SIDE_SRC	1u
#define ZC_SIDE_DST	2u

/*
 * What one call did. Every field has a fixed width and the layout has no
 * padding holes, so FFI callers can declare it field by field. The
 * reserved words are zero: later versions fill them with new facts, so a
 * caller built against this header keeps working.
 */
struct zc_stats {
	uint64_t bytes;		/* bytes moved by this call */
	uint64_t syscalls;	/* system calls made by this call */
	int32_t error;		/* errno that ended the call early, 0 if none */
	uint32_t path;		/* path that moved the last bytes, ZC_PATH_* */
	uint32_t src_type;	/* ZC_FD_* */
	uint32_t dst_type;	/* ZC_FD_* */
	uint32_t npaths;	/* entries used in paths[] */
	uint32_t nfallbacks;	/* entries used in fallback_path[] */
	uint32_t paths[ZC_STATS_MAX];		/* paths that moved bytes, in order */
	uint32_t fallback_path[ZC_STATS_MAX];	/* paths given up on, in order */
	int32_t fallback_errno[ZC_STATS_MAX];	/* the errno each was given up for */
	uint32_t error_side;	/* ZC_SIDE_*: whose fd error came from */
	uint32_t reserved0;	/* zero */
	uint64_t holes;		/* of bytes, those left as holes in dst, not written */
	uint64_t reserved[6];	/* zero */
};

/* Move up to len bytes from src_fd to dst_fd at their file offsets. */
ssize_t zc_transfer(int src_fd, int dst_fd, size_t len, unsigned int flags);

/* zc_transfer() that also fills *stats (may be NULL). */
ssize_t zc_transfer_ex(int src_fd, int dst_fd, size_t len, unsigned int flags,
		       struct zc_stats *stats);

/*
 * Like pread/pwrite: a non-NULL offset is used and advanced instead of the
 * fd's own offset, which stays untouched. stats may be NULL.
 */
ssize_t zc_transfer_at(int src_fd, uint64_t *src_off, int dst_fd, uint64_t *dst_off,
		       size_t len, unsigned int flags, struct zc_stats *stats);

/*
 * Options of zc_transfer_opts(). The struct grows at its end in later
 * versions, the way openat2's and clone3's do: size is the size the caller
 * was built with (sizeof(struct zc_opts)). The library takes a smaller,
 * older one as if the missing fields were zero, and refuses with E2BIG a
 * larger one whose bytes it does not know are not all zero.
 */
#define ZC_OFF_NONE (-1)	/* src_off, dst_off: use the fd's own offset */
#define ZC_TOTAL_UNKNOWN UINT64_MAX	/* progress: the size is not known */

struct zc_opts {
	uint32_t size;		/* sizeof(struct zc_opts) */
	uint32_t flags;		/* ZC_* flags, as for zc_transfer() */
	uint64_t len;		/* move at most this much; ZC_ALL for all */
	int64_t src_off;	/* read from here, fd offset untouched; or ZC_OFF_NONE */
	int64_t dst_off;	/* write from here, likewise */
	uint64_t chunk;		/* bytes between progress calls; 0 for 8 MiB */
	/*
	 * Called after each chunk with the bytes moved so far, the total
	 * expected (ZC_TOTAL_UNKNOWN if not known) and the path that moved
	 * the last bytes. A non-zero return stops the call (ECANCELED). NULL
	 * for none: the call then moves everything in one go.
	 */
	int (*progress)(uint64_t done, uint64_t total, uint32_t path, void *arg);
	void *arg;		/* passed to progress */
};

/*
 * zc_transfer_at() with its arguments in a struct, and a progress callback
 * that can cancel. Returns the bytes moved (stats->error ECANCELED if a
 * callback stopped it), or -1 and errno. stats may be NULL.
 */
ssize_t zc_transfer_opts(int src_fd, int dst_fd, const struct zc_opts *opts,
			 struct zc_stats *stats);

/*
 * Relays, for event loops: zc_relay_new(3). A relay owns the pipe between
 * src and dst for one direction of one connection. Bytes taken from src that
 * dst cannot take yet wait in it between calls, so zc_relay_move() never
 * waits for dst: with both fds non-blocking it never blocks. A relay with
 * nothing pending gives its pipe back to a pool and costs only its struct.
 */
struct zc_relay;

/* pipe_size 0 takes the kernel's default (64 KiB); flags: ZC_NO_SPLICE or 0. */
struct zc_relay *zc_relay_new(uint32_t pipe_size, unsigned int flags);
/* Frees the relay; bytes still pending are dropped. NULL does nothing. */
void zc_relay_free(struct zc_relay *relay);
/*
 * Deliver what is pending, then move up to len more bytes (ZC_ALL: until
 * src or dst would block). Returns the bytes delivered to dst by this call;
 * 0 once src has ended and nothing is pending (time to shut dst down); -1
 * with errno EAGAIN when nothing could move. stats may be NULL.
 */
ssize_t zc_relay_move(struct zc_relay *relay, int src_fd, int dst_fd, size_t len,
		      unsigned int flags, struct zc_stats *stats);
/*
 * Bytes taken from src that wait for dst: while non-zero, wait for dst to be
 * writable, not for src; the relay reads src again (and sees its end) only
 * once they are delivered.
 */
uint64_t zc_relay_pending(const struct zc_relay *relay);

/* "copy_file_range", "splice", ...; "none" for ZC_PATH_NONE, NULL if unknown. */
const char *zc_path_name(uint32_t path);

/* "file", "pipe", "socket", ...; NULL if unknown. */
const char *zc_fd_type_name(uint32_t type);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *zc_version(void);

/*
 * Shared-memory regions: zcopy(7) REGIONS, and a page per call.
 *
 * One struct for every kind. It is plain data: a zeroed struct is a valid
 * "no region", and zc_region_close() on it, or on a closed one, does nothing.
 * Fields are fixed-width and ordered so that no padding falls between them.
 */
#define ZC_REGION_NONE	0u
#define ZC_REGION_POSIX	1u	/* named, shm_open(3) namespace in /dev/shm */
#define ZC_REGION_MEMFD	2u	/* anonymous, memfd_create(2), sealable */
#define ZC_REGION_SYSV	3u	/* shmget(2) by key */
#define ZC_REGION_FILE	4u	/* a file loaded by mmap */

/* Flags for the calls; the same bits come back in zc_region.flags. */
#define ZC_REGION_CREATED	 0x0001u /* out: this call created the object */
#define ZC_REGION_RDONLY	 0x0002u /* in/out: mapped read-only */
#define ZC_REGION_UNPUBLISHED	 0x0004u /* in/out: created, not yet under its name */
#define ZC_REGION_UNSEALED	 0x0008u /* out: received fd not sealed against shrinking */
#define ZC_REGION_PRIVATE	 0x0010u /* in/out: copy-on-write mapping of a file */
#define ZC_REGION_OPEN_OR_CREATE 0x0100u /* in: open the object if it exists */
#define ZC_REGION_COPY		 0x0200u /* in: load a file as a private memfd copy */
#define ZC_REGION_NEED_SEALS	 0x0400u /* in: refuse a received fd that can shrink */

/* Largest name, without the leading slash; the same as NAME_MAX. */
#define ZC_REGION_NAME_MAX 255

struct zc_region {
	uint64_t size;		/* bytes mapped at addr */
	uint32_t kind;		/* ZC_REGION_*, ZC_REGION_NONE when empty */
	uint32_t flags;		/* ZC_REGION_* bits describing this region */
	int32_t fd;		/* fd behind the mapping, -1 if none */
	int32_t shmid;		/* System V id, -1 if none */
	uint32_t seals;		/* ZC_SEAL_* on the fd */
	uint32_t reserved;	/* zero */
	void *addr;		/* the mapping, NULL when nothing is mapped */
	char name[ZC_REGION_NAME_MAX + 1];	/* POSIX name without '/', or "" */
};

/*
 * Named POSIX regions. mode 0 means 0600; the object gets exactly mode,
 * whatever the umask. Space is reserved at once, so a full /dev/shm fails
 * here with ENOSPC instead of raising SIGBUS on first touch.
 */
int zc_region_create(struct zc_region *r, const char *name, uint64_t size, uint32_t mode,
		     uint32_t flags);
int zc_region_publish(struct zc_region *r);
int zc_region_open(struct zc_region *r, const char *name, uint32_t flags);
int zc_region_unlink(const char *name);

/*
 * System V regions by key (IPC_PRIVATE, 0, always makes a new one). Size
 * beyond SHMMAX fails with EFBIG, beyond SHMALL with ENOSPC.
 */
int zc_region_sysv_create(struct zc_region *r, int32_t key, uint64_t size, uint32_t mode,
			  uint32_t flags);
int zc_region_sysv_open(struct zc_region *r, int32_t key, uint32_t flags);

/*
 * Load a file: read-only and shared with the page cache (no copy), with
 * ZC_REGION_PRIVATE copy-on-write, or with ZC_REGION_COPY as a memfd copy
 * that later truncation of the file cannot touch. An empty file gives an
 * empty region (addr NULL, size 0).
 */
int zc_region_load(struct zc_region *r, const char *path, uint32_t flags);
int zc_region_load_fd(struct zc_region *r, int fd, uint32_t flags);

/*
 * Remove a region's name (POSIX) or key (SysV, IPC_RMID). Processes that
 * have it mapped keep using it; the memory goes with the last of them.
 */
int zc_region_remove(struct zc_region *r);

/*
 * Anonymous regions (memfd) and their seals, the F_SEAL_* values of
 * fcntl(2). A read-only fd does not protect a memfd: its receiver can
 * reopen /proc/self/fd/N read-write. Seal before handing it out.
 */
#define ZC_SEAL_SEAL		0x0001u	/* no more seals */
#define ZC_SEAL_SHRINK		0x0002u
#define ZC_SEAL_GROW		0x0004u
#define ZC_SEAL_WRITE		0x0008u	/* fails with EBUSY while a writable mapping exists */
#define ZC_SEAL_FUTURE_WRITE	0x0010u	/* no new writers; existing mappings keep writing */
#define ZC_SEAL_HANDOUT (ZC_SEAL_SHRINK | ZC_SEAL_GROW | ZC_SEAL_FUTURE_WRITE)

int zc_region_memfd(struct zc_region *r, const char *label, uint64_t size, uint32_t flags);
int zc_region_seal(struct zc_region *r, uint32_t seals);

/*
 * Pass a region over a UNIX socket (its fd as SCM_RIGHTS, or its SysV id).
 * The receiver checks the fd's real size and seals before mapping.
 */
int zc_region_send(int sock, const struct zc_region *r);
int zc_region_recv(int sock, struct zc_region *r, uint32_t flags);

/*
 * Send up to len bytes of a region from off to dst_fd (at *dst_off if not
 * NULL, advanced like zc_transfer_at), the cheapest way the kernel allows:
 * through the region's fd when it has one, else by vmsplice, which lends
 * the pages: leave the slice unchanged until the reader has it. Returns the
 * bytes sent, or -1 and errno; stats may be NULL.
 */
ssize_t zc_region_transfer(const struct zc_region *r, uint64_t off, size_t len, int dst_fd,
			   uint64_t *dst_off, unsigned int flags, struct zc_stats *stats);

/* Flags for zc_region_sync(). */
#define ZC_SYNC_ASYNC		0x1u	/* schedule the writeback, do not wait */
#define ZC_SYNC_INVALIDATE	0x2u	/* drop other mappings' cached copies */

/* msync(2) the pages holding [off, off + len); len 0 means to the end. */
int zc_region_sync(struct zc_region *r, uint64_t off, uint64_t len, uint32_t flags);
/* Change the size of a POSIX or memfd region; the mapping may move. */
int zc_region_resize(struct zc_region *r, uint64_t size);

/*
 * Named regions this library created that no process holds any more (their
 * creator and every opener have closed them or died): call found(name, arg)
 * for each whose name starts with prefix (NULL for all) and unlink it,
 * unless ZC_CLEANUP_LIST_ONLY. Returns how many, or -1 and errno.
 */
#define ZC_CLEANUP_LIST_ONLY 0x1u

int zc_region_cleanup(const char *prefix, uint32_t flags,
		      void (*found)(const char *name, void *arg), void *arg);

/*
 * Process-shared locks placed inside a region at an 8-aligned offset, taking
 * ZC_MUTEX_SIZE or ZC_SEM_SIZE bytes. One process initialises them
 * (ZC_LOCK_INIT), the others only find them. The mutex is robust: when its
 * holder dies, the next zc_mutex_lock() takes it and fails with EOWNERDEAD;
 * repair the data, then call zc_mutex_consistent(), or the mutex becomes
 * unusable (ENOTRECOVERABLE) at unlock.
 */
#define ZC_MUTEX_SIZE 64
#define ZC_SEM_SIZE 32
#define ZC_LOCK_INIT 0x1u

struct zc_mutex;
struct zc_sem;

struct zc_mutex *zc_region_mutex(struct zc_region *r, uint64_t off, uint32_t flags);
int zc_mutex_lock(struct zc_mutex *m);
int zc_mutex_trylock(struct zc_mutex *m);
int zc_mutex_unlock(struct zc_mutex *m);
int zc_mutex_consistent(struct zc_mutex *m);

struct zc_sem *zc_region_sem(struct zc_region *r, uint64_t off, uint32_t value,
			     uint32_t flags);
int zc_sem_wait(struct zc_sem *s);
int zc_sem_trywait(struct zc_sem *s);
int zc_sem_timedwait(struct zc_sem *s, uint64_t timeout_ns);
int zc_sem_post(struct zc_sem *s);

/* Unmap, detach and close; harmless on a zeroed or already closed region. */
int zc_region_close(struct zc_region *r);

#ifdef __cplusplus
}
#endif

#endif /* ZCOPY_H */
