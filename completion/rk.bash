# bash completion for rk(1) and the rk-* tools: commands, subcommands,
# options, profiles, protocols and trace ids.  The options are read from
# each tool's --help, so they are always the tool's own.  Installed as
# $(PREFIX)/share/bash-completion/completions/rk by make install.

_rk_names() {	# protocol | profile
	rk-parse -l 2>/dev/null | while read -r name kind _; do
		[ "$kind" = "$1" ] && printf '%s\n' "$name"
	done
}

_rk_trace_ids() {
	rk-trace -f text ls -n 50 2>/dev/null | while read -r id _; do
		[ "$id" != ID ] && printf '%s\n' "$id"
	done
}

_rk_opts() {	# the options COMMAND --help lists, one a line of it
	"$@" --help 2>/dev/null |
	    sed -n 's/^  \(-[A-Za-z]\)\{0,1\}[, ]*\(--[a-z][-a-z]*\)\{0,1\}.*/\1 \2/p'
}

# _rk_complete CUR PREV COMMAND...: an option of COMMAND, or the argument
# of the option before
_rk_complete() {
	local cur=$1 prev=$2
	shift 2
	case $prev in
	-p|--profile) COMPREPLY=($(compgen -W "$(_rk_names profile)" -- "$cur")) ;;
	-t|--protocol) COMPREPLY=($(compgen -W "$(_rk_names protocol)" -- "$cur")) ;;
	--provider) COMPREPLY=($(compgen -W 'openai anthropic mock' -- "$cur")) ;;
	--cont) COMPREPLY=($(compgen -W "$(_rk_trace_ids)" -- "$cur")) ;;
	-m|--model|--base-url|--budget|-n|-P|-k|--tag) ;;
	*)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(_rk_opts "$@")" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	esac
}

_rk() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmds='think compare config models list trace help search fuse
	    tokens analyze-tokens llm prompt parse vote bench batch attach'

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$cmds --version" -- "$cur"))
		return
	fi
	case ${COMP_WORDS[1]} in
	think)
		case $prev in
		-f|--format) COMPREPLY=($(compgen -W 'text json' -- "$cur")) ;;
		*) _rk_complete "$cur" "$prev" rk think ;;
		esac ;;
	trace)
		case $prev in
		trace) COMPREPLY=($(compgen -W 'store ls show last search
		    export import merge done rm prune' -- "$cur")) ;;
		show|rm) COMPREPLY=($(compgen -W "$(_rk_trace_ids)" -- "$cur")) ;;
		*) _rk_complete "$cur" "$prev" rk-trace ;;
		esac ;;
	config|list|help) ;;
	*) _rk_complete "$cur" "$prev" "rk-${COMP_WORDS[1]}" ;;
	esac
}

_rk_tool() {
	_rk_complete "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" "$1"
}

complete -F _rk rk
complete -F _rk_tool rk-analyze-tokens rk-attach rk-batch rk-bench \
    rk-compare rk-embed rk-fuse rk-llm rk-models rk-parse rk-prompt \
    rk-search rk-tokens rk-trace rk-vote
