/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernel versions af_custom builds for is
 * answered here, so no version check appears anywhere else in module/.
 * Range: 5.10 (the oldest LTS with sockptr_t setsockopt) and newer.
 */
#ifndef _CU_COMPAT_H
#define _CU_COMPAT_H

#include <linux/version.h>
#include <net/sock.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)
#error "af_custom needs Linux 5.10 or newer (sockptr_t setsockopt)"
#endif

/* 6.19 gave bind() and connect() an unsized address type. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
typedef struct sockaddr_unsized cu_uaddr_t;
#else
typedef struct sockaddr cu_uaddr_t;
#endif

/*
 * 6.10 folded accept()'s flags and kern arguments into a struct.
 * CU_DEFINE_ACCEPT(name, fn) defines a proto_ops.accept for this kernel
 * that calls fn(sock, newsock, file_flags).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define CU_DEFINE_ACCEPT(name, fn)					\
static int name(struct socket *sock, struct socket *newsock,		\
		struct proto_accept_arg *arg)				\
{									\
	return fn(sock, newsock, arg->flags);				\
}
#else
#define CU_DEFINE_ACCEPT(name, fn)					\
static int name(struct socket *sock, struct socket *newsock,		\
		int flags, bool kern)					\
{									\
	return fn(sock, newsock, flags);				\
}
#endif

/* 5.12 added the sk_error_report() wrapper. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 12, 0)
static inline void cu_error_report(struct sock *sk)
{
	sk->sk_error_report(sk);
}
#else
static inline void cu_error_report(struct sock *sk)
{
	sk_error_report(sk);
}
#endif

/* 5.15 put sk_peer_pid and sk_peer_cred under sk_peer_lock. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 15, 0)
#define cu_peer_lock(sk)	spin_lock(&(sk)->sk_peer_lock)
#define cu_peer_unlock(sk)	spin_unlock(&(sk)->sk_peer_lock)
#else
#define cu_peer_lock(sk)	do { } while (0)
#define cu_peer_unlock(sk)	do { } while (0)
#endif

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
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#define cu_sock_uid(sk)	sk_uid(sk)
#else
#define cu_sock_uid(sk)	sock_i_uid(sk)
#endif

#endif /* _CU_COMPAT_H */
