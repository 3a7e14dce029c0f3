// SPDX-License-Identifier: GPL-2.0
/*
 * af_custom: a local socket family with the Windows Sockets listen()
 * semantics. This file only registers it: the proto first, then the
 * per-netns state, then the family, so no socket() can reach a half-set-up
 * module; exit undoes them in reverse.
 */

#include <linux/module.h>
#include <linux/net.h>
#include <net/sock.h>

#include "af_custom.h"
#include "diag.h"
#include "netns.h"

int cu_family = AF_CUSTOM;
module_param_named(family, cu_family, int, 0444);
MODULE_PARM_DESC(family, "address family number to register (default "
		 __stringify(AF_CUSTOM) ")");

static struct net_proto_family cu_family_ops = {
	.create	= cu_sock_create,
	.owner	= THIS_MODULE,
};

static int __init cu_init(void)
{
	int err;

	if (cu_family <= AF_UNSPEC || cu_family >= NPROTO) {
		pr_err("family=%d is not a valid address family (1..%d)\n",
		       cu_family, NPROTO - 1);
		return -EINVAL;
	}

	err = proto_register(&cu_proto, 1);
	if (err)
		return err;
	err = cu_netns_init();
	if (err)
		goto err_unreg_proto;

	cu_sock_init_ops();
	cu_family_ops.family = cu_family;
	err = sock_register(&cu_family_ops);
	if (err) {
		if (err == -EEXIST)
			pr_err("address family %d is taken: load with family=<free number>\n",
			       cu_family);
		goto err_netns_exit;
	}
	err = cu_diag_init();
	if (err)
		goto err_sock_unreg;
	return 0;

err_sock_unreg:
	sock_unregister(cu_family);
err_netns_exit:
	cu_netns_exit();
err_unreg_proto:
	proto_unregister(&cu_proto);
	return err;
}

static void __exit cu_exit(void)
{
	cu_diag_exit();
	sock_unregister(cu_family);
	cu_netns_exit();
	proto_unregister(&cu_proto);
}

module_init(cu_init);
module_exit(cu_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("AF_CUSTOM: sockets with Windows Sockets listen() semantics");
MODULE_VERSION("0.1.0");
MODULE_ALIAS_NETPROTO(PF_CUSTOM);
/* a sock_diag request for the family loads the module, as for unix_diag */
MODULE_ALIAS_NET_PF_PROTO_TYPE(PF_NETLINK, NETLINK_SOCK_DIAG, PF_CUSTOM);
