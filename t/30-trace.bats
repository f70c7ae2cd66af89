#!/usr/bin/env bats
# rk-trace: store mode (tee into SQLite), ls, show, export, rm, prune, the
# text report, exit statuses, concurrency and the man page's EXAMPLES.

load helper

local_setup() {
	T="$FIXTURES/trace"
	ALL="$T/single.ndjson $T/failed.ndjson $T/balanced.ndjson \
$T/deep.ndjson $T/context.ndjson"
	BAL=01M7W4N5E05Q2W7N9R1T6Y0VAB
	DEEP=01M7Z6TB8A8H3K5M7P9R1T3V5X
	FAIL=01M727H6000A2B4C6D8E0F2G4H
	ONE=01M3VNBWG03N5P7Q9R1S3T5V7W
	CTX=01M89XTK806A8B0C2D4E6F8G0H
}

# store every fixture in t.db
store_all() {
	# shellcheck disable=SC2086
	cat $ALL | rk-trace -d t.db >/dev/null || [ $? -eq 1 ]
}

# the number of runs stored in a database (t.db)
count() { rk-trace -d "${1:-t.db}" export | wc -l; }

# FIELDS of each run listed with OPTIONS: fields FIELDS [OPTIONS]
fields() {
	f=$1
	shift
	rk-trace -d t.db -f json ls "$@" |
	    jq -r "[$f] | map(if . == null then \"-\" else tostring end) |
	    join(\"|\")"
}

# sql DB SQL: run SQL on DB, rows printed as sqlite3(1) prints them, by
# the helper built beside the tools (mk/trace.mk)
sql() {
	for b in $(type -ap rk-trace); do
		if [ -x "${b%/*}/../libexec/rk-trace-sql" ]; then
			"${b%/*}/../libexec/rk-trace-sql" "$@"
			return
		fi
	done
	echo "no rk-trace-sql beside rk-trace" >&2
	return 1
}

# --- command line ------------------------------------------------------

@test "rk-trace: --help prints the usage to stdout and exits 0" {
	run rk-trace --help
	assert_status 0
	assert_match '^usage: rk-trace \[-d db\] \[-f json \| text\] \[--expect count\] \[--no-store\]$'
	assert_match '^       rk-trace \[-d db\] \[-f json \| text\] prune --before date$'
}

@test "rk-trace: -h prints the usage like --help" {
	run rk-trace -h
	assert_status 0
	assert_match '^usage: rk-trace '
}

@test "rk-trace: --help after a command prints the usage too" {
	for c in store ls show last search export import merge done rm prune; do
		run rk-trace "$c" --help
		assert_status 0
		assert_match '^usage: rk-trace '
	done
	[ ! -e "$XDG_DATA_HOME/reasonkit" ]
}

@test "rk-trace: --help matches the man page SYNOPSIS" {
	check_synopsis rk-trace
}

@test "rk-trace: the man page is clean under mandoc -Tlint" {
	check_manlint rk-trace
}

@test "rk-trace: --version and -V" {
	run rk-trace --version
	assert_status 0
	assert_match '^rk-trace [0-9]+\.[0-9]+\.[0-9]+$'
	run rk-trace -V
	assert_status 0
	assert_match '^rk-trace [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "rk-trace: bad options and arguments exit 2" {
	for args in "-x" "-f xml" "-d" "ls -n 0" "ls -n x" "ls -s done" \
	    "ls --since yesterday" "ls --until 2026-02-30" "ls extra" \
	    "show" "rm" "prune" "prune --before" "prune --before 5y" \
	    "prune --before 2026-01-01 x" "--no-store ls" "export -f text" "lss" "list" \
	    "ls -P quick" "rm -f json x" "store --no-store" "done" "done --batch" \
	    "ls --since 2026-11-20T25:00" "ls --since 2026-11-20T10:00+1"; do
		# shellcheck disable=SC2086
		run rk-trace -d t.db $args
		[ "$status" -eq 2 ] || { echo "rk-trace $args: $status"; false; }
	done
	[ ! -e t.db ]
}

@test "rk-trace: a bad RK_TRACE_SYNC is a usage error" {
	RK_TRACE_SYNC=sometimes run rk-trace -d t.db <"$T/single.ndjson"
	assert_status 2
	assert_match "RK_TRACE_SYNC: not normal, full or off: 'sometimes'"
}

# --- store mode ----------------------------------------------------------

@test "store: output bytes are the input bytes; exit 1 for the failed run" {
	# shellcheck disable=SC2086
	cat $ALL >in
	run rk-trace -d t.db <in
	assert_status 1
	rk-trace -d t.db <in >out 2>err || true
	cmp in out
	[ ! -s err ]
	[ "$(count)" -eq 5 ]
}

@test "store: a record written otherwise passes byte for byte too" {
	printf '%s\n' \
	    ' {"rk": 1, "id": "01M7W4N5E05Q2W7N9R1T6Y0VAF", "query": "caf\u00e9 \/ 1e2",' \
	    '  "result": {"confidence": 0.30000000000000004, "pass": true}, "n": 1E2}' |
	    tr -d '\n' >in
	printf '\n' >>in
	big=$(printf 'x%.0s' $(seq 100000))
	printf '{"rk":1,  "id":"01M7W4N5E05Q2W7N9R1T6Y0VAG","query":"%s"}\n' \
	    "$big" >>in
	run rk-trace -d t.db store in
	assert_status 0
	[ "$output" = "$(cat in)" ]
	rk-trace -d t.db export >out
	cmp in out
	run fields '.id, .status, .confidence, (.query | length)'
	assert_output "01M7W4N5E05Q2W7N9R1T6Y0VAG|incomplete|-|100000
01M7W4N5E05Q2W7N9R1T6Y0VAF|completed|0.3|10"
}

@test "store: what rk_read() made or changed is written compact" {
	printf '%s\r\n' '{"query": "no envelope"}' >in
	printf '\n\n%s' '{"rk":1,"id":"01M7W4N5E05Q2W7N9R1T6Y0VAH","query":"last, no newline"}' >>in
	rk-trace -d t.db store in >out
	run jq -c 'del(.id)' out
	assert_output '{"query":"no envelope","rk":1}
{"rk":1,"query":"last, no newline"}'
	run sed -n 2p out
	assert_output '{"rk":1,"id":"01M7W4N5E05Q2W7N9R1T6Y0VAH","query":"last, no newline"}'
	[ "$(wc -l <out)" -eq 2 ]
	! grep -q "$(printf '\r')" out
}

@test "store: records without an error exit 0" {
	cat "$T/balanced.ndjson" "$T/single.ndjson" >in
	run rk-trace -d t.db store in
	assert_status 0
	[ "$output" = "$(cat in)" ]
}

@test "store: the records of rk-prompt and rk-llm pass byte for byte" {
	command -v rk-prompt >/dev/null || skip "no rk-prompt"
	rk-prompt -p quick -- "Is a monorepo right for us?" | rk-llm --mock |
	    rk-prompt -p quick | rk-llm --mock | rk-prompt -p quick >in
	[ -s in ]
	run rk-trace -d t.db store in
	assert_status 0
	[ "$output" = "$(cat in)" ]
	rk-trace -d t.db export >out
	cmp in out
}

@test "store: the index columns follow the status rule and the sums" {
	store_all
	run fields '.id, .status, .profile, (.protocols | join(" ")),
	    .confidence, .pass, .min_confidence, .tokens.in, .tokens.out,
	    .tokens.estimated, .ms.llm, .ms.other, .steps, .created' -n 9
	assert_status 0
	assert_output "$CTX|incomplete|quick|gigathink|0.85|-|-|100|150|all|812.5|0.07|1|2026-11-25T18:00:00.000Z
$DEEP|completed|deep|gigathink laserlogic bedrock proofguard|0.8525|true|0.85|1200|1800|all|8489.25|0.84|12|2026-11-21T14:05:30.250Z
$BAL|completed|balanced|gigathink laserlogic bedrock proofguard|0.8525|true|0.8|1200|1800|all|8489.25|0.84|12|2026-11-20T09:30:00.000Z
$FAIL|failed|quick|gigathink|0.835|-|-|200|300|all|1713.75|0.14|2|2026-11-10T08:00:00.000Z
$ONE|completed|brutalhonesty|brutalhonesty|0.75|false|0.9|770|295|none|1430|0.21|3|2026-10-01T12:00:00.000Z"
}

@test "store: the SQL schema is as rk-trace(1) documents it" {
	store_all
	run sql t.db "SELECT id, status, profile, protocols,
	    round(confidence, 4), pass, min_confidence, tokens_in, tokens_out,
	    estimated, round(llm_ms, 2), round(other_ms, 2), steps, created
	    FROM runs ORDER BY created"
	assert_status 0
	assert_output "$ONE|completed|brutalhonesty|brutalhonesty|0.75|0|0.9|770|295|0|1430.0|0.21|3|2026-10-01T12:00:00.000Z
$FAIL|failed|quick|gigathink|0.835|||200|300|2|1713.75|0.14|2|2026-11-10T08:00:00.000Z
$BAL|completed|balanced|gigathink laserlogic bedrock proofguard|0.8525|1|0.8|1200|1800|2|8489.25|0.84|12|2026-11-20T09:30:00.000Z
$DEEP|completed|deep|gigathink laserlogic bedrock proofguard|0.8525|1|0.85|1200|1800|2|8489.25|0.84|12|2026-11-21T14:05:30.250Z
$CTX|incomplete|quick|gigathink|0.85|||100|150|2|812.5|0.07|1|2026-11-25T18:00:00.000Z"
	run sql t.db "PRAGMA user_version; PRAGMA journal_mode;
	    SELECT name FROM sqlite_master WHERE type = 'index' AND
	    name LIKE 'runs_%' ORDER BY name;
	    SELECT count(*) FROM runs WHERE stored LIKE '20__-__-__T__:__:__.___Z'
	    AND record LIKE '{\"rk\":1,\"id\":\"' || id || '\",%'"
	assert_output "2
wal
runs_batch
runs_created
runs_profile
runs_status
5"
}

@test "store: the whole record is stored as it was written on" {
	store_all
	rk-trace -d t.db export -p balanced >out
	cmp "$T/balanced.ndjson" out
}

@test "store: the schema is version 2, in WAL mode" {
	rk-trace -d t.db <"$T/single.ndjson" >/dev/null
	run sql t.db 'PRAGMA user_version; PRAGMA journal_mode'
	assert_output "2
wal"
}

@test "store: a database of a newer schema is refused with exit 5" {
	rk-trace -d t.db <"$T/single.ndjson" >/dev/null
	sql t.db 'PRAGMA user_version = 9'
	run rk-trace -d t.db <"$T/balanced.ndjson"
	assert_status 5
	assert_match "t.db: schema version 9 is newer than this rk-trace knows \(2\)"
	assert_match "\"id\":\"$BAL\""
}

@test "store: storing the same id again replaces the run" {
	rk-trace -d t.db <"$T/balanced.ndjson" >/dev/null
	jq -c '.query = "Changed?" | del(.result)' "$T/balanced.ndjson" |
	    rk-trace -d t.db >/dev/null
	[ "$(count)" -eq 1 ]
	run fields '.query, .status'
	assert_output "Changed?|incomplete"
}

@test "store: a question line becomes a stored incomplete record" {
	echo "Is P = NP?" | rk-trace -d t.db >out
	run jq -r '[.rk, .query, (.id | length)] | @tsv' out
	assert_output "1	Is P = NP?	26"
	run fields '.query, .status, .id'
	assert_output "Is P = NP?|incomplete|$(jq -r .id out)"
}

@test "store: a malformed line is stored and passed as an error, exit 3" {
	printf '%s\n' '{"query":"ok","id":"01M7W4N5E05Q2W7N9R1T6Y0VAC"}' \
	    '{"query": bad' 'plain question' >in
	run sh -c 'rk-trace -d t.db store in 2>err >out'
	assert_status 3
	run cat err
	assert_match "^rk-trace: in:2: column [0-9]+: "
	run jq -r '[.query, .error.code] | map(. // "-") | join("|")' out
	assert_output "ok|-
-|bad-json
plain question|-"
	run fields .query -s failed
	assert_output "-"
	run fields .query -s incomplete
	assert_output "plain question
ok"
}

@test "store: a line over RK_MAX_RECORD is stored as failed, exit 3" {
	{ printf 'x%.0s' $(seq 3000); echo; } >in
	RK_MAX_RECORD=1k run rk-trace -d t.db store in
	assert_status 3
	run fields '.status, .query'
	assert_output "failed|-"
}

@test "store: an unwritable database still passes every record, exit 5" {
	touch file
	run rk-trace -d file/t.db store "$T/balanced.ndjson"
	assert_status 5
	assert_match "^rk-trace: file/t.db: cannot open: "
	rk-trace -d file/t.db store "$T/balanced.ndjson" >out 2>/dev/null || true
	cmp "$T/balanced.ndjson" out
}

@test "store: a file that is not a database is exit 5, records pass" {
	echo "not a database" >t.db
	run rk-trace -d t.db store "$T/single.ndjson"
	assert_status 5
	assert_output "rk-trace: t.db: cannot open: file is not a database
$(cat "$T/single.ndjson")"
}

@test "store: a missing input file is exit 5, the others are still read" {
	run rk-trace -d t.db store nosuch "$T/single.ndjson"
	assert_status 5
	assert_match "^rk-trace: nosuch: No such file or directory$"
	[ "$(count)" -eq 1 ]
}

@test "store: - reads stdin between files" {
	rk-trace -d t.db store "$T/single.ndjson" - "$T/deep.ndjson" \
	    <"$T/balanced.ndjson" >out
	cat "$T/single.ndjson" "$T/balanced.ndjson" "$T/deep.ndjson" >in
	cmp in out
}

@test "store: an unwritable stdout is exit 5, the record is still stored" {
	run sh -c 'rk-trace -d t.db store "$1" >/dev/full' sh "$T/single.ndjson"
	assert_status 5
	assert_match '^rk-trace: stdout: No space left on device$'
	[ "$(count)" -eq 1 ]
}

@test "store: a reader that goes away does not stop the storing, exit 5" {
	for i in $(seq 100); do
		sed "s/$BAL/01M7W4N5E05Q2W7N9R1T$(printf %06d "$i")/" \
		    "$T/balanced.ndjson"
	done >in
	run bash -c 'set -o pipefail; rk-trace -d t.db store in | head -c 1 >/dev/null'
	assert_status 5
	assert_output "rk-trace: stdout: Broken pipe"
	[ "$(count)" -eq 100 ]
}

@test "store: -n stores nothing and creates no database" {
	run rk-trace --no-store store "$T/balanced.ndjson"
	assert_status 0
	[ "$output" = "$(cat "$T/balanced.ndjson")" ]
	[ ! -e "$XDG_DATA_HOME/reasonkit" ]
}

@test "store: the default database is in XDG_DATA_HOME, made when needed" {
	rk-trace <"$T/single.ndjson" >/dev/null
	[ "$(count "$XDG_DATA_HOME/reasonkit/traces.db")" -eq 1 ]
}

@test "store: RK_TRACE_DB chooses the database, -d over it" {
	RK_TRACE_DB=env.db rk-trace <"$T/single.ndjson" >/dev/null
	RK_TRACE_DB=env.db rk-trace -d opt.db <"$T/deep.ndjson" >/dev/null
	[ "$(count env.db)" -eq 1 ]
	[ "$(count opt.db)" -eq 1 ]
	[ ! -e "$XDG_DATA_HOME/reasonkit" ]
	run env RK_TRACE_DB=env.db rk-trace -f json ls
	assert_match "^\{\"id\":\"$ONE\""
}

@test "store: RK_TRACE_SYNC=full stores as well" {
	RK_TRACE_SYNC=full rk-trace -d t.db <"$T/single.ndjson" >/dev/null
	[ "$(count)" -eq 1 ]
}

@test "store: 40 concurrent writers into one new database store all 40" {
	seq 40 | xargs -P 8 -I{} sh -c \
	    'echo "question {}" | rk-trace -d t.db >/dev/null' 2>err
	[ ! -s err ]
	[ "$(count)" -eq 40 ]
	[ "$(rk-trace -d t.db export | jq -r .query | sort -u | wc -l)" -eq 40 ]
	run sql t.db 'SELECT count(DISTINCT query) FROM runs; PRAGMA user_version'
	assert_output "40
2"
}

@test "store: -f text writes the report instead of the records" {
	run rk-trace -d t.db -f text store "$T/balanced.ndjson"
	assert_status 0
	[ "$output" = "$(cat "$T/balanced.txt")" ]
	[ "$(count)" -eq 1 ]
}

@test "store: reports of several runs are separated by a blank line" {
	rk-trace --no-store -f text store "$T/single.ndjson" "$T/context.ndjson" >out
	{ cat "$T/single.txt"; echo; cat "$T/context.txt"; } >want
	cmp want out
}

@test "store: on a terminal the report is the default, bold unless NO_COLOR" {
	command -v script >/dev/null || skip "no script(1)"
	script -qec "rk-trace --no-store store $T/single.ndjson" /dev/null >out
	grep -q "$(printf '\033\\[1mrun %s\033\\[0m' "$ONE")" out
	NO_COLOR=1 script -qec "rk-trace --no-store store $T/single.ndjson" /dev/null >out
	grep -q "^run $ONE" out
	! grep -q "$(printf '\033')" out
}

# --- the report ---------------------------------------------------------

@test "report: a balanced run (lists, text, verdict, wrapping, pass)" {
	run rk-trace --no-store -f text store "$T/balanced.ndjson"
	[ "$output" = "$(cat "$T/balanced.txt")" ]
	assert_match '^result    pass: confidence 0\.85, minimum 0\.80, 12 steps$'
	assert_match '^       thin across many deployables$'
}

@test "report: a failed run shows its error and exits 1" {
	run rk-trace --no-store -f text store "$T/failed.ndjson"
	assert_status 1
	[ "$output" = "$(cat "$T/failed.txt")" ]
	assert_match '^error     rk-llm: http-429: provider rate limit: retry after 20 s$'
}

@test "report: a single-protocol run, measured tokens, cached, FAIL" {
	run rk-trace --no-store -f text store "$T/single.ndjson"
	[ "$output" = "$(cat "$T/single.txt")" ]
	assert_match '^protocol  brutalhonesty$'
	assert_match '^  verdict \(confidence 0\.75, cached\)$'
	assert_match '^tokens    770 in, 295 out$'
	assert_match '^result    FAIL: confidence 0\.75, minimum 0\.90, 3 steps$'
}

@test "report: context, the pending step, an incomplete run" {
	run rk-trace --no-store -f text store "$T/context.ndjson"
	[ "$output" = "$(cat "$T/context.txt")" ]
	assert_match '^context   3 passages from runbook\.md, postmortem-2025\.md$'
	assert_match '^next      gigathink: explore_perspectives$'
}

@test "report: skipped links with their condition" {
	run rk-trace --no-store -f text store "$T/deep.ndjson"
	[ "$output" = "$(cat "$T/deep.txt")" ]
	assert_match '^  brutalhonesty at link 4, when confidence < 0\.85$'
}

# no_controls: the last run printed no escape, bell or tab
no_controls() {
	case $output in
	*["$(printf '\033\007\t')"]*)
		printf 'a control character in:\n%s\n' "$output" >&2
		return 1 ;;
	esac
}

@test "report: control characters print as blanks, in ls too" {
	printf '%s\n' '{"id":"01M7W4N5E05Q2W7N9R1T6Y0VAD","query":"q\u001b[31m",
"profile":"p\u001b[2J","skipped":[{"protocol":"b\u0007","link":1},{"protocol":"c"}],
"steps":[{"protocol":"x\u001b]0;t\u0007","step":"s","output":{"type":"text","text":"a\u0007b\tc"},"confidence":0.5}]}' |
	    tr -d '\n' >in
	echo >>in
	run rk-trace -d t.db -f text store in
	assert_status 0
	no_controls
	assert_match '^question  q \[31m$'
	assert_match '^profile   p \[2J$'
	assert_match '^x ]0;t $'
	assert_match '^    a b c$'
	assert_match '^  b at link 1$'
	assert_match '^  c$'
	run rk-trace -d t.db ls
	no_controls
	assert_match '^01M7W4N5E05Q2W7N9R1T6Y0VAD  2026-11-20 09:30  p \[2J        incomplete  0\.50       0  q \[31m$'
}

@test "report: a record of odd types and sizes is reported and stored" {
	cat >in <<-'EOF'
	{"id":"01M7W4N5E05Q2W7N9R1T6Y0VAE","steps":[{"usage":{"in":1e300,"out":-5},"ms":{"llm":1e308,"x":1e308},"confidence":"high","output":{"type":"list","items":[1,null,"ok"]}},{"ms":{"llm":1e308},"output":"str"},5],"result":{"confidence":1e308,"pass":"yes"},"skipped":[1,{"protocol":"a"}],"context":"x","error":"boom"}
	EOF
	run rk-trace -d t.db -f text store in
	assert_status 1
	assert_output 'run 01M7W4N5E05Q2W7N9R1T6Y0VAE
date      2026-11-20 09:30:00 UTC
status    failed

(no protocol)
  step (confidence -)
    1. 1
    2.
    3. ok
  step (confidence -)
  step (confidence -)

skipped
  (no protocol)
  a

error     "boom"
result    confidence 1e+308, 3 steps
tokens    1000000000000000 in, 0 out
time      inf s waiting for the model, 1e+305 s the rest'
	run fields '.status, .confidence, .tokens.in, .ms.llm, .steps'
	assert_output "failed|1e+308|1000000000000000|-|3"
}

# --- ls ----------------------------------------------------------------

@test "ls: one line per run, newest first, with a header" {
	store_all
	run rk-trace -d t.db ls
	assert_status 0
	assert_output "ID                          DATE              PROFILE      STATUS      CONF  TOKENS  QUESTION
$CTX  2026-11-25 18:00  quick        incomplete  0.85     250  What does our runbook say about failo...
$DEEP  2026-11-21 14:05  deep         completed   0.85    3000  Is a monorepo right for a team of forty?
$BAL  2026-11-20 09:30  balanced     completed   0.85    3000  Should a ten-person team split its mo...
$FAIL  2026-11-10 08:00  quick        failed      0.83     500  Will the price of copper rise next year?
$ONE  2026-10-01 12:00  brutalhonesty  completed   0.75    1065  Is test-driven development worth it f..."
}

@test "ls: the default database missing lists nothing and is not created" {
	XDG_DATA_HOME=$PWD/xdg RK_TRACE_DB= run rk-trace ls
	assert_status 0
	assert_output ""
	[ ! -e xdg ]
}

@test "ls: filters by protocol, profile, status, dates and a limit" {
	store_all
	ids() { rk-trace -d t.db -f json ls "$@" | jq -r .id | tr '\n' ' '; }
	[ "$(ids -t bedrock)" = "$DEEP $BAL " ]
	[ "$(ids -t brutalhonesty)" = "$ONE " ]
	[ "$(ids -t nosuch)" = "" ]
	[ "$(ids -p quick)" = "$CTX $FAIL " ]
	[ "$(ids -s failed)" = "$FAIL " ]
	[ "$(ids -s incomplete)" = "$CTX " ]
	[ "$(ids -s completed -n 2)" = "$DEEP $BAL " ]
	[ "$(ids --since 2026-11-20)" = "$CTX $DEEP $BAL " ]
	[ "$(ids --since 2026-11-20T09:30:00.001Z)" = "$CTX $DEEP " ]
	[ "$(ids --until 2026-11-20T10:30+01:00)" = "$FAIL $ONE " ]
	[ "$(ids --since '2026-11-10 08:00' --until 2026-11-21)" = "$BAL $FAIL " ]
	[ "$(ids -p quick -s failed --since 2026-11-01)" = "$FAIL " ]
	[ "$(ids --since 1d)" = "" ]
	[ "$(ids --until 1h -n 1)" = "$CTX " ]
}

@test "ls: -f json gives one object per run" {
	rk-trace -d t.db <"$T/single.ndjson" >/dev/null
	run rk-trace -d t.db -f json ls
	assert_status 0
	assert_output '{"id":"'$ONE'","created":"2026-10-01T12:00:00.000Z","query":"Is test-driven development worth it for a two-person startup?","profile":"brutalhonesty","protocols":["brutalhonesty"],"status":"completed","confidence":0.75,"pass":false,"min_confidence":0.9,"tokens":{"in":770,"out":295,"estimated":"none"},"ms":{"llm":1430.0,"other":0.21},"steps":3}'
}

# --- show --------------------------------------------------------------

@test "show: a unique prefix, in either case, gives the report" {
	store_all
	run rk-trace -d t.db show 01m7w
	assert_status 0
	[ "$output" = "$(cat "$T/balanced.txt")" ]
}

@test "show: -f json gives the stored record" {
	store_all
	rk-trace -d t.db -f json show "$FAIL" >out
	cmp "$T/failed.ndjson" out
}

@test "show: several ids, reports separated by a blank line" {
	store_all
	rk-trace -d t.db show "$ONE" 01M89 >out
	{ cat "$T/single.txt"; echo; cat "$T/context.txt"; } >want
	cmp want out
}

@test "show: an ambiguous prefix is an error naming the runs, exit 2" {
	store_all
	run rk-trace -d t.db show 01M7
	assert_status 2
	assert_output "rk-trace: 01M7: ambiguous run id prefix: $FAIL, $BAL and more"
	run rk-trace -d t.db show 01M7Z6TB8A8H3K5M7P9R1T3V5X 01M7W4N5E0
	assert_status 0
}

@test "an option a command does not take is named as written, not by its argument" {
	run rk-trace -d t.db show -p deep 01M
	assert_status 2
	[ "${lines[0]}" = "rk-trace: show: option -p does not apply" ]
	run rk-trace -d t.db show --since 2024-01-01 01M
	assert_status 2
	[ "${lines[0]}" = "rk-trace: show: option --since does not apply" ]
}

@test "show: a prefix no run has is an error, exit 2" {
	store_all
	run rk-trace -d t.db show 01ZZZ
	assert_status 2
	assert_output "rk-trace: 01ZZZ: no such run"
	run rk-trace -d t.db show '*'
	assert_status 2
	assert_output "rk-trace: *: no such run"
	run rk-trace -d missing.db show 01M
	assert_status 5
	assert_output "rk-trace: missing.db: No such file or directory"
	[ ! -e missing.db ]
}

# --- export --------------------------------------------------------------

@test "export: stored records, oldest first, back into rk-trace" {
	store_all
	rk-trace -d t.db export >out
	cat "$T/single.ndjson" "$T/failed.ndjson" "$T/balanced.ndjson" \
	    "$T/deep.ndjson" "$T/context.ndjson" >want
	cmp want out
	run rk-trace -d copy.db store out
	assert_status 1
	rk-trace -d copy.db export | cmp want -
}

@test "export: the same filters as ls" {
	store_all
	rk-trace -d t.db export -p quick >out
	cat "$T/failed.ndjson" "$T/context.ndjson" >want
	cmp want out
	rk-trace -d t.db export -n 2 --until 2026-11-21 >out
	cat "$T/failed.ndjson" "$T/balanced.ndjson" >want
	cmp want out
}

# --- rm and prune ------------------------------------------------------

@test "rm: removes runs by id or unique prefix" {
	store_all
	run rk-trace -d t.db rm "$BAL" 01M3V
	assert_status 0
	assert_output ""
	[ "$(count)" -eq 3 ]
	run fields .id
	assert_output "$CTX
$DEEP
$FAIL"
}

@test "rm: a missing id is exit 2, the others are removed" {
	store_all
	run rk-trace -d t.db rm 01ZZZ "$CTX"
	assert_status 2
	assert_output "rk-trace: 01ZZZ: no such run"
	[ "$(count)" -eq 4 ]
}

@test "prune: removes runs created before a date and says how many" {
	store_all
	run rk-trace -d t.db prune --before 2026-11-20T09:30
	assert_status 0
	assert_output "removed 2 runs"
	[ "$(count)" -eq 3 ]
	run rk-trace -d t.db -f json prune --before 2026-11-21
	assert_output '{"removed":1}'
	run rk-trace -d t.db prune --before 2000-01-01
	assert_output "removed 0 runs"
	run rk-trace -d t.db prune --before 1d
	assert_output "removed 2 runs"
	[ "$(count)" -eq 0 ]
}

# --- the man page ------------------------------------------------------

@test "rk-trace(1) EXAMPLES give the output shown" {
	man="$BATS_TEST_DIRNAME/../man/rk-trace.1"
	# the literal blocks of EXAMPLES: "$ " lines (and their continuation
	# lines after a trailing |) are commands, the rest their output
	awk '/^\.Sh EXAMPLES/ { ex = 1; next }
	    /^\.Sh/ { ex = 0 }
	    ex && /^\.Bd -literal/ { lit = 1; next }
	    ex && /^\.Ed/ { lit = 0; next }
	    !lit { next }
	    /^\$ / { print substr($0, 3) > "cmds"; cont = /\|$/; next }
	    cont { print > "cmds"; cont = /\|$/; next }
	    { print > "want" }' "$man"
	[ -s cmds ]
	[ -s want ]
	run sh -e cmds
	assert_status 0
	[ "$output" = "$(cat want)" ]
}

@test "rk-trace --expect: fewer records than expected is exit 1 with a message" {
	run rk-trace --no-store --expect 1 </dev/null
	assert_status 1
	assert_output "rk-trace: expected 1 record, got 0: an earlier stage failed"
	printf 'q1\nq2\n' | rk-prompt gigathink >two.ndjson
	run sh -c 'rk-trace --no-store --expect 2 <two.ndjson >/dev/null'
	assert_status 0
	run rk-trace --expect x </dev/null
	assert_status 2
	run rk-trace --expect 1 ls
	assert_status 2
}
