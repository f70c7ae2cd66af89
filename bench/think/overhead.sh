#!/bin/sh
# Prompt-token overhead of the protocols: for real questions of each class
# (simple < 20 tokens, medium 20-100, complex > 100), the share of each
# profile's prompt tokens that is ReasonKit's own text (system prompts and
# templates) rather than the question or carried outputs.  Exact cl100k_base
# counts from rk-analyze-tokens.
# usage: bench/think/overhead.sh [BUILD_DIR]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
PATH="${1:-$top/build}/bin:$PATH"
export XDG_CONFIG_HOME="${TMPDIR:-/tmp}/rk-overhead-none"

printf '%-8s %-10s %9s %9s %9s\n' class profile prompt reasonkit overhead
for class in simple medium complex; do
	for p in quick balanced paranoid; do
		while IFS= read -r q; do
			rk-analyze-tokens -j -p "$p" "$q" | tail -1
		done <"$top/bench/think/questions/$class.txt" |
		    sed 's/.*"total":\([0-9]*\),"reasonkit":\([0-9]*\).*/\1 \2/' |
		    awk -v c="$class" -v p="$p" '{ t += $1; r += $2 }
		    END { printf "%-8s %-10s %9d %9d %8.1f%%\n", c, p, t / NR, r / NR, 100 * r / t }'
	done
done
echo "mean tokens per run; overhead = reasonkit / prompt"
