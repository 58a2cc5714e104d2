# script-tests.sh - helpers for the tests against tests/lib/pop3-script-server (odd_servers.sh,
# hostile.sh, hostile_flood.sh, tls_certs.sh, cve_regressions.sh).  Sourced after common.sh and
# t_init; common.sh stays generic.
SERVER=$TESTLIB/pop3-script-server
SCRIPTS=$(cd "$TESTLIB/../scripts" && pwd -P)
LAB_PORT_TLS=0 LAB_CAFILE=/nonexistent   # pf_config's lab defaults: every case here sets its own

serve() {   # NAME SCRIPT [server options]: one session of SCRIPT (a path, or a tests/scripts name)
	local name=$1 script=$2
	shift 2
	case $script in /*) ;; *) script=$SCRIPTS/$script;; esac
	rm -f "$T/$name.port" "$T/$name.log"
	t_bg "$SERVER" --script "$script" --once --max-seconds 90 --ready-file "$T/$name.port" \
		--log "$T/$name.log" "$@" 2>"$T/$name.stderr"
	SRV_PID=$T_BG_PID
	t_wait_file "$T/$name.port"
	SRV_PORT=$(cat "$T/$name.port")
}

conf() {   # NAME [key=value ...]: $T/NAME.conf for the server just started: plaintext, delete mode
	local name=$1
	shift
	pf_config "$T/$name.conf" port="$SRV_PORT" tls=none tls_ca_file=- timeout=5 keep=false \
		state_dir="$T/$name.state" maildir="$T/$name.Maildir" "$@"
}

run() {   # NAME [popfetch options]: runs $T/NAME.conf (pf_run: PF_RC, PF_ERR, PF_MS)
	local name=$1
	shift
	pf_run "$name" -f "$T/$name.conf" "$@"
}

expect_fail() {   # NAME RC REGEX [MAX_MS]: exit RC, one clear error line, within MAX_MS (10 s)
	pf_expect_rc "$2" "$1"
	pf_expect_err "$3" "$1"
	err_clean "$1"
	[ "$PF_MS" -le "${4:-10000}" ] || t_fail "$1: popfetch took $PF_MS ms, more than ${4:-10000}"
	t_log "  $(grep -m1 -a 'error:' "$PF_ERR")"
}

err_clean() {   # NAME: stderr is 1-3 short lines of printable ASCII with one or two error lines
	python3 - "$PF_ERR" <<'PY' || t_fail "$1: stderr is not a short, clean, sanitised message"
import sys
data = open(sys.argv[1], "rb").read()
lines = data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")
errors = [l for l in lines if l.startswith(b"popfetch: error: ")]
bad = sorted({b for b in data if (b < 0x20 and b != 0x0A) or b >= 0x7F})
problems = []
if bad:
    problems.append("raw control or 8-bit bytes %s" % [hex(b) for b in bad])
if not 1 <= len(errors) <= 2 or not 1 <= len(lines) <= 3:
    problems.append(f"{len(lines)} lines with {len(errors)} error lines")
if any(len(l) > 1024 for l in lines):
    problems.append("a line longer than 1024 bytes")
for p in problems:
    print("stderr check: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

srv_ok() {   # NAME: the server saw its whole transcript (no mismatch) and has ended
	local rc=0 i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$SRV_PID" 2>/dev/null || rc=$?
	[ "$rc" = 0 ] || t_fail "$1: the server did not get the expected session (exit $rc): $(tail -n 3 "$T/$1.stderr")"
}

sent() { grep -Eq "^C: ($2)( |\$)" "$T/$1.log"; }   # NAME REGEX: the client sent such a command
never_sent() {   # NAME REGEX WHAT
	! sent "$1" "$2" || t_fail "$1: $3 ($(grep -Em3 "^C: ($2)( |\$)" "$T/$1.log" | tr '\n' '|'))"
}
no_credentials() { never_sent "$1" 'USER|PASS|AUTH|APOP' "credentials were sent"; }
no_dele() { never_sent "$1" 'DELE' "DELE was sent for messages that were not delivered"; }
no_quit() { never_sent "$1" 'QUIT' "QUIT was sent after a failure (it would commit deletions)"; }

md_is() {   # NAME FILE...: new/ and cur/ hold exactly these contents (any order), tmp/ nothing
	# A first line "X-Popfetch-UIDL: lab UID" (the origin header for --rebuild-state, src/rebuild.h)
	# is set aside before comparing; md_origins lists those UIDs.
	local name=$1
	shift
	python3 - "$T/$name.Maildir" "$@" <<'PY' || t_fail "$name: the Maildir does not hold exactly the expected messages"
import hashlib, os, re, sys
md, want = sys.argv[1], sys.argv[2:]
origin = re.compile(rb"X-Popfetch-UIDL: lab [\x21-\x7e]{1,70}\n")
def digest(path, strip):
    with open(path, "rb") as f:
        data = f.read()
    m = origin.match(data) if strip else None
    return hashlib.sha256(data[m.end():] if m else data).hexdigest()
def files(sub):
    d = os.path.join(md, sub)
    return [os.path.join(d, n) for n in os.listdir(d)] if os.path.isdir(d) else []
got = sorted(digest(p, True) for p in files("new") + files("cur"))
exp = sorted(digest(p, False) for p in want)
tmp = files("tmp")
if got != exp or tmp:
    print(f"{md}: {len(got)} delivered, {len(exp)} expected, "
          f"{len(set(got) - set(exp))} unexpected, {len(set(exp) - set(got))} missing, {len(tmp)} in tmp/",
          file=sys.stderr)
    sys.exit(1)
PY
}

md_origins() {   # NAME: the UIDs of the origin headers in new/ and cur/, sorted, one a line
	local f
	for f in "$T/$1.Maildir"/new/* "$T/$1.Maildir"/cur/*; do
		if [ -f "$f" ]; then head -n 1 "$f"; fi
	done | sed -n 's/^X-Popfetch-UIDL: lab \(.*\)$/\1/p' | LC_ALL=C sort
}

origins_are() {   # NAME UID...: the origin headers (when popfetch writes them) name exactly these UIDs
	local got want
	got=$(md_origins "$1")
	want=$(printf '%s\n' "${@:2}" | LC_ALL=C sort)
	[ -z "$got" ] || [ "$got" = "$want" ] || t_fail "$1: origin headers name '${got//$'\n'/ }', expected '${want//$'\n'/ }'"
}

expected_messages() {   # writes $T/exp-one and $T/exp-two: retr-one.pop3 and retr-two.pop3 on disk
	printf 'Subject: one\n\nbody one\n' >"$T/exp-one"
	printf 'Subject: two\n\nbody two\n' >"$T/exp-two"
}
run_rss() {   # NAME [popfetch options]: run() that also records the peak RSS (kB) in PF_RSS_KB
	local name=$1 real=$POPFETCH
	shift
	if [ -x /usr/bin/time ]; then
		printf '#!/bin/sh\nexec /usr/bin/time -f %%M -o "%s" "%s" "$@"\n' "$T/$name.rss" "$real" >"$T/$name.wrap"
	else   # without GNU time: ru_maxrss of the child (counts python3 itself before the exec, ~15 MB)
		printf '#!/bin/sh\nexec python3 -c '\''import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write("%%d\\n" %% resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)'\'' "%s" "%s" "$@"\n' "$T/$name.rss" "$real" >"$T/$name.wrap"
	fi
	chmod +x "$T/$name.wrap"
	POPFETCH=$T/$name.wrap
	run "$name" "$@"
	POPFETCH=$real
	PF_RSS_KB=$(grep -Eo '^[0-9]+$' "$T/$name.rss" | tail -n 1)
	[ -n "$PF_RSS_KB" ] || t_fail "$name: no peak RSS figure in $T/$name.rss"
	t_log "  peak RSS of popfetch: $PF_RSS_KB kB"
}
