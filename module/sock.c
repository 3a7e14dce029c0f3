// SPDX-License-Identifier: GPL-2.0
/*
 * The socket layer: the proto_ops tables, socket creation and release,
 * bind, names, SOL_CUSTOM options and ioctls. It validates arguments and
 * dispatches; connections live in conn.c, data in stream.c and dgram.c,
 * the port table in ports.c.
 */

#include <linux/termios.h>
#include <linux/sockios.h>
#include <linux/sock_diag.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "af_custom.h"
#include "compat.h"
#include "conn.h"
#include "data.h"
#include "dgram.h"
#include "netns.h"
#include "pending.h"
#include "ports.h"
#include "stream.h"

/*
 * Work a change made under the socket lock owes others, done as the lock
 * is released. setsockopt(SOL_SOCKET) changes SO_SNDBUF and SO_RCVBUF
 * under lock_sock() and has no hook of its own for them: a smaller send
 * buffer leaves fewer spare pages to keep, and a datagram receiver's
 * larger receive buffer has room for the senders asleep on it.
 */
static void cu_sock_release_cb(struct sock *sk)
{
	struct cu_sock *cu = cu_sk(sk);

	cu_data_trim_spare(sk);
	if (sk->sk_type == SOCK_DGRAM && sk->sk_rcvbuf > cu->rcvbuf_seen)
		wake_up_interruptible_all(&cu->writers);
	cu->rcvbuf_seen = sk->sk_rcvbuf;
}

struct proto cu_proto = {
	.name		= "AF_CUSTOM",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct cu_sock),
	.release_cb	= cu_sock_release_cb,
};

/*
 * The last reference is gone (maybe in an RCU callback). Unlinked from the
 * netns list first, so /proc and sock_diag, which walk it, never see a
 * socket whose parts are being freed.
 */
static void cu_sock_destruct(struct sock *sk)
{
	cu_net_unlink(sk);
	skb_queue_purge(&sk->sk_receive_queue);
	cu_pages_free(&cu_sk(sk)->spare);
	kfree_skb(cu_sk(sk)->spare_skb);
	cu_pending_free(cu_sk(sk)->pending);
}

/*
 * A new af_custom sock, attached to @sock (NULL for a connection's child);
 * @kern for a kernel socket, which holds no reference on its netns.
 */
struct sock *cu_sock_alloc(struct net *net, struct socket *sock, int type,
			   gfp_t gfp, int kern)
{
	struct cu_sock *cu;
	struct sock *sk;

	sk = sk_alloc(net, cu_family, gfp, &cu_proto, kern);
	if (!sk)
		return NULL;
	sock_init_data(sock, sk);
	sk->sk_type = type;
	sk->sk_destruct = cu_sock_destruct;

	cu = cu_sk(sk);
	INIT_LIST_HEAD(&cu->pending_node);
	spin_lock_init(&cu->lock);
	mutex_init(&cu->iolock);
	atomic_set(&cu->unread, 0);
	cu_pages_init(&cu->spare);
	init_waitqueue_head(&cu->writers);
	cu->rcvbuf_seen = sk->sk_rcvbuf;
	init_waitqueue_func_entry(&cu->room_wait, cu_dgram_room_relay);
	INIT_LIST_HEAD(&cu->room_wait.entry);	/* "not queued" */
	cu_net_link(sk);
	return sk;
}

/* The socket cookie of @sk, as SO_COOKIE and sock_diag report it. */
u64 cu_sock_cookie(struct sock *sk)
{
	u32 cookie[2];

	sock_diag_save_cookie(sk, cookie);
	return (u64)cookie[1] << 32 | cookie[0];
}

/* The port of a user's address, with the errors bind() and connect() share. */
int cu_addr_to_port(const struct sockaddr *uaddr, int addr_len, u32 *port)
{
	const struct sockaddr_cu *addr = (const struct sockaddr_cu *)uaddr;

	if (addr_len < (int)sizeof(*addr))
		return -EINVAL;
	if (addr->scu_family != cu_family)
		return -EAFNOSUPPORT;
	if (addr->scu_reserved)
		return -EINVAL;
	*port = addr->scu_port;
	return 0;
}

/* The port @sk is connected to (a DGRAM socket: its default peer), or 0. */
u32 cu_sock_peer_port(struct sock *sk)
{
	struct sock *peer = READ_ONCE(cu_sk(sk)->peer);

	if (sk->sk_type == SOCK_DGRAM)
		return READ_ONCE(sk->sk_state) == TCP_ESTABLISHED ?
		       READ_ONCE(cu_sk(sk)->peer_port) : 0;
	return peer ? READ_ONCE(cu_sk(peer)->port) : 0;
}

static int cu_bind(struct socket *sock, cu_uaddr_t *uaddr, int addr_len)
{
	struct sock *sk = sock->sk;
	u32 port;
	int err;

	err = cu_addr_to_port((struct sockaddr *)uaddr, addr_len, &port);
	if (err)
		return err;
	lock_sock(sk);
	err = cu_ports_bind(sk, port);
	release_sock(sk);
	return err;
}

static int cu_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	struct sockaddr_cu *addr = (struct sockaddr_cu *)uaddr;
	struct sock *sk = sock->sk;
	u32 port;

	if (peer) {
		if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
			return -ENOTCONN;
		port = cu_sock_peer_port(sk);
	} else {
		port = READ_ONCE(cu_sk(sk)->port);
	}
	addr->scu_family = cu_family;
	addr->scu_reserved = 0;
	addr->scu_port = port;
	return sizeof(*addr);
}

static int cu_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;
	lock_sock(sk);
	if (sk->sk_type == SOCK_DGRAM)
		cu_dgram_unwatch_room(sk);
	cu_conn_release(sk);
	sock_orphan(sk);
	release_sock(sk);
	cu_ports_unbind(sk);
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

static int cu_put_option(char __user *optval, int __user *optlen,
			 const void *val, int len)
{
	if (put_user(len, optlen) || copy_to_user(optval, val, len))
		return -EFAULT;
	return 0;
}

static int cu_getsockopt(struct socket *sock, int level, int optname,
			 char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;
	struct cu_listen_stats stats;
	int len, val;

	if (level != SOL_CUSTOM)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	switch (optname) {
	case CU_BACKLOG:
		val = cu_conn_backlog(sk);
		break;
	case CU_PENDING:
		val = cu_conn_pending(sk);
		break;
	case CU_STATS:
		if (sk->sk_type == SOCK_DGRAM)
			return -ENOPROTOOPT;
		cu_conn_stats(sk, &stats);
		/* a short buffer gets the head of the struct, as TCP_INFO */
		len = min_t(int, len, sizeof(stats));
		return cu_put_option(optval, optlen, &stats, len);
	default:
		return -ENOPROTOOPT;
	}
	if (len < (int)sizeof(val))
		return -EINVAL;
	return cu_put_option(optval, optlen, &val, sizeof(val));
}

/* Every SOL_CUSTOM option is read-only. */
static int cu_setsockopt(struct socket *sock, int level, int optname,
			 sockptr_t optval, unsigned int optlen)
{
	return -ENOPROTOOPT;
}

static int cu_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	int amount;

	switch (cmd) {
	case SIOCINQ:
		if (READ_ONCE(sk->sk_state) == TCP_LISTEN)
			return -EINVAL;
		amount = sk->sk_type == SOCK_DGRAM ? cu_data_next_size(sk) :
						     cu_stream_inq(sk);
		break;
	case SIOCOUTQ:
		amount = atomic_read(&cu_sk(sk)->unread);
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return put_user(amount, (int __user *)arg);
}

static int cu_accept(struct socket *sock, struct socket *newsock,
		     CU_ACCEPT_PARAMS)
{
	return cu_conn_accept(sock, newsock, CU_ACCEPT_FLAGS);
}

/*
 * SOCK_STREAM and SOCK_SEQPACKET: stream.c tells records from bytes.
 * .family is the number the module registered (cu_sock_init_ops()).
 */
static struct proto_ops cu_conn_ops __ro_after_init = {
	.owner		= THIS_MODULE,
	.release	= cu_release,
	.bind		= cu_bind,
	.connect	= cu_conn_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= cu_accept,
	.getname	= cu_getname,
	.poll		= cu_conn_poll,
	.ioctl		= cu_ioctl,
	.listen		= cu_conn_listen,
	.shutdown	= cu_conn_shutdown,
	.setsockopt	= cu_setsockopt,
	.getsockopt	= cu_getsockopt,
	.sendmsg	= cu_stream_sendmsg,
	.recvmsg	= cu_stream_recvmsg,
	.mmap		= sock_no_mmap,
};

static struct proto_ops cu_dgram_ops __ro_after_init = {
	.owner		= THIS_MODULE,
	.release	= cu_release,
	.bind		= cu_bind,
	.connect	= cu_dgram_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= cu_getname,
	.poll		= cu_dgram_poll,
	.ioctl		= cu_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= cu_dgram_shutdown,
	.setsockopt	= cu_setsockopt,
	.getsockopt	= cu_getsockopt,
	.sendmsg	= cu_dgram_sendmsg,
	.recvmsg	= cu_dgram_recvmsg,
	.mmap		= sock_no_mmap,
};

/* Called by module init, before the family is registered. */
void __init cu_sock_init_ops(void)
{
	cu_conn_ops.family = cu_family;
	cu_dgram_ops.family = cu_family;
}

int cu_sock_create(struct net *net, struct socket *sock, int protocol,
		   int kern)
{
	if (protocol)
		return -EPROTONOSUPPORT;

	switch (sock->type) {
	case SOCK_STREAM:
	case SOCK_SEQPACKET:
		sock->ops = &cu_conn_ops;
		break;
	case SOCK_DGRAM:
		sock->ops = &cu_dgram_ops;
		break;
	default:
		return -ESOCKTNOSUPPORT;
	}
	sock->state = SS_UNCONNECTED;
	if (!cu_sock_alloc(net, sock, sock->type, GFP_KERNEL, kern))
		return -ENOMEM;
	return 0;
}
