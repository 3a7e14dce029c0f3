// SPDX-License-Identifier: GPL-2.0
/*
 * Helper for cu_module.sh (not a test by itself).
 *
 *   cu_hold_socket hold FAMILY READYFILE [SECONDS]
 *	open a SOCK_STREAM socket of FAMILY, create READYFILE, then sleep
 *	until killed (at most SECONDS, default 120). Exit 2 if the socket
 *	cannot be created.
 *   cu_hold_socket probe FAMILY
 *	create and close a socket of FAMILY: exit 0 if it works, 2 for
 *	EAFNOSUPPORT (family not registered), 1 for any other error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

static int open_socket(const char *family)
{
	int fd = socket(atoi(family), SOCK_STREAM, 0);

	if (fd < 0) {
		fprintf(stderr, "cu_hold_socket: socket(%s, SOCK_STREAM, 0): %s\n",
			family, strerror(errno));
		exit(errno == EAFNOSUPPORT ? 2 : 1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	unsigned int secs = 120;
	int fd, rf;

	if (argc == 3 && !strcmp(argv[1], "probe")) {
		close(open_socket(argv[2]));
		return 0;
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "hold")) {
		if (argc == 5)
			secs = atoi(argv[4]);
		fd = open_socket(argv[2]);
		rf = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (rf < 0) {
			perror("cu_hold_socket: ready file");
			return 1;
		}
		close(rf);
		while (secs--)
			sleep(1);
		close(fd);
		return 0;
	}
	fprintf(stderr, "usage: %s hold FAMILY READYFILE [SECONDS] | probe FAMILY\n",
		argv[0]);
	return 1;
}
