#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ktls-attest's command line on the host (which has no module): usage
# errors exit 2 with one line saying what is wrong and one with the
# command's usage; help goes to stdout and exits 0; commands that need
# the kernel say the module is not loaded and exit 1; an output that
# cannot be written fails.  Each case runs the plain build and the one
# with AddressSanitizer and UBSan (build/asan/), whose reports (leaks
# too) would show on stderr and in the exit status.

. "$(dirname "$0")/../lib/ktap.sh"
cd "$(dirname "$0")/../.." || exit 1

BINS=(build/ktls-attest build/asan/ktls-attest)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
long_text=$(printf '%0128d' 0)

# usage_case BIN PATTERN ARGS...: exit 2, nothing on stdout, two lines on
# stderr: "ktls-attest: ..." matching PATTERN, then "usage: ktls-attest ..."
usage_case()
{
	local bin=$1 pattern=$2 status
	shift 2
	"$bin" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
	status=$?
	if [ $status -eq 2 ] && [ ! -s "$tmp/out" ] &&
	   [ "$(wc -l < "$tmp/err")" -eq 2 ] &&
	   head -n 1 "$tmp/err" | grep -q -- "^ktls-attest: .*$pattern" &&
	   tail -n 1 "$tmp/err" | grep -q '^usage: ktls-attest '; then
		ktap_result 0 "$bin $*: usage error"
	else
		echo "# exit $status, stderr:"
		sed 's/^/#   /' "$tmp/err" "$tmp/out"
		ktap_result 1 "$bin $*: usage error"
	fi
}

# help_case BIN ARGS...: exit 0, the help on stdout, nothing on stderr
help_case()
{
	local bin=$1 status ok=0 c
	shift
	"$bin" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
	status=$?
	[ $status -eq 0 ] && [ ! -s "$tmp/err" ] &&
		grep -q '^usage: ktls-attest ' "$tmp/out" || ok=1
	for c in show monitor pass fail revoke reattest help; do
		grep -q "^  $c " "$tmp/out" || ok=1
	done
	grep -q '^  STATE: armed, pending, passed, reattesting, revoked, failed$' \
		"$tmp/out" || ok=1
	grep -q '^Exit status: 0 success, 1 failure, 2 usage error.$' \
		"$tmp/out" || ok=1
	[ $ok -eq 0 ] || { echo "# exit $status"; sed 's/^/#   /' "$tmp/err"; }
	ktap_result $ok "$bin $*: help"
}

# nomodule_case BIN ARGS...: exit 1, one line saying the module is missing
nomodule_case()
{
	local bin=$1 status
	shift
	if [ -e /sys/module/ktls_attest ]; then
		ktap_result 4 "$bin $*: without the module (it is loaded here)"
		return
	fi
	"$bin" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
	status=$?
	if [ $status -eq 1 ] && [ ! -s "$tmp/out" ] &&
	   [ "$(wc -l < "$tmp/err")" -eq 1 ] &&
	   grep -q 'no "ktls_attest" netlink family: is the module ktls_attest loaded?$' \
		"$tmp/err"; then
		ktap_result 0 "$bin $*: without the module"
	else
		echo "# exit $status, stderr:"
		sed 's/^/#   /' "$tmp/err"
		ktap_result 1 "$bin $*: without the module"
	fi
}

cases()
{
	local b=$1

	usage_case "$b" 'unknown option "-x"' -x
	usage_case "$b" 'unknown option "--bogus"' --bogus show
	usage_case "$b" 'unknown command "sho"' sho
	usage_case "$b" 'unknown command "Show"' Show
	usage_case "$b" 'unknown command "list"' -j list
	usage_case "$b" 'unknown keyword "bogus"' show bogus 1
	usage_case "$b" 'state: needs a value' show state
	usage_case "$b" 'unknown state "Pending" (one of: armed, pending' show state Pending
	usage_case "$b" 'unknown reason "agent"' show reason agent
	usage_case "$b" 'unknown role "mutual"' show role mutual
	usage_case "$b" 'cookie: "0" is not a socket cookie' show cookie 0
	usage_case "$b" 'cookie: "0x10" is not a socket cookie' show cookie 0x10
	usage_case "$b" 'cookie: given twice' show cookie 1 cookie 2
	usage_case "$b" 'sport: "70000" is not a port' show sport 70000
	usage_case "$b" 'src: "host" is not an IPv4 or IPv6 address' show src host
	usage_case "$b" 'options go before the command' show -j
	usage_case "$b" 'role: a state change event carries only cookie, state and reason' monitor role attester
	usage_case "$b" 'unknown keyword "x"' monitor x
	usage_case "$b" 'pass: which socket?' pass
	usage_case "$b" 'pass: "abc" is not a socket cookie' pass abc
	usage_case "$b" 'fail: round: "0" is not a round number' fail 1 round 0
	usage_case "$b" 'pass: round: needs a value' pass 1 round
	usage_case "$b" 'pass: unexpected "b" (quote a TEXT' pass 1 a b
	usage_case "$b" 'fail: TEXT is 128 bytes long, more than 127' fail 1 "$long_text"
	usage_case "$b" 'revoke: unexpected "2"' revoke 1 round 2
	usage_case "$b" 'reattest: which socket?' reattest
	usage_case "$b" 'reattest: "-1" is not a socket cookie' reattest -1
	usage_case "$b" 'reattest: unexpected "2"' reattest 1 2
	usage_case "$b" 'help: takes no arguments' help show
	help_case "$b" help
	help_case "$b" -h
	help_case "$b" --help show
	nomodule_case "$b"
	nomodule_case "$b" -j show state passed
	nomodule_case "$b" monitor
	nomodule_case "$b" pass 1 ok
	nomodule_case "$b" revoke 1
	nomodule_case "$b" reattest 1

	"$b" help > /dev/full 2> "$tmp/err"
	[ $? -eq 1 ] && grep -q 'cannot write the output' "$tmp/err"
	ktap_result $? "$b help > /dev/full: a write error fails"
}

ktap_header
ktap_plan $((2 * 39))
for b in "${BINS[@]}"; do
	if [ -x "$b" ]; then
		cases "$b"
	else
		echo "# $b is not built"
		for _ in $(seq 39); do ktap_result 1 "$b is built"; done
	fi
done
ktap_exit
