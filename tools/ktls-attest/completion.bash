# SPDX-License-Identifier: GPL-2.0
# bash completion for ktls-attest(8): commands, options, FILTER keywords
# and their names, and the cookies of the armed sockets there are (asked of
# ktls-attest itself: the sockets a verdict or re-attestation fits).

# _ktls_attest_cookies TOOL [FILTER...]: cookies of the sockets that match
_ktls_attest_cookies()
{
	local tool=$1
	shift
	"$tool" show "$@" 2>/dev/null | sed -n 's/^cookie: //p'
}

_ktls_attest()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local tool=${COMP_WORDS[0]} cmd= i n words
	local states='armed pending passed reattesting revoked failed'
	local reasons='none verdict operator timeout protocol bypass'
	local roles='attester relying-party'

	COMPREPLY=()
	# the command: the first word after the options
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			words='-j -p -h --json --pretty --help'
		else
			words='show monitor pass fail revoke reattest help'
		fi
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return
	fi
	# how many words after the command come before the current one
	n=$((COMP_CWORD - i - 1))

	case $cmd in
	show | monitor)
		case $prev in
		state) words=$states ;;
		reason) words=$reasons ;;
		role) words=$roles ;;
		cookie) words=$(_ktls_attest_cookies "$tool") ;;
		src | dst | sport | dport) return ;;
		*)
			# keywords go at even positions: KEYWORD VALUE ...
			((n % 2 == 0)) || return
			if [[ $cmd == show ]]; then
				words='cookie state reason role src dst sport dport'
			else
				words='cookie state reason'
			fi
			;;
		esac
		;;
	pass | fail)
		if ((n == 0)); then
			words=$(_ktls_attest_cookies "$tool" state pending \
				state reattesting)
		elif ((n == 1)); then
			words=round
		else
			return
		fi
		;;
	revoke)
		((n == 0)) || return
		words=$(_ktls_attest_cookies "$tool" state armed state pending \
			state passed state reattesting)
		;;
	reattest)
		((n == 0)) || return
		words=$(_ktls_attest_cookies "$tool" state passed)
		;;
	*)
		return
		;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}

complete -F _ktls_attest ktls-attest
