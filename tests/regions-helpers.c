// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "regions-helpers.h"

static pid_t owner;

void t_regions_init(void)
{
	owner = getpid();
}

static void own_prefix(char *out, size_t size)
{
	snprintf(out, size, T_REGION_PREFIX "%d-", (int)owner);
}

void t_rname(char *out, const char *tag)
{
	snprintf(out, 96, T_REGION_PREFIX "%d-%s", (int)owner, tag);
}

int32_t t_rkey(unsigned int n)
{
	return T_KEY_BASE | (int32_t)(((unsigned int)owner & 0xfff) << 4) | (int32_t)(n & 0xf);
}

static bool key_is_ours(int32_t key, int all)
{
	if ((key & T_KEY_MASK) != T_KEY_BASE)
		return false;
	return all || (key & ~0xf) == (t_rkey(0) & ~0xf);
}

static int sweep_shm(int all)
{
	char prefix[64];
	struct dirent *e;
	DIR *d = opendir("/dev/shm");
	int n = 0;

	if (!d)
		return 0;
	if (all)
		snprintf(prefix, sizeof(prefix), T_REGION_PREFIX);
	else
		own_prefix(prefix, sizeof(prefix));
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		fprintf(stderr, "left in /dev/shm: %s\n", e->d_name);
		unlinkat(dirfd(d), e->d_name, 0);
		n++;
	}
	closedir(d);
	return n;
}

/* /proc/sysvipc/shm: "key shmid perms size cpid ..." after one header line. */
static int sweep_sysv(int all)
{
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	char line[512];
	int key, id, n = 0;

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d %d", &key, &id) != 2 || !key_is_ours(key, all))
			continue;
		fprintf(stderr, "left in SysV: key 0x%08x shmid %d\n", (unsigned int)key, id);
		shmctl(id, IPC_RMID, NULL);
		n++;
	}
	fclose(f);
	return n;
}

int t_regions_sweep(int all)
{
	return sweep_shm(all) + sweep_sysv(all);
}

int t_regions_teardown(void **state)
{
	(void)state;
	return t_regions_sweep(0) ? -1 : 0;
}

pid_t t_spawn(void (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handlers would resume the parent's test list in the child */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		fn(arg);
		_exit(0);
	}
	return pid;
}

int t_wait_exit(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("child %d killed by signal %d", (int)pid, WTERMSIG(status));
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

void t_gate_open(int g[2])
{
	assert_int_equal(pipe2(g, O_CLOEXEC), 0);
}

/* Blocks until the gate is released (its write end closed everywhere). */
void t_gate_wait(int g[2])
{
	char c;

	close(g[1]);
	while (read(g[0], &c, 1) < 0 && errno == EINTR)
		;
	close(g[0]);
}

void t_gate_release(int g[2])
{
	close(g[0]);
	close(g[1]);
}

int t_race(void (*fn)(void *), void *arg, int gate[2], int n)
{
	pid_t pids[16];
	int i, st, created = 0;

	assert_true(n <= 16);
	t_gate_open(gate);
	for (i = 0; i < n; i++)
		pids[i] = t_spawn(fn, arg);
	t_gate_release(gate);
	for (i = 0; i < n; i++) {
		st = t_wait_exit(pids[i]);
		assert_true(st == 10 || st == 20);
		created += st == 10;
	}
	return created;
}

static int ready_fd = -1;

pid_t t_spawn_ready(void (*fn)(void *), void *arg)
{
	int p[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	ready_fd = p[1];
	pid = t_spawn(fn, arg);
	close(p[1]);
	ready_fd = -1;
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	return pid;
}

void t_ready(void)
{
	close(ready_fd);
}

void t_kill(pid_t pid)
{
	int status;

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

union t_cmsg {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(int) * 8)];
};

ssize_t t_recv_raw(int sock, void *buf, size_t size)
{
	union t_cmsg c;
	struct iovec iov = { buf, size };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *h;
	ssize_t len = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	size_t i;
	int fd;

	assert_true(len > 0);
	for (h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		for (i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
	return len;
}

void t_send_fds(int sock, const void *buf, size_t len, const int *fds, int n)
{
	union t_cmsg c;
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf };

	assert_true(n >= 1 && n <= 8);
	memset(&c, 0, sizeof(c));
	m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
	c.h.cmsg_level = SOL_SOCKET;
	c.h.cmsg_type = SCM_RIGHTS;
	c.h.cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(&c.h), fds, sizeof(int) * (size_t)n);
	assert_int_equal(sendmsg(sock, &m, 0), (ssize_t)len);
}
