#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ktls-attestd's command line on the host (which has no module): --help
# and ktls-attestd(8) name exactly the same options, and the man pages
# render without warnings; usage errors of the daemon and of enroll exit
# 2 with one line saying what is wrong and the usage; --check prints what
# the example files say, exit 0, and refuses bad files with the field
# named, exit 1; started without the module, as root or not, it says the
# module is not loaded, exit 1.  Each case runs the plain build and the
# one with AddressSanitizer and UBSan (build/asan/), whose reports (leaks
# too) would show on stderr and in the exit status.

. "$(dirname "$0")/../lib/ktap.sh"
cd "$(dirname "$0")/../.." || exit 1

BINS=(build/ktls-attestd build/asan/ktls-attestd)
MAN8=Documentation/man/ktls-attestd.8
MAN5=Documentation/man/ktls-attestd.conf.5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# readable by an unprivileged user too (the case without root)
chmod 755 "$tmp"

# show_output: what a failed case printed
show_output()
{
	echo "# exit $1, stdout and stderr:"
	sed 's/^/#   /' "$tmp/out" "$tmp/err"
}

# usage_case BIN PREFIX PATTERN ARGS...: exit 2, nothing on stdout; on
# stderr "PREFIX: ..." matching PATTERN, then the usage ("usage: PREFIX")
usage_case()
{
	local bin=$1 prefix=$2 pattern=$3 status
	shift 3
	"$bin" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
	status=$?
	if [ $status -eq 2 ] && [ ! -s "$tmp/out" ] &&
	   head -n 1 "$tmp/err" | grep -q -- "^$prefix: .*$pattern" &&
	   sed -n 2p "$tmp/err" | grep -q "^usage: $prefix " &&
	   [ "$(grep -c . "$tmp/err")" -le 3 ]; then
		ktap_result 0 "$bin $*: usage error"
	else
		show_output $status
		ktap_result 1 "$bin $*: usage error"
	fi
}

# help_case BIN ARGS...: exit 0, the help on stdout, nothing on stderr
help_case()
{
	local bin=$1 status
	shift
	"$bin" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
	status=$?
	if [ $status -eq 0 ] && [ ! -s "$tmp/err" ] &&
	   grep -q '^usage: ktls-attestd ' "$tmp/out" &&
	   grep -q '^Exit status: 0 success, 1 failure, 2 usage error.$' \
		"$tmp/out"; then
		ktap_result 0 "$bin $*: help"
	else
		show_output $status
		ktap_result 1 "$bin $*: help"
	fi
}

# check_ok BIN: --check on the example files prints exactly what they say
check_ok()
{
	local bin=$1 status ex=$PWD/agent/examples
	"$bin" --check -c agent/examples/config.json > "$tmp/out" 2> "$tmp/err"
	status=$?
	cat > "$tmp/want" <<-WANT
	config agent/examples/config.json
	  tcti device:/dev/tpmrm0
	  state_dir /var/lib/ktls-attestd
	  policy $ex/policy.json
	  ak_type ecc
	  endorsement_auth (empty)
	  event log /sys/kernel/security/tpm0/binary_bios_measurements (tcg)
	  log stderr
	policy $ex/policy.json
	  attester: to verified peers; quotes sha256:0,1,7 by default, at most sha256:0-23
	  relying party: asks for sha256:0,1,7; 2 AK pins, reference values for 2 PCRs
	    AK name 000b6f1d2a8e4c9b3f5a7d0e2c4b6a8f9e1d3c5b7a9f0e2d4c6b8a0f1e3d5c7b9a1c
	    AK spki_sha256 3c1f7a9e5d2b8c4a6f0e1d3b5a7c9e2f4d6b8a0c1e3f5a7b9d2c4e6f8a0b1c3d
	    PCR sha256:0 is a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f
	    PCR sha256:0 or 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
	    PCR sha256:7 is 5d4c3b2a19081726354453627180909fa1b2c3d4e5f60718293a4b5c6d7e8f90
	WANT
	if [ $status -eq 0 ] && [ ! -s "$tmp/err" ] &&
	   diff -u "$tmp/want" "$tmp/out" > "$tmp/diff"; then
		ktap_result 0 "$bin --check: the example files, as they say"
	else
		sed 's/^/# /' "$tmp/diff"
		show_output $status
		ktap_result 1 "$bin --check: the example files, as they say"
	fi
}

# check_bad BIN CONFIG POLICY PATTERN: --check exits 1, nothing on
# stdout, one error line matching PATTERN (the file and the field)
check_bad()
{
	local bin=$1 config=$2 policy=$3 pattern=$4 status
	mkdir -p "$tmp/bad"
	printf '%s\n' "$config" > "$tmp/bad/config.json"
	printf '%s\n' "$policy" > "$tmp/bad/policy.json"
	"$bin" --check -c "$tmp/bad/config.json" > "$tmp/out" 2> "$tmp/err"
	status=$?
	if [ $status -eq 1 ] && [ ! -s "$tmp/out" ] &&
	   [ "$(wc -l < "$tmp/err")" -eq 1 ] &&
	   grep -q -- "^ktls-attestd: error: $tmp/bad/$pattern" "$tmp/err"; then
		ktap_result 0 "$bin --check: refuses $pattern"
	else
		show_output $status
		ktap_result 1 "$bin --check: refuses $pattern"
	fi
}

# nomodule_case BIN WHO [RUNAS...]: exit 1, says the module is not loaded
nomodule_case()
{
	local bin=$1 status name="$1 without the module (as $2)"
	shift 2
	if [ -e /sys/module/ktls_attest ]; then
		ktap_result 4 "$name: the module is loaded here"
		return
	fi
	printf '{"state_dir": "%s/state", "policy": "policy.json"}\n' "$tmp" \
		> "$tmp/config.json"
	echo '{}' > "$tmp/policy.json"
	"$@" "$bin" -c "$tmp/config.json" > "$tmp/out" 2> "$tmp/err" < /dev/null
	status=$?
	if [ $status -eq 1 ] && [ ! -s "$tmp/out" ] &&
	   grep -q '^ktls-attestd: error: the kernel has no ktls_attest netlink family: is the module loaded? (modprobe tls; insmod ktls_attest.ko)$' \
		"$tmp/err" &&
	   tail -n 1 "$tmp/err" | grep -q 'exit 1$' &&
	   [ ! -e "$tmp/state" ]; then
		ktap_result 0 "$name"
	else
		show_output $status
		ktap_result 1 "$name"
	fi
}

NCASES=32
cases()
{
	local b=$1 d=ktls-attestd e="ktls-attestd enroll"

	help_case "$b" --help
	help_case "$b" -h
	help_case "$b" -v --help
	help_case "$b" enroll --help
	help_case "$b" enroll -h
	usage_case "$b" $d 'unknown option -x' -x
	usage_case "$b" $d 'unknown option --bogus' --bogus
	usage_case "$b" $d 'unknown option --bogus=1' --bogus=1 --check
	usage_case "$b" $d '-c needs an argument' -c
	usage_case "$b" $d '--config needs an argument' --check --config
	usage_case "$b" $d '--check=yes takes no argument' --check=yes
	usage_case "$b" $d '--verbose=2 takes no argument' --verbose=2
	usage_case "$b" $d 'unexpected argument start' start
	usage_case "$b" $d 'unexpected argument extra' -c x.json extra
	usage_case "$b" $d 'enroll: give it first, before any option' -v enroll
	usage_case "$b" "$e" 'unknown option --bogus' enroll --bogus
	usage_case "$b" "$e" 'unknown option -v' enroll -v
	usage_case "$b" "$e" '-o needs an argument' enroll -o
	usage_case "$b" "$e" '--pcrs needs an argument' enroll --pcrs
	usage_case "$b" "$e" '--pcrs sha256:24: not a PCR selection' \
		enroll --pcrs sha256:24
	usage_case "$b" "$e" '--json=1 takes no argument' enroll --json=1
	usage_case "$b" "$e" 'unexpected argument extra' enroll -j extra
	check_ok "$b"
	check_bad "$b" '{"ak_type": "dsa"}' '{}' \
		'config.json: ak_type: "dsa" is not "ecc" or "rsa"'
	check_bad "$b" '{"tcti": 5}' '{}' 'config.json: tcti: is an integer'
	check_bad "$b" '{"polcy": "policy.json"}' '{}' 'config.json: polcy: unknown key'
	check_bad "$b" '{"policy": "policy.json"}' \
		'{"relying_party": {"aks": [{"name": "000b00"}]}}' \
		'policy.json: relying_party.aks\[0\].name: 3 bytes, not 34'
	check_bad "$b" '{"policy": "policy.json"}' \
		'{"attester": {"pcrs": "sha256:0,1,7", "allow_pcrs": "sha256:0"}}' \
		'policy.json: attester.pcrs: PCR sha256:1 is not within attester.allow_pcrs (sha256:0)'
	check_bad "$b" '{"policy": "policy.json"}' \
		'{"attester": {"peers": "verified"}} {}' \
		'policy.json:1:3[0-9]: end of file expected'
	check_bad "$b" '{"policy": "none.json"}' '{}' 'none.json: '
	nomodule_case "$b" "$(id -un)"
	nomodule_case "$b" "uid 65534" setpriv --reuid=65534 --regid=65534 \
		--clear-groups
}

ktap_header
ktap_plan $((4 + 2 * NCASES))

status=0
for m in $MAN8 $MAN5; do
	w=$(groff -man -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$w" ] || { echo "# $m: $w"; status=1; }
done
ktap_result $status "the man pages render without warnings"

# the options of --help and of the man page: long ones, and short ones
# (a short option as "-x" at the start of a help line or an .B/.BR/.BI)
opts_help() { "$@" --help | grep -oE -- '(^|[ ,])--?[a-z][a-z-]*' |
	sed 's/^[ ,]//' | sort -u; }
opts_man() { sed -n '/^\.SH OPTIONS/,/^\.SH SIGNALS/p' "$1" |
	grep -E '^\.(B|BR|BI|TP)' | sed 's/\\-/-/g; s/\\f[RPBI]//g' |
	grep -oE -- '(^|[ ,"])--?[a-z][a-z-]*' | sed 's/^[ ,"]//' | sort -u; }
if [ -x build/ktls-attestd ]; then
	d=$(diff <(opts_help build/ktls-attestd) <(opts_man $MAN8))
	[ -z "$d" ] || echo "# --help vs man page: $d"
	[ -z "$d" ] && [ "$(opts_help build/ktls-attestd | wc -l)" -ge 13 ]
	ktap_result $? "ktls-attestd(8) has exactly the options of --help"
else
	ktap_result 1 "ktls-attestd(8) has exactly the options of --help (not built)"
fi

# the synopsis of the man page is the usage line
syn=$(man -l $MAN8 2>/dev/null | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' |
	sed -n 's/^ *\(ktls-attestd.*\)/\1/p' | tr -s ' ')
use=$(build/ktls-attestd --help 2>/dev/null | sed -n '1,2s/^\(usage:\)\? *//p' |
	tr -s ' ')
[ -n "$syn" ] && [ "$syn" = "$use" ]
status=$?
[ $status -eq 0 ] || echo "# synopsis \"$syn\", usage \"$use\""
ktap_result $status "the man page's synopsis is the usage"

# every key of the example files is in ktls-attestd.conf(5)
status=0
for k in $(grep -ohE '"[a-z_0-9]+":' agent/examples/*.json | tr -d '":' |
	   grep -vE '^[0-9]+$' | sort -u); do
	grep -q "^\.BR $k \|^\.SS $k$" $MAN5 ||
		{ echo "# $k is not in $MAN5"; status=1; }
done
ktap_result $status "ktls-attestd.conf(5) has every key of agent/examples/"

for b in "${BINS[@]}"; do
	if [ -x "$b" ]; then
		cases "$b"
	else
		echo "# $b is not built"
		for _ in $(seq $NCASES); do ktap_result 1 "$b is built"; done
	fi
done
ktap_exit
