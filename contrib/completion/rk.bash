# bash completion for rk(1): commands, rk think's options, profiles,
# protocols, and trace ids.  Installed as
# $(datadir)/bash-completion/completions/rk by make install.

_rk_names() {	# protocol | profile
	rk-parse -l 2>/dev/null | while read -r name kind _; do
		[ "$kind" = "$1" ] && printf '%s\n' "$name"
	done
}

_rk_trace_ids() {
	rk-trace ls -n 50 2>/dev/null | while read -r id _; do
		[ "$id" != ID ] && printf '%s\n' "$id"
	done
}

_rk() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmds='think config models list trace help search fuse tokens
	    analyze-tokens llm prompt parse'
	local think_opts='-p --profile -t --protocol -f --format -d --db
	    -i --index -a --attach -c --continue --cont --mock --provider -m --model --base-url --budget
	    --no-cache --stream --timing --performance-mode -h --help'

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$cmds --version" -- "$cur"))
		return
	fi
	case ${COMP_WORDS[1]} in
	think)
		case $prev in
		-p|--profile) COMPREPLY=($(compgen -W "$(_rk_names profile)" -- "$cur")) ;;
		-t|--protocol) COMPREPLY=($(compgen -W "$(_rk_names protocol)" -- "$cur")) ;;
		-f|--format) COMPREPLY=($(compgen -W 'text json' -- "$cur")) ;;
		--provider) COMPREPLY=($(compgen -W 'openai anthropic mock' -- "$cur")) ;;
		-d|--db|-i|--index|-a|--attach) COMPREPLY=($(compgen -f -- "$cur")) ;;
		--cont) COMPREPLY=($(compgen -W "$(_rk_trace_ids)" -- "$cur")) ;;
		-m|--model|--base-url|--budget) ;;
		*) [[ $cur == -* ]] &&
			COMPREPLY=($(compgen -W "$think_opts" -- "$cur")) ;;
		esac ;;
	trace)
		case $prev in
		trace) COMPREPLY=($(compgen -W 'store ls show last search export import merge done rm prune' -- "$cur")) ;;
		show|rm) COMPREPLY=($(compgen -W "$(_rk_trace_ids)" -- "$cur")) ;;
		esac ;;
	esac
}

complete -F _rk rk
