#!/bin/sh
# The baseline: what `rk think` runs, with every rk-* process replaced by
# cat(1) -- the same shell, the same number of processes, the same pipes.
# usage: cat-shape.sh STEPS
n=$1
echo "$n" | cat >/dev/null		# rk-parse -c
pipe="echo q | cat"			# the first rk-prompt
i=0
while [ "$i" -lt "$n" ]; do
	pipe="$pipe | cat | cat"	# rk-llm | rk-prompt
	i=$((i + 1))
done
eval "$pipe | cat"			# rk-trace
