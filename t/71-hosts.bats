#!/usr/bin/env bats
# rk think -b --hosts: a batch shared over two ssh hosts by GNU parallel
# (sshd on 127.0.0.2 and 127.0.0.3, started here with keys made here),
# each host storing its runs in its own trace database, merged at the end.

load helper

# start_sshd N ADDR: sshd number N on ADDR, at a free port; its ssh login
# is added to the hosts file
start_sshd() {
	local port i
	for i in $(seq 1 20); do
		port=$((20000 + RANDOM % 30000))
		cat >"$TMP/sshd$1.conf" <<-CONF
			ListenAddress $2:$port
			HostKey $TMP/hostkey
			AuthorizedKeysFile $TMP/authorized_keys
			PidFile $TMP/sshd$1.pid
			StrictModes no
			UsePAM no
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			PermitRootLogin prohibit-password
			AllowUsers $(id -un)
			SetEnv RK_TRACE_DB=$TMP/host$1.db XDG_CACHE_HOME=$TMP/cache$1 XDG_CONFIG_HOME=$TMP/config LC_ALL=C.UTF-8
		CONF
		if "$SSHD" -f "$TMP/sshd$1.conf" -E "$TMP/sshd$1.log"; then
			echo "ssh -F $TMP/ssh_config -p $port $(id -un)@$2" >>"$TMP/hosts"
			return 0
		fi
	done
	return 1
}

local_setup() {
	SSHD=/usr/sbin/sshd
	[ -x "$SSHD" ] && command -v parallel >/dev/null ||
	    { echo "needs openssh-server and parallel: make deps" >&2; return 1; }
	# sshd's privilege separation directory, made by its init script
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/userkey"
	cp "$TMP/userkey.pub" "$TMP/authorized_keys"
	cat >"$TMP/ssh_config" <<-CONF
		IdentityFile $TMP/userkey
		IdentitiesOnly yes
		UserKnownHostsFile /dev/null
		StrictHostKeyChecking no
		LogLevel ERROR
		BatchMode yes
	CONF
	export RK_REMOTE="$(command -v rk)"
	start_sshd 2 127.0.0.2 && start_sshd 3 127.0.0.3
}

local_teardown() {
	local f
	for f in "$TMP"/sshd*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")"
	done
	return 0
}

@test "rk think -b --hosts: 200 questions over two hosts, merged, each stored once" {
	seq 1 200 | sed 's/^/Question /' >q
	run sh -c 'rk think --mock -p quick -b q --batch-id H --hosts hosts \
	    -d t.db -f json 2>err | jq -r .item | sort -n'
	assert_status 0
	[ "$output" = "$(seq 1 200)" ]
	# each host did a part, in its own database
	n2=$(rk-trace -d host2.db -f json ls --batch H -s completed | wc -l)
	n3=$(rk-trace -d host3.db -f json ls --batch H -s completed | wc -l)
	[ "$n2" -gt 0 ]
	[ "$n3" -gt 0 ]
	[ $((n2 + n3)) -eq 200 ]
	run sh -c 'rk-trace -d t.db -f json ls --batch H -s completed | jq -r .item | sort -n'
	[ "$output" = "$(seq 1 200)" ]
	run rk-trace -d t.db -f json ls --batch H
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 200 ]
	run cat err
	assert_match '^rk-batch: batch H: 200 questions: 200 completed, 0 failed;'
	# merging again adds nothing; a rerun asks nothing
	run sh -c 'rk think --mock -p quick -b q --batch-id H --hosts hosts -d t.db -f json 2>/dev/null'
	assert_status 0
	assert_output ""
	run rk-trace -d t.db -f json ls --batch H
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 200 ]
}
