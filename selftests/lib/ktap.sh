# SPDX-License-Identifier: GPL-2.0
#
# KTAP helpers for the test runners (sourced, bash).
#
# Suites: ktap_suite NUM NAME CMD... runs one test program, prints its KTAP
# output nested under "# " (as the kselftest runner does) and one result
# line "ok NUM NAME" / "not ok NUM NAME", and adds the program's own test
# results to KTAP_PASS, KTAP_FAIL and KTAP_SKIP.  A program that exits
# non-zero without reporting a failed test (a crash, a setup error) counts
# as one failed test; one that exits 4 (kselftest skip) without results as
# one skipped test.  An expected failure ("ok N ... # XFAIL") counts as
# skipped, not passed.
#
# Leaf helpers for tests written in shell: ktap_header, ktap_plan N,
# ktap_result STATUS NAME (STATUS: 0 ok, 4 skip, other not ok), ktap_exit.

KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

ktap_suite()
{
	local num=$1 name=$2 out status pass fail skip
	shift 2
	out=$(mktemp)
	echo "# selftests: $name"
	"$@" 2>&1 | tee "$out" | sed -u 's/^/# /'
	status=${PIPESTATUS[0]}
	pass=$(grep -cE '^ok [0-9]+' "$out" | head -n 1)
	skip=$(grep -cE '^ok [0-9]+.*# *(SKIP|XFAIL)' "$out" | head -n 1)
	fail=$(grep -cE '^not ok [0-9]+' "$out" | head -n 1)
	pass=$((pass - skip))
	rm -f "$out"
	if [ "$status" -ne 0 ] && [ "$status" -ne 4 ] && [ "$fail" -eq 0 ]; then
		echo "# $name: exited with status $status without reporting a failed test"
		fail=1
	fi
	if [ "$status" -eq 4 ] && [ $((pass + fail + skip)) -eq 0 ]; then
		skip=1
	fi
	KTAP_PASS=$((KTAP_PASS + pass))
	KTAP_FAIL=$((KTAP_FAIL + fail))
	KTAP_SKIP=$((KTAP_SKIP + skip))
	if [ "$fail" -ne 0 ]; then
		echo "not ok $num selftests: $name # exit=$status"
	elif [ "$status" -eq 4 ] && [ "$pass" -eq 0 ]; then
		echo "ok $num selftests: $name # SKIP"
	else
		echo "ok $num selftests: $name"
	fi
}

KTAP_NUM=0
KTAP_ANY_FAIL=0

ktap_header()
{
	echo "TAP version 13"
}

ktap_plan()
{
	echo "1..$1"
}

ktap_result()
{
	local status=$1
	shift
	KTAP_NUM=$((KTAP_NUM + 1))
	case "$status" in
	0) echo "ok $KTAP_NUM $*" ;;
	4) echo "ok $KTAP_NUM $* # SKIP" ;;
	*) echo "not ok $KTAP_NUM $*"; KTAP_ANY_FAIL=1 ;;
	esac
}

ktap_exit()
{
	exit $KTAP_ANY_FAIL
}
