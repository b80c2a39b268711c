#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The uAPI header is self-contained C and C++, and what it names agrees with
# the module that was built (the ULP name is the module's autoload alias).

. "$(dirname "$0")/../lib/ktap.sh"
cd "$(dirname "$0")/../.." || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ktap_header
ktap_plan 3

printf '#include <linux/ktls_attest.h>\n#include <linux/ktls_attest.h>\nint main(void) { return sizeof(KTLS_ATTEST_ULP_NAME) == 0; }\n' > "$tmp/c.c"
gcc -std=c99 -Wall -Wextra -Werror -pedantic -Iuapi -o "$tmp/c" "$tmp/c.c"
ktap_result $? "uapi header compiles alone as C99, included twice"

cp "$tmp/c.c" "$tmp/cxx.cc"
g++ -std=c++11 -Wall -Wextra -Werror -pedantic -Iuapi -o "$tmp/cxx" "$tmp/cxx.cc"
ktap_result $? "uapi header compiles as C++11"

printf '#include <stdio.h>\n#include <linux/ktls_attest.h>\nint main(void) { puts("tcp-ulp-" KTLS_ATTEST_ULP_NAME); return 0; }\n' > "$tmp/name.c"
if gcc -Iuapi -o "$tmp/name" "$tmp/name.c" && [ -f kmod/ktls_attest.ko ]; then
	want=$("$tmp/name")
	/sbin/modinfo -F alias kmod/ktls_attest.ko | grep -qx "$want"
	ktap_result $? "module autoload alias is $want"
else
	echo "# kmod/ktls_attest.ko is not built"
	ktap_result 1 "module autoload alias matches the uapi ULP name"
fi

ktap_exit
