// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of cu_tools.sh and cu_socat.sh (not a test by itself).
 *
 *   cu_sockinfo PID
 *
 * For every AF_CUSTOM socket that process PID has open, print what the
 * socket itself says, one line each:
 *
 *   ino=N type=stream port=N peer=N backlog=N pending=N queued=N
 *   accepted=N refused_full=N reset_shrink=N reset_close=N
 *
 * (one line; the counters only for stream and seqpacket sockets). The
 * sockets are borrowed with pidfd_getfd(2), so the values come from
 * getsockopt(SOL_CUSTOM), getsockname and getpeername on the very socket
 * that cunc or socat uses: the scripts compare them with cuss's output.
 * Needs ptrace access to PID (root). Exit 1 if nothing could be read.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/af_custom.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int family = AF_CUSTOM;

static int opt_int(int fd, int name)
{
	socklen_t len = sizeof(int);
	int v = -1;

	getsockopt(fd, SOL_CUSTOM, name, &v, &len);
	return v;
}

static unsigned int name_port(int fd, int peer)
{
	struct sockaddr_cu a;
	socklen_t len = sizeof(a);
	int ret;

	memset(&a, 0, sizeof(a));
	ret = peer ? getpeername(fd, (struct sockaddr *)&a, &len) :
		     getsockname(fd, (struct sockaddr *)&a, &len);
	return ret ? 0 : a.scu_port;
}

static void show(int fd)
{
	struct cu_listen_stats st;
	socklen_t len = sizeof(int);
	struct stat sb;
	int type = 0, dom = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) || dom != family)
		return;
	len = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	fstat(fd, &sb);
	printf("ino=%lu type=%s port=%u peer=%u backlog=%d pending=%d",
	       (unsigned long)sb.st_ino,
	       type == SOCK_STREAM ? "stream" :
	       type == SOCK_SEQPACKET ? "seqpacket" : "dgram",
	       name_port(fd, 0), name_port(fd, 1), opt_int(fd, CU_BACKLOG),
	       opt_int(fd, CU_PENDING));
	len = sizeof(st);
	if (type != SOCK_DGRAM &&
	    !getsockopt(fd, SOL_CUSTOM, CU_STATS, &st, &len))
		printf(" queued=%llu accepted=%llu refused_full=%llu reset_shrink=%llu reset_close=%llu",
		       (unsigned long long)st.queued,
		       (unsigned long long)st.accepted,
		       (unsigned long long)st.refused_full,
		       (unsigned long long)st.reset_shrink,
		       (unsigned long long)st.reset_close);
	putchar('\n');
}

int main(int argc, char **argv)
{
	char path[64];
	struct dirent *d;
	int pid, pidfd, fd, shown = 0;
	FILE *f;
	DIR *dir;

	if (argc != 2 || (pid = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: %s PID\n", argv[0]);
		return 2;
	}
	f = fopen("/sys/module/af_custom/parameters/family", "r");
	if (f) {
		if (fscanf(f, "%d", &family) != 1)
			family = AF_CUSTOM;
		fclose(f);
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		fprintf(stderr, "cu_sockinfo: pidfd_open(%d): %s\n", pid, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir) {
		fprintf(stderr, "cu_sockinfo: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((d = readdir(dir))) {
		char link[320], target[64];
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strncmp(target, "socket:", 7))
			continue;
		fd = syscall(SYS_pidfd_getfd, pidfd, atoi(d->d_name), 0);
		if (fd < 0) {
			fprintf(stderr, "cu_sockinfo: pidfd_getfd(%d, %s): %s\n", pid,
				d->d_name, strerror(errno));
			continue;
		}
		show(fd);
		close(fd);
		shown++;
	}
	closedir(dir);
	return shown ? 0 : 1;
}
