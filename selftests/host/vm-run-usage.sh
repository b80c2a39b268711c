#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/run rejects bad command lines with exit status 2 and one line
# that says what is wrong, before it starts anything.

. "$(dirname "$0")/../lib/ktap.sh"
cd "$(dirname "$0")/../.." || exit 1

# usage_case NAME PATTERN ARGS...: exit 2, one stderr line matching PATTERN
usage_case()
{
	local name=$1 pattern=$2 err status
	shift 2
	err=$(tools/vm/run "$@" 2>&1 >/dev/null </dev/null)
	status=$?
	if [ $status -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] &&
	   printf '%s\n' "$err" | grep -q -- "$pattern"; then
		ktap_result 0 "$name"
	else
		echo "# exit $status, stderr: $err"
		ktap_result 1 "$name"
	fi
}

ktap_header
ktap_plan 9

usage_case "unknown option" "unknown option --bogus" --bogus -- true
usage_case "missing command" "missing COMMAND"
usage_case "bad timeout" "bad timeout" -t abc -- true
usage_case "bad -e" "VAR=VALUE" -e novalue -- true
usage_case "option without its argument" "" -m
usage_case "--cmdline without its argument" "needs an argument" --cmdline
usage_case "empty --cmdline" "takes kernel parameters" --cmdline= -- true

tools/vm/run --help 2>/dev/null | grep -q '^usage: tools/vm/run'
ktap_result $? "--help prints the usage"

tools/vm/run --help 2>/dev/null | grep -q -- '--cmdline ARGS'
ktap_result $? "--help documents --cmdline"

ktap_exit
