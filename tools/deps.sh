#!/bin/sh
# Install the Debian packages ReasonKit needs to build and test, if any are
# missing: apt-get when root, else print the exact command to run.
pkgs="gcc libc6-dev make pkg-config libjansson-dev libyaml-dev libsqlite3-dev libbsd-dev
libcurl4-openssl-dev libstemmer-dev bats jq mandoc bsdextrautils valgrind openssh-server
openssh-client parallel clang libclang-rt-dev binutils cppcheck python3 sqlite3"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
[ -n "$missing" ] || exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: missing$missing; run:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi
