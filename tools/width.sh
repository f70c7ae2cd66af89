#!/bin/sh
# width.sh FILE... - the lines of KNF sources wider than 80 columns
#
# Prints FILE:LINE for each line over 80 columns once tabs are expanded to
# stops of 8, and exits 1 if there is one.  A column is a character: the
# continuation bytes of UTF-8 do not count.  make lint passes the files
# (WIDTH_SRC in GNUmakefile).
set -u

[ $# -gt 0 ] || { echo "usage: sh tools/width.sh file ..." >&2; exit 2; }
status=0
for f; do
	if [ ! -r "$f" ]; then
		echo "width: $f: cannot read" >&2
		status=2
		continue
	fi
	expand -- "$f" | LC_ALL=C awk -v f="$f" '
	length($0) - gsub(/[\200-\277]/, "&") > 80 { print f ":" NR; n++ }
	END { exit n > 0 }' || { [ $status -ne 0 ] || status=1; }
done
exit $status
