#!/usr/bin/env bash
# status: `popfetch --status [--json]` reads state_dir only.  Checked before any poll, after a
# successful poll (exit 0, delivered count and bytes, uid store size), after a failed one (exit 2
# with its reason; the store size kept), after refused logins and the backed-off poll they cause
# (refused logins, "no login before", --retry-now), and while a daemon polls every second: every
# --status answers at once (also with the account's lock held), its JSON parses, it names the
# daemon and its next poll, and the daemon never skips a poll for a busy lock.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init status

lab_start
lab_mkmail --count 20 --seed 9 --manifest "$T/manifest"
want() {   # REGEX CONTEXT: the last run's stdout matches
	grep -Eq -- "$1" "$PF_OUT" || { cat "$PF_OUT" >&2; t_fail "$2: stdout does not match /$1/"; }
}
jq_py() {   # PYTHON-EXPRESSION over the JSON in $PF_OUT as `a` (the first account) and `j`
	python3 - "$PF_OUT" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
a = j["accounts"][0]
print(eval(sys.argv[2]))
PY
}
json_expect() {   # EXPRESSION WANT CONTEXT
	local got
	got=$(jq_py "$1") || t_fail "$3: --json output is not valid JSON: $(cat "$PF_OUT")"
	[ "$got" = "$2" ] || t_fail "$3: $1 is '$got', expected '$2' in $(cat "$PF_OUT")"
}
status() {   # NAME [popfetch args]: --status must exit 0 within a second
	local name=$1
	shift
	pf_run "$name" "$@" --status
	pf_expect_rc 0 "--status ($name)"
	[ "$PF_MS" -lt 2000 ] || t_fail "--status ($name) took ${PF_MS} ms"
}

pf_config "$T/config"
# --- before any poll
status never -f "$T/config"
want '^  last poll: +never' "before any poll"
want '^  next poll: +not scheduled' "before any poll: no daemon"
want '^  uid store: +none yet' "before any poll: no store"
status never-json -f "$T/config" --json
json_expect 'a["last_poll"]' None "before any poll (JSON)"

# --- a successful poll
pf_run ok -f "$T/config"
pf_expect_rc 0 "first poll"
bytes=$(find "$T/Maildir/new" "$T/Maildir/cur" -type f -printf '%s\n' | awk '{ n += $1 } END { print n }')
status ok -f "$T/config"
want '^lab$' "account heading"
want '^  last poll: +[0-9-]+ [0-9:]+ \((0 min [0-9]+ s ago|now)\), [0-9.]+ s: exit 0 \(new mail\)$' "after a success"
want "^  delivered: +20 messages, $bytes bytes \\(20 new on the server\\)\$" "delivered count and bytes"
want '^  uid store: +20 UIDs at the last poll \(lab\.uids, [0-9]+ bytes\)$' "uid store size"
want '^  backoff: +none$' "no backoff"
status ok-json -f "$T/config" --json
json_expect 'a["last_poll"]["exit"], a["last_poll"]["class"], a["last_poll"]["delivered"]' \
	"(0, 'new mail', 20)" "after a success (JSON)"
json_expect 'a["last_poll"]["bytes"], a["uid_store"]["uids"], a["next_poll"]' "($bytes, 20, None)" \
	"bytes, store, no schedule (JSON)"
json_expect 'abs(a["last_poll"]["ended"] - j["time"]) < 30' True "poll time (JSON)"

# --- a failed poll: nothing listens on the port
pf_config "$T/config.bad" port="$(t_free_port)"
pf_run bad -f "$T/config.bad"
pf_expect_rc 2 "poll of a closed port"
status bad -f "$T/config"
want '^  last poll: .*: exit 2 \(network\)$' "after a failure"
want '^  reason: +.*(connect|refused)' "the failure's reason"
want '^  delivered: +0 messages' "nothing delivered by the failed poll"
want '^  uid store: +20 UIDs at the last poll' "the store size survives a failed poll"
status bad-json -f "$T/config" --json
json_expect 'a["last_poll"]["exit"], a["last_poll"]["class"], "onnect" in a["last_poll"]["reason"] or "efused" in a["last_poll"]["reason"]' \
	"(2, 'network', True)" "after a failure (JSON)"

# --- refused logins, then the backed-off poll
pf_config "$T/config.pw" password=wrong
for i in 1 2 3; do
	pf_run refused$i -f "$T/config.pw"
	pf_expect_rc 3 "refused login $i"
done
pf_run backedoff -f "$T/config.pw"
pf_expect_rc 3 "the poll after 3 refused logins"
pf_expect_err "not trying to log in" "backed-off poll"
status backoff -f "$T/config"
want '^  last poll: .*: exit 3 \(authentication\)$' "backed-off poll: result"
want '^  reason: +not trying to log in after 3 refused logins' "backed-off poll: reason"
want '^  backoff: +3 refused logins in a row$' "refused logins"
want '^ +no login before [0-9-]+ [0-9:]+ \(refused logins; popfetch --retry-now lab tries now\)$' "retry time"
status backoff-json -f "$T/config" --json
json_expect 'a["backoff"]["refused_logins"], a["backoff"]["reason"], a["backoff"]["retry_after"] > j["time"]' \
	"(3, 'refused-logins', True)" "backoff (JSON)"

# --- a daemon polling every second, with --status asked again and again meanwhile
pf_config "$T/config.d" state_dir="$T/state.d" maildir="$T/Maildir.d"
t_bg "$POPFETCH" -f "$T/config.d" -d 1 --log stderr -v >"$T/daemon.out" 2>"$T/daemon.err"
DPID=$T_BG_PID
t_wait_match "$T/daemon.err" 'lab: 20 new, 20 fetched' >/dev/null
for i in $(seq 1 25); do
	PF_QUIET=1 status "daemon$i" -f "$T/config.d" --json
	jq_py 'a["account"]' >/dev/null || t_fail "--status $i during the daemon: invalid JSON: $(cat "$PF_OUT")"
	sleep 0.1
done
t_log "25 --status runs beside the daemon, each under 2 s"
json_expect 'a["next_poll"]["daemon_pid"], a["next_poll"]["daemon_running"]' "($DPID, True)" \
	"the daemon's schedule (JSON)"
json_expect '0 <= a["next_poll"]["at"] - j["time"] <= 3' True "next poll within the interval (JSON)"
json_expect 'a["last_poll"]["exit"] in (0, 1), a["uid_store"]["uids"]' "(True, 20)" "daemon: last poll (JSON)"
# --status took no lock: the daemon never found its lock busy.
! grep -q 'skipped this poll' "$T/daemon.err" || t_fail "the daemon skipped a poll beside --status"
# The lock held (as during a poll): --status still answers at once.
t_bg flock "$T/state.d/lab.lock" sleep 3
LOCK_PID=$T_BG_PID
sleep 0.2
status locked -f "$T/config.d"
want '^  next poll: +[0-9-]+ [0-9:]+ \((in 0 min [0-9] s|now|0 min [0-9] s ago)\), by the daemon \(pid '"$DPID"'\)$' "daemon: next poll"
wait "$LOCK_PID" || true
kill -TERM "$DPID"
wait "$DPID" || true
polls=$(grep -c 'lab: .* new, .* fetched' "$T/daemon.err" || true)
[ "$polls" -ge 3 ] || t_fail "the daemon polled only $polls times in its run"
pf_verify "$T/manifest" "$T/Maildir.d"
status stopped -f "$T/config.d"
want "^  next poll: +none: the daemon that polled it \\(pid $DPID\\) is not running\$" "stopped daemon"
t_log "status: ok"
