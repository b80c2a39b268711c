#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel code is checkpatch (--strict) and sparse clean.

. "$(dirname "$0")/../lib/ktap.sh"
cd "$(dirname "$0")/../.." || exit 1

ktap_header
ktap_plan 2

out=$(make -s style-checkpatch 2>&1)
status=$?
[ $status -ne 0 ] && printf '%s\n' "$out" | sed 's/^/# /'
ktap_result $status "checkpatch --strict"

# sparse prints its findings as compiler warnings; any is a failure
out=$(make -s style-sparse 2>&1 | grep -E 'warning:|error:')
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
[ -z "$out" ]
ktap_result $? "sparse (C=2)"

ktap_exit
