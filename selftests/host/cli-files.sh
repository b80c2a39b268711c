#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What ships with ktls-attest besides the binary: "make install" puts the
# tool, its man page and its bash completion where PREFIX and DESTDIR say
# (and "make uninstall" takes them away); the man page is clean roff that
# documents every command, FILTER keyword and JSON key; the completion
# completes commands, keywords, the names the tool itself knows (from the
# netlink specification) and cookies asked of the tool.

. "$(dirname "$0")/../lib/ktap.sh"
cd "$(dirname "$0")/../.." || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
man=Documentation/man/ktls-attest.8
comp=tools/ktls-attest/completion.bash
tool=build/ktls-attest

ktap_header
ktap_plan 18

# --- make install / uninstall ---------------------------------------------
make -s install DESTDIR="$tmp/d" PREFIX=/usr > "$tmp/log" 2>&1
status=$?
ok=0
[ $status -eq 0 ] || ok=1
for f in usr/bin/ktls-attest:755 usr/share/man/man8/ktls-attest.8:644 \
	 usr/share/bash-completion/completions/ktls-attest:644; do
	path=$tmp/d/${f%%:*}
	[ "$(stat -c %a "$path" 2>/dev/null)" = "${f#*:}" ] ||
		{ echo "# $path: not there with mode ${f#*:}"; ok=1; }
done
"$tmp/d/usr/bin/ktls-attest" help > /dev/null || ok=1
cmp -s "$man" "$tmp/d/usr/share/man/man8/ktls-attest.8" || ok=1
[ $ok -eq 0 ] || sed 's/^/# /' "$tmp/log"
ktap_result $ok "make install DESTDIR PREFIX=/usr: binary, man page, completion"

make -s uninstall DESTDIR="$tmp/d" PREFIX=/usr > "$tmp/log" 2>&1 &&
	[ -z "$(find "$tmp/d" -type f)" ]
ktap_result $? "make uninstall removes them"

make -s install DESTDIR="$tmp/l" > /dev/null 2>&1 &&
	[ -x "$tmp/l/usr/local/bin/ktls-attest" ] &&
	[ -f "$tmp/l/usr/local/share/man/man8/ktls-attest.8" ] &&
	[ -f "$tmp/l/usr/local/share/bash-completion/completions/ktls-attest" ]
ktap_result $? "PREFIX is /usr/local by default"

# --- the man page ---------------------------------------------------------
out=$(groff -man -ww -z -Tutf8 "$man" 2>&1)
status=$?
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
[ $status -eq 0 ] && [ -z "$out" ]
ktap_result $? "man page: groff -man -ww finds nothing to warn about"

text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$man" 2>/dev/null)
missing=
for w in show monitor pass fail revoke reattest help; do
	printf '%s\n' "$text" | grep -qE "^       $w( |$)" || missing="$missing $w"
done
[ -z "$missing" ] || echo "# not documented:$missing"
[ -z "$missing" ]
ktap_result $? "man page: every command"

missing=
for w in cookie state reason role src dst sport dport; do
	printf '%s\n' "$text" | grep -qE "(^       |, )$w [A-Z]+" || missing="$missing $w"
done
[ -z "$missing" ] || echo "# not documented:$missing"
[ -z "$missing" ]
ktap_result $? "man page: every FILTER keyword"

missing=
for k in cookie role state reason reason_text timeout_ms policy_flags round \
	 family saddr daddr sport dport armed_time pass_time tx_bytes \
	 rx_bytes tx_held rx_held time; do
	printf '%s\n' "$text" | sed -n '/^JSON/,/^[A-Z]/p' |
		grep -qw -- "$k" || missing="$missing $k"
done
[ -z "$missing" ] || echo "# not documented:$missing"
[ -z "$missing" ]
ktap_result $? "man page: every JSON key"

# the names the tool knows (generated from the spec) are the man page's
ok=0
for what in STATE REASON ROLE; do
	for n in $("$tool" help | sed -n "s/^  $what: //p" | tr -d ,); do
		printf '%s\n' "$text" | grep -qw -- "$n" ||
			{ echo "# $what $n is not in the man page"; ok=1; }
	done
done
ktap_result $ok "man page: every state, reason and role the tool knows"

printf '%s\n' "$text" | grep -q '^EXIT STATUS' &&
	printf '%s\n' "$text" | grep -qE '^       2 +Usage error'
ktap_result $? "man page: exit statuses"

# --- bash completion --------------------------------------------------------
bash -n "$comp"
ktap_result $? "completion: bash -n"

# A stand-in for the tool that lists two sockets and notes its arguments.
cat > "$tmp/fake-tool" <<FAKE
#!/bin/sh
echo "\$@" > "$tmp/args"
printf 'cookie: 11\n  state: pending\n\ncookie: 12\n  state: passed\n'
FAKE
chmod +x "$tmp/fake-tool"

# complete LINE: what the completion offers at the end of LINE, one line
complete_line()
{
	# shellcheck disable=SC1090
	bash -c '. "$1"; line=$2; read -ra COMP_WORDS <<< "$line"
		COMP_WORDS[0]=$3
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_ktls_attest; echo "${COMPREPLY[*]}"' _ "$comp" "$1" "$tmp/fake-tool"
}

# expect_completion LINE WANT
expect_completion()
{
	local got
	got=$(complete_line "$1")
	[ "$got" = "$2" ] || echo "# \"$1\": got \"$got\", want \"$2\""
	ktap_result $([ "$got" = "$2" ]; echo $?) "completion: \"$1\""
}

expect_completion "ktls-attest " "show monitor pass fail revoke reattest help"
expect_completion "ktls-attest -j r" "revoke reattest"
expect_completion "ktls-attest --p" "--pretty"
expect_completion "ktls-attest show state pending " \
	"cookie state reason role src dst sport dport"
expect_completion "ktls-attest monitor " "cookie state reason"
expect_completion "ktls-attest pass 11 " "round"

rm -f "$tmp/args"
got=$(complete_line "ktls-attest pass ")
[ "$got" = "11 12" ] &&
	[ "$(cat "$tmp/args" 2>/dev/null)" = "show state pending state reattesting" ]
ktap_result $? "completion: pass offers the cookies of sockets in a round"

# the names it offers are the tool's own
ok=0
for pair in state:STATE reason:REASON role:ROLE; do
	want=$("$tool" help | sed -n "s/^  ${pair#*:}: //p" | tr -d ,)
	got=$(complete_line "ktls-attest show ${pair%%:*} ")
	[ "$got" = "$want" ] ||
		{ echo "# ${pair%%:*}: completion \"$got\", tool \"$want\""; ok=1; }
done
ktap_result $ok "completion: state, reason and role names are the tool's"

ktap_exit
