#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# libktls-attest installs as a library should: make install with PREFIX and
# DESTDIR puts the header (and the uAPI headers it includes), the shared
# library with its soname links, the static library and the pkg-config
# file in place; a program builds against the installed copy through
# pkg-config alone, shared and static, and runs; only ktls_attest_*
# symbols are exported; make uninstall removes it all.

. "$(dirname "$0")/../lib/ktap.sh"
cd "$(dirname "$0")/../.." || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
prefix=/opt/katt
lib=tools/lib/ktls-attest

ktap_header
ktap_plan 6

make -s -C "$lib" OUTPUT="$tmp/build/" PREFIX="$prefix" DESTDIR="$dest" \
	install >"$tmp/install.log" 2>&1
status=$?
for f in include/ktls-attest/ktls-attest.h include/ktls-attest/linux/ktls_attest.h \
	 include/ktls-attest/linux/ktls_attest_netlink.h lib/libktls-attest.a \
	 lib/libktls-attest.so.0.1.0 lib/pkgconfig/libktls-attest.pc; do
	[ -f "$dest$prefix/$f" ] || { echo "# missing $prefix/$f"; status=1; }
done
[ "$(readlink "$dest$prefix/lib/libktls-attest.so")" = libktls-attest.so.0 ] &&
[ "$(readlink "$dest$prefix/lib/libktls-attest.so.0")" = libktls-attest.so.0.1.0 ] ||
	{ echo "# soname links wrong"; status=1; }
[ $status -eq 0 ] || sed 's/^/# /' "$tmp/install.log"
ktap_result $status "make install PREFIX=$prefix DESTDIR=... installs header, libraries, .pc"

soname=$(readelf -d "$dest$prefix/lib/libktls-attest.so.0.1.0" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
other=$(nm -D --defined-only "$dest$prefix/lib/libktls-attest.so.0.1.0" |
	awk '$2 ~ /[TDBR]/ && $3 !~ /^ktls_attest_/ {print $3}')
[ "$soname" = libktls-attest.so.0 ] && [ -z "$other" ]
status=$?
[ $status -eq 0 ] || echo "# soname '$soname'; other exported symbols: $other"
ktap_result $status "soname libktls-attest.so.0, only ktls_attest_* exported"

cat > "$tmp/prog.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include <ktls-attest.h>

int main(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct ktls_attest_opts o = { .mode = KTLS_ATTEST_MODE_USERSPACE };
	struct ktls_attest *ka;
	SSL *ssl = SSL_new(ctx);
	int ret;

	ret = ktls_attest_prepare(ssl, &o, &ka);
	if (ret || ktls_attest_get_mode(ka) != KTLS_ATTEST_MODE_USERSPACE ||
	    strcmp(ktls_attest_mode_name(KTLS_ATTEST_MODE_BOUND), "bound") ||
	    ktls_attest_mode_from_name("gated") != KTLS_ATTEST_MODE_GATED ||
	    KTLS_ATTEST_BINDING_PEER_VERIFIED != 0x8) {
		fprintf(stderr, "prepare: %d %s\n", ret, ktls_attest_strerror(ka));
		return 1;
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	puts("ok");
	return 0;
}
PROG
export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$dest$prefix/lib/pkgconfig
cflags=$(pkg-config --cflags libktls-attest) &&
libs=$(pkg-config --libs libktls-attest) &&
gcc -Wall -Wextra -Werror $cflags -o "$tmp/prog-shared" "$tmp/prog.c" $libs &&
[ "$(LD_LIBRARY_PATH=$dest$prefix/lib "$tmp/prog-shared")" = ok ]
ktap_result $? "a program builds with pkg-config --cflags --libs and runs (shared)"

ldd_out=$(LD_LIBRARY_PATH=$dest$prefix/lib ldd "$tmp/prog-shared")
echo "$ldd_out" | grep -q "libktls-attest.so.0 => $dest$prefix/lib/"
ktap_result $? "the shared program loads the installed libktls-attest.so.0"

slibs=$(pkg-config --static --libs libktls-attest) &&
gcc -Wall -Wextra -Werror $cflags -o "$tmp/prog-static" "$tmp/prog.c" \
	-Wl,-Bstatic -lktls-attest -Wl,-Bdynamic ${slibs//-lktls-attest/} &&
! ldd "$tmp/prog-static" | grep -q libktls-attest &&
[ "$("$tmp/prog-static")" = ok ]
ktap_result $? "a program links the static library (pkg-config --static) and runs"

make -s -C "$lib" OUTPUT="$tmp/build/" PREFIX="$prefix" DESTDIR="$dest" \
	uninstall >/dev/null 2>&1 &&
[ -z "$(find "$dest" -type f -o -type l)" ]
ktap_result $? "make uninstall removes every installed file"

ktap_exit
