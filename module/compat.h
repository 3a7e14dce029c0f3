/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels af_custom builds for (see Kbuild
 * for the range) is answered here, so no other file tests for one. The
 * CU_HAVE_* flags come from Kbuild's compile probes against the headers
 * being built for, not from version numbers: distributions backport.
 */
#ifndef _CU_COMPAT_H
#define _CU_COMPAT_H

#include <linux/cred.h>
#include <linux/sock_diag.h>
#include <linux/uio.h>
#include <net/sock.h>

/* 6.19 gave bind() and connect() an unsized address type. */
#ifdef CU_HAVE_SOCKADDR_UNSIZED
#define cu_uaddr_t	struct sockaddr_unsized
#else
#define cu_uaddr_t	struct sockaddr
#endif

/*
 * 6.10 folded accept()'s flags and kern arguments into a struct. A
 * proto_ops.accept is declared with CU_ACCEPT_PARAMS after its two
 * sockets and reads the file flags with CU_ACCEPT_FLAGS.
 */
#ifdef CU_HAVE_ACCEPT_ARG
#define CU_ACCEPT_PARAMS	struct proto_accept_arg *accept_arg
#define CU_ACCEPT_FLAGS		(accept_arg->flags)
#else
#define CU_ACCEPT_PARAMS	int accept_flags, bool accept_kern
#define CU_ACCEPT_FLAGS		(accept_flags)
#endif

/* 5.12 added the sk_error_report() wrapper. */
static inline void cu_error_report(struct sock *sk)
{
#ifdef CU_HAVE_SK_ERROR_REPORT
	sk_error_report(sk);
#else
	sk->sk_error_report(sk);
#endif
}

/* 5.15 put sk_peer_pid and sk_peer_cred under sk_peer_lock. */
static inline void cu_peer_lock(struct sock *sk)
{
#ifdef CU_HAVE_SK_PEER_LOCK
	spin_lock(&sk->sk_peer_lock);
#endif
}

static inline void cu_peer_unlock(struct sock *sk)
{
#ifdef CU_HAVE_SK_PEER_LOCK
	spin_unlock(&sk->sk_peer_lock);
#endif
}

static inline void cu_set_peercred(struct sock *sk, struct pid *pid,
				   const struct cred *cred)
{
	struct pid *old_pid;
	const struct cred *old_cred;

	cu_peer_lock(sk);
	old_pid = sk->sk_peer_pid;
	old_cred = sk->sk_peer_cred;
	sk->sk_peer_pid = get_pid(pid);
	sk->sk_peer_cred = cred ? get_cred(cred) : NULL;
	cu_peer_unlock(sk);
	put_pid(old_pid);
	if (old_cred)
		put_cred(old_cred);
}

/* Give @sk the credentials @from holds (the listener's, for a client). */
static inline void cu_copy_peercred(struct sock *sk, struct sock *from)
{
	struct pid *pid;
	const struct cred *cred;

	cu_peer_lock(from);
	pid = get_pid(from->sk_peer_pid);
	cred = from->sk_peer_cred ? get_cred(from->sk_peer_cred) : NULL;
	cu_peer_unlock(from);
	cu_set_peercred(sk, pid, cred);
	put_pid(pid);
	if (cred)
		put_cred(cred);
}

/* 6.17 replaced sock_i_uid() by the lockless sk_uid(). */
static inline kuid_t cu_sock_uid(struct sock *sk)
{
#ifdef CU_HAVE_SK_UID_HELPER
	return sk_uid(sk);
#else
	return sock_i_uid(sk);
#endif
}

/* 6.9 (and Debian's 6.1) let a sock_diag handler pin its module. */
static inline void cu_diag_set_owner(struct sock_diag_handler *handler,
				     struct module *owner)
{
#ifdef CU_HAVE_DIAG_OWNER
	handler->owner = owner;
#endif
}

/*
 * The user address where an iterator's next segment starts, or NULL if
 * it is not user memory. 6.4 added iter_iov_addr(), which also knows
 * ITER_UBUF; before it, only an iovec's is looked for.
 */
static inline void __user *cu_iter_user_addr(const struct iov_iter *i)
{
#ifdef CU_HAVE_ITER_IOV_ADDR
	return user_backed_iter(i) ? iter_iov_addr(i) : NULL;
#else
	return iter_is_iovec(i) ? i->iov->iov_base + i->iov_offset : NULL;
#endif
}

/*
 * Fault in the first @len bytes an iterator will be read from; returns
 * how many could not be. 5.16 made the answer a count.
 */
static inline size_t cu_fault_in_readable(struct iov_iter *i, size_t len)
{
#ifdef CU_HAVE_FAULT_IN_ITER
	return fault_in_iov_iter_readable(i, len);
#else
	return iov_iter_fault_in_readable(i, len) ? len : 0;
#endif
}

#endif /* _CU_COMPAT_H */
