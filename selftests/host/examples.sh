#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The example programs on the build host, where no kTLS is needed: their
# man pages render without warnings and name exactly the options --help
# names; usage errors exit 2 with a message; ktls-attest-certs makes
# certificates that verify and refuses to overwrite them; a userspace-mode
# session over loopback (also with a client certificate) answers every
# command byte for byte, --stats writes JSON with every timing, and a
# server certificate from another CA is refused clearly.

. "$(dirname "$0")/../lib/ktap.sh"
cd "$(dirname "$0")/../.." || exit 1

srv=build/tools/ktls-attest-server
cli=build/tools/ktls-attest-client
certs=tools/examples/ktls-attest-certs
tmp=$(mktemp -d)
pids=()
cleanup()
{
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

ktap_header
ktap_plan 14

status=0
for m in Documentation/man/ktls-attest-server.1 Documentation/man/ktls-attest-client.1 \
	 Documentation/man/ktls-attest-certs.1; do
	w=$(groff -man -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$w" ] || { echo "# $m: $w"; status=1; }
done
ktap_result $status "the man pages render without warnings"

# the long options of --help and of the man page, sorted
opts_help() { "$@" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u; }
opts_man() { sed 's/\\-/-/g' "$1" | grep -oE -- '--[a-z][a-z-]*' | sort -u; }
for p in server client; do
	d=$(diff <(opts_help "build/tools/ktls-attest-$p") \
		<(opts_man "Documentation/man/ktls-attest-$p.1"))
	[ -z "$d" ] || echo "# --help vs man page: $d"
	[ -z "$d" ]
	ktap_result $? "ktls-attest-$p: the man page has exactly the options of --help"
done
d=$(diff <(opts_help "$certs") <(opts_man Documentation/man/ktls-attest-certs.1))
[ -z "$d" ] || echo "# --help vs man page: $d"
[ -z "$d" ]
ktap_result $? "ktls-attest-certs: the man page has exactly the options of --help"

usage_case()
{
	local want=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 2 ] || ! grep -q -- "$want" <<<"$out"; then
		echo "# $*: exit $rc: $out"
		return 1
	fi
}
usage_case "give \[ADDRESS\] PORT" $srv -c x &&
usage_case "--cert is required" $srv 4433 &&
usage_case 'unknown mode "kernel"' $srv -c x -m kernel 4433 &&
usage_case 'unknown role "judge"' $cli -r judge h 1 &&
usage_case "give HOST PORT" $cli localhost &&
usage_case "round-timeout" $cli -t 50 h 1 &&
usage_case "unknown option" $certs --bogus "$tmp/x"
ktap_result $? "usage errors: exit status 2 and what is wrong"

$certs --ip 10.99.0.2 "$tmp/c" >/dev/null &&
openssl verify -CAfile "$tmp/c/ca.pem" "$tmp/c/server.pem" "$tmp/c/client.pem" >/dev/null &&
openssl x509 -in "$tmp/c/server.pem" -noout -ext subjectAltName | grep -q "IP Address:10.99.0.2" &&
! $certs "$tmp/c" 2>/dev/null && $certs --force "$tmp/c" >/dev/null &&
$certs --server-name other.example "$tmp/other" >/dev/null
ktap_result $? "ktls-attest-certs: a CA, server and client certificate that verify; no overwriting"

port=$((20000 + RANDOM % 20000))
start_server()
{
	"$srv" --once -m userspace -c "$tmp/c/server.pem" -k "$tmp/c/server.key" \
		"$@" 127.0.0.1 "$port" 2>"$tmp/srv.err" &
	pids+=($!)
	for _ in $(seq 100); do
		grep -q listening "$tmp/srv.err" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

start_server
out=$($cli -m userspace --ca "$tmp/c/ca.pem" 127.0.0.1 "$port" ping "echo a  b" \
	"upload 3M" "download 2000001" status help quit 2>"$tmp/cli.err")
rc=$?
want=$'pong\na  b\nok 3145728\ndata 2000001\nuserspace: no attestation\ncommands: ping, echo TEXT, status, time, upload N, download N, help, quit\nbye'
[ $rc -eq 0 ] && [ "$out" = "$want" ] && wait "${pids[-1]}"
status=$?
[ $status -eq 0 ] || { echo "# exit $rc: $out"; sed 's/^/# /' "$tmp/cli.err" "$tmp/srv.err"; }
ktap_result $status "userspace mode: every command answered byte for byte, both exit 0"

start_server --client-ca "$tmp/c/ca.pem" -v
out=$(printf 'ping\n\ntime\n' | $cli -m userspace --ca "$tmp/c/ca.pem" -c "$tmp/c/client.pem" \
	-k "$tmp/c/client.key" 127.0.0.1 "$port" 2>"$tmp/cli.err")
rc=$?
wait "${pids[-1]}" && [ $rc -eq 0 ] && [ "$(head -1 <<<"$out")" = pong ] &&
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' <<<"$(tail -1 <<<"$out")" &&
grep -q "peer certificate: ktls-attest-client (verified)" "$tmp/srv.err"
status=$?
[ $status -eq 0 ] || { echo "# exit $rc: $out"; sed 's/^/# /' "$tmp/cli.err" "$tmp/srv.err"; }
ktap_result $status "mutual TLS from standard input: the server verified the client"

start_server --client-ca "$tmp/c/ca.pem"
$cli -m userspace --ca "$tmp/c/ca.pem" 127.0.0.1 "$port" ping >/dev/null 2>"$tmp/cli.err"
rc=$?
wait "${pids[-1]}"
[ $rc -eq 1 ] && grep -q "TLS handshake failed" "$tmp/srv.err"
status=$?
[ $status -eq 0 ] || sed 's/^/# /' "$tmp/cli.err" "$tmp/srv.err"
ktap_result $status "a server that asks for a client certificate refuses a client without one"

start_server
$cli -m userspace --ca "$tmp/other/ca.pem" 127.0.0.1 "$port" ping >/dev/null 2>"$tmp/cli.err"
rc=$?
wait "${pids[-1]}"
[ $rc -eq 1 ] && grep -q "the server's certificate: unable to get local issuer certificate" "$tmp/cli.err"
status=$?
[ $status -eq 0 ] || sed 's/^/# /' "$tmp/cli.err"
ktap_result $status "a server certificate from another CA: refused, with the reason"

start_server
$cli -m userspace --ca "$tmp/c/ca.pem" --stats "$tmp/stats.json" --repeat 3 \
	127.0.0.1 "$port" ping "download 100K" >/dev/null 2>"$tmp/cli.err"
rc=$?
wait "${pids[-1]}"
[ $rc -eq 0 ] && python3 - "$tmp/stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["mode"] == "userspace", s
for k in ("start_us", "connect_us", "handshake_us", "move_us", "verdict_us", "first_byte_us"):
    assert isinstance(s[k], int) and s[k] >= 0, (k, s)
assert [c["cmd"] for c in s["commands"]] == ["ping", "download 100K"] * 3, s
assert all(c["us"] > 0 for c in s["commands"]), s
PY
ktap_result $? "--stats: JSON with every timing and each command"

$cli -m userspace --ca "$tmp/c/ca.pem" 127.0.0.1 "$port" ping >/dev/null 2>"$tmp/cli.err"
[ $? -eq 1 ] && grep -q "cannot connect to 127.0.0.1 port $port" "$tmp/cli.err"
ktap_result $? "no server: exit status 1, cannot connect"

# neither end asks for attestation: plain OpenSSL peers at either end
mkfifo "$tmp/s_in"
openssl s_server -4 -accept "$port" -naccept 1 -quiet -cert "$tmp/c/server.pem" \
	-key "$tmp/c/server.key" < "$tmp/s_in" > "$tmp/s_out" 2>"$tmp/s_err" &
pids+=($!)
exec 4> "$tmp/s_in"
for _ in $(seq 100); do
	ss -Htln "sport = :$port" 2>/dev/null | grep -q . && break
	sleep 0.05
done
$cli -m userspace --ca "$tmp/c/ca.pem" 127.0.0.1 "$port" ping > "$tmp/cli.out" 2>"$tmp/cli.err" &
cpid=$!
for _ in $(seq 200); do
	grep -q ping "$tmp/s_out" 2>/dev/null && break
	sleep 0.05
done
echo pong >&4
wait $cpid
rc=$?
exec 4>&-
wait "${pids[-1]}"
[ $rc -eq 0 ] && [ "$(cat "$tmp/cli.out")" = pong ] && [ "$(cat "$tmp/s_out")" = ping ]
status=$?
[ $status -eq 0 ] || { echo "# client exit $rc"; sed 's/^/# /' "$tmp/cli.err" "$tmp/s_err"; }
ktap_result $status "userspace client and openssl s_server: the command and its answer"

start_server
out=$( (echo ping; sleep 1; echo quit; sleep 1) | openssl s_client -quiet \
	-connect 127.0.0.1:"$port" -CAfile "$tmp/c/ca.pem" 2>/dev/null)
wait "${pids[-1]}"
status=$?
[ $status -eq 0 ] && [ "$out" = $'pong\nbye' ]
status=$?
[ $status -eq 0 ] || { echo "# s_client got: $out"; sed 's/^/# /' "$tmp/srv.err"; }
ktap_result $status "userspace server and openssl s_client: answers, clean end"

ktap_exit
