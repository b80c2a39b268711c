#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The netlink code generated from Documentation/netlink/specs/ktls_attest.yaml
# by tools/nlspec-gen (the uAPI header, the kernel's policies and op table,
# the policy and name tables of the ktls-attest tool and of the agent) is committed up to date (nobody edited it by hand or
# forgot "make gen"), the generated uAPI header is self-contained C99 and
# C++11, and the generator rejects a spec that names an unknown attribute.

. "$(dirname "$0")/../lib/ktap.sh"
cd "$(dirname "$0")/../.." || exit 1

spec=Documentation/netlink/specs/ktls_attest.yaml
gen=tools/nlspec-gen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ktap_header
ktap_plan 9

# committed file = fresh generation
for pair in uapi:uapi/linux/ktls_attest_netlink.h \
	    kernel-c:kmod/netlink_gen.c kernel-h:kmod/netlink_gen.h \
	    user-c:tools/lib/nlgen/ktls_attest_nl_gen.c \
	    user-h:tools/lib/nlgen/ktls_attest_nl_gen.h; do
	mode=${pair%%:*}
	file=${pair#*:}
	if "$gen" "$spec" --mode "$mode" -o "$tmp/fresh" 2> "$tmp/err" &&
	   diff -u "$file" "$tmp/fresh" > "$tmp/diff"; then
		ktap_result 0 "$file is up to date with $spec"
	else
		sed 's/^/# /' "$tmp/err" "$tmp/diff" | head -n 40
		echo "# regenerate with: make gen"
		ktap_result 1 "$file is up to date with $spec"
	fi
done

# uAPI header alone (included twice), using every kind of name it defines
cat > "$tmp/c.c" <<'EOF'
#include <linux/ktls_attest_netlink.h>
#include <linux/ktls_attest_netlink.h>
int main(void)
{
	enum ktls_attest_state st = KTLS_ATTEST_STATE_ARMED;
	int n = KTLS_ATTEST_A_SOCK_MAX + KTLS_ATTEST_CMD_MAX +
		KTLS_ATTEST_ROLE_RELYING_PARTY + KTLS_ATTEST_FAMILY_VERSION;

	return (int)st + n + (int)sizeof(KTLS_ATTEST_FAMILY_NAME) +
		(int)sizeof(KTLS_ATTEST_MCGRP_MONITOR) == 0;
}
EOF
gcc -std=c99 -Wall -Wextra -Werror -pedantic -Iuapi -o "$tmp/c" "$tmp/c.c" 2>&1 |
	sed 's/^/# /'
ktap_result "${PIPESTATUS[0]}" "generated uapi header compiles as C99"

cp "$tmp/c.c" "$tmp/cxx.cc"
g++ -std=c++11 -Wall -Wextra -Werror -pedantic -Iuapi -o "$tmp/cxx" "$tmp/cxx.cc" 2>&1 |
	sed 's/^/# /'
ktap_result "${PIPESTATUS[0]}" "generated uapi header compiles as C++11"

# an operation that lists an attribute its attribute set lacks
cat > "$tmp/bad.yaml" <<'EOF'
name: bad
protocol: genetlink
attribute-sets:
  -
    name: main
    attributes:
      -
        name: known
        type: u32
operations:
  list:
    -
      name: get
      attribute-set: main
      do:
        request:
          attributes: [ known, no-such-attr ]
EOF
"$gen" "$tmp/bad.yaml" --mode kernel-c > /dev/null 2> "$tmp/err"
status=$?
sed 's/^/# /' "$tmp/err"
[ "$status" -ne 0 ] && grep -q "no-such-attr" "$tmp/err"
ktap_result $? "a spec with an unknown attribute in an operation is rejected"

# usage errors exit 2
"$gen" "$spec" --mode no-such-mode > /dev/null 2>&1
[ $? -eq 2 ]
ktap_result $? "usage error exits 2"

ktap_exit
