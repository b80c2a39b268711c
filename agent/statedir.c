// SPDX-License-Identifier: GPL-2.0
/*
 * statedir.c: the atomic state files of statedir.h.  Owns the files it
 * writes; calls POSIX file I/O only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statedir.h"

static int path_of(char *out, size_t cap, const char *dir, const char *name,
		   const char *suffix)
{
	int n = snprintf(out, cap, "%s/%s%s", dir, name, suffix);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int katt_state_prepare(const char *dir)
{
	struct stat st;

	if (!mkdir(dir, 0700))
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(dir, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

long katt_state_read(const char *dir, const char *name, void *buf, size_t cap)
{
	char path[PATH_MAX];
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	ret = path_of(path, sizeof(path), dir, name, "");
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	for (;;) {
		uint8_t extra;

		if (len == cap) {
			/* one byte more than fits means the file is too large */
			n = read(fd, &extra, 1);
			if (n > 0) {
				close(fd);
				return -EFBIG;
			}
		} else {
			n = read(fd, (uint8_t *)buf + len, cap - len);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			close(fd);
			return ret;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	return len;
}

int katt_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

int katt_state_write(const char *dir, const char *name, const void *buf,
		     size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, dfd, ret;

	ret = path_of(path, sizeof(path), dir, name, "");
	if (!ret)
		ret = path_of(tmp, sizeof(tmp), dir, name, ".tmp");
	if (ret)
		return ret;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	ret = katt_write_all(fd, buf, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	/* the rename itself must reach the disk */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	ret = fsync(dfd) ? -errno : 0;
	close(dfd);
	return ret;
}

int katt_state_remove(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int ret = path_of(path, sizeof(path), dir, name, "");

	if (ret)
		return ret;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}
