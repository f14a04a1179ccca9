// SPDX-License-Identifier: MIT
/*
 * The kernel raises SIGPIPE on splice, sendfile and write to a pipe or
 * socket whose reader is gone; only send() can be told not to. A library
 * must not kill its caller that way, so while a call writes to a pipe or a
 * socket, SIGPIPE is blocked in the calling thread. If the call ended in an
 * error (EPIPE, or another one that hid it), a SIGPIPE it generated is taken
 * back before the mask is restored, unless one was already pending:
 * standard signals do not queue, so that one is the caller's and stays.
 *
 * This costs two syscalls per call on pipe and socket destinations, and
 * one when the caller already blocks SIGPIPE; ZC_NO_SIGPIPE_GUARD skips it
 * for callers that ignore or handle SIGPIPE themselves.
 */
#include <errno.h>
#include <signal.h>

#include "internal.h"

void zc__sigpipe_block(struct zc__sigpipe *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	s->active = zc__sys_sigmask(SIG_BLOCK, &set, &s->old) == 0;
	if (!s->active)
		return;
	s->was_blocked = sigismember(&s->old, SIGPIPE);
	s->was_pending = false;
	/* An unblocked signal cannot be pending: it would have been delivered. */
	if (s->was_blocked && zc__sys_sigpending(&set) == 0)
		s->was_pending = sigismember(&set, SIGPIPE);
}

void zc__sigpipe_restore(struct zc__sigpipe *s, int err)
{
	sigset_t set;

	if (!s->active)
		return;
	if (err && !s->was_pending) {
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		zc__sys_sigtimedwait(&set);
	}
	if (!s->was_blocked)
		zc__sys_sigmask(SIG_SETMASK, &s->old, NULL);
}
