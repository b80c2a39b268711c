#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install with PREFIX and DESTDIR installs the agent as it should:
# $(SBINDIR)/ktls-attestd, ktls-attestd(8), ktls-attestd.conf(5) and the
# example configuration and policy as documentation, each file as in the
# tree with its mode, nothing outside PREFIX (no /etc: an operator's
# files there are never touched); every installed man page reads with
# man -l; the installed daemon checks the installed examples; install-agent
# alone takes SBINDIR and MANDIR; make uninstall removes every file.

. "$(dirname "$0")/../lib/ktap.sh"
cd "$(dirname "$0")/../.." || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
prefix=/opt/katt
doc=$prefix/share/doc/ktls-attestd/examples

ktap_header
ktap_plan 7

# FILE SOURCE MODE, under $dest$prefix
want=(
	"sbin/ktls-attestd build/ktls-attestd 755"
	"share/man/man8/ktls-attestd.8 Documentation/man/ktls-attestd.8 644"
	"share/man/man5/ktls-attestd.conf.5 Documentation/man/ktls-attestd.conf.5 644"
	"share/doc/ktls-attestd/examples/config.json agent/examples/config.json 644"
	"share/doc/ktls-attestd/examples/policy.json agent/examples/policy.json 644"
)

# check_files ROOT: each file of want[] under ROOT, as in the tree
check_files()
{
	local root=$1 w f src mode status=0
	for w in "${want[@]}"; do
		read -r f src mode <<<"$w"
		if [ ! -f "$root/$f" ]; then
			echo "# missing $root/$f"
			status=1
		elif ! cmp -s "$src" "$root/$f"; then
			echo "# $root/$f differs from $src"
			status=1
		elif [ "$(stat -c %a "$root/$f")" != "$mode" ]; then
			echo "# $root/$f: mode $(stat -c %a "$root/$f"), not $mode"
			status=1
		fi
	done
	return $status
}

make -s install PREFIX=$prefix DESTDIR="$dest" >"$tmp/install.log" 2>&1
status=$?
check_files "$dest$prefix" || status=1
[ $status -eq 0 ] || sed 's/^/# /' "$tmp/install.log"
ktap_result $status "make install PREFIX=$prefix DESTDIR=... installs the agent, its man pages and examples"

other=$(cd "$dest" && find . -mindepth 1 -not -path ".$prefix" \
	-not -path ".$prefix/*" -not -path ./opt)
[ -z "$other" ]
status=$?
[ $status -eq 0 ] || echo "# outside $prefix: $other"
ktap_result $status "nothing is installed outside PREFIX (no /etc)"

status=0
n=0
for m in $(find "$dest$prefix/share/man" -type f); do
	n=$((n + 1))
	out=$(MANWIDTH=80 man -l "$m" 2>"$tmp/man.err")
	if [ -s "$tmp/man.err" ] || ! grep -q '^NAME' <<<"$out"; then
		echo "# man -l $m:"
		sed 's/^/#   /' "$tmp/man.err"
		status=1
	fi
done
# ktls-attest.8, ktls-attestd.8, ktls-attestd.conf.5 and the three of man1
[ $n -ge 6 ] || { echo "# $n man pages installed"; status=1; }
ktap_result $status "every installed man page reads with man -l ($n)"

out=$(MANWIDTH=80 man -l "$dest$prefix/share/man/man8/ktls-attestd.8" 2>/dev/null)
grep -q 'ktls-attestd - the attestation agent' <<<"$out" &&
grep -q 'ktls-attestd.conf(5)' <<<"$out" &&
MANWIDTH=80 man -l "$dest$prefix/share/man/man5/ktls-attestd.conf.5" 2>/dev/null |
	grep -q 'relying_party'
ktap_result $? "the installed ktls-attestd(8) and ktls-attestd.conf(5) are the agent's"

out=$("$dest$prefix/sbin/ktls-attestd" --check -c "$dest$doc/config.json" 2>&1)
status=$?
[ $status -eq 0 ] && grep -q "^policy $dest$doc/policy.json$" <<<"$out"
status=$?
[ $status -eq 0 ] || sed 's/^/# /' <<<"$out"
ktap_result $status "the installed ktls-attestd --check reads the installed examples"

# install-agent alone, with the directories of a distribution package
make -s install-agent DESTDIR="$tmp/pkg" PREFIX=/usr SBINDIR=/usr/sbin \
	MANDIR=/usr/share/man >"$tmp/pkg.log" 2>&1 &&
check_files "$tmp/pkg/usr" &&
[ "$(cd "$tmp/pkg" && find . -type f | wc -l)" -eq ${#want[@]} ] &&
make -s uninstall-agent DESTDIR="$tmp/pkg" PREFIX=/usr SBINDIR=/usr/sbin \
	MANDIR=/usr/share/man >>"$tmp/pkg.log" 2>&1 &&
[ -z "$(find "$tmp/pkg" -type f -o -type l)" ] &&
[ ! -e "$tmp/pkg/usr/share/doc/ktls-attestd" ]
status=$?
[ $status -eq 0 ] || sed 's/^/# /' "$tmp/pkg.log"
ktap_result $status "install-agent and uninstall-agent alone (PREFIX=/usr, SBINDIR, MANDIR)"

make -s uninstall PREFIX=$prefix DESTDIR="$dest" >"$tmp/uninstall.log" 2>&1
status=$?
left=$(find "$dest" -type f -o -type l)
[ $status -eq 0 ] && [ -z "$left" ] &&
[ ! -e "$dest$prefix/share/doc/ktls-attestd" ]
status=$?
[ $status -eq 0 ] || { echo "# left: $left"; sed 's/^/# /' "$tmp/uninstall.log"; }
ktap_result $status "make uninstall removes every installed file"

ktap_exit
