#!/usr/bin/env bash
# dump: `popfetch --dump [ACCOUNT]` prints the effective configuration (main file and accounts.d,
# presets and defaults applied), each value with its origin: FILE:LINE for what a file sets (the
# right line, also past comments that mention the key), "preset NAME" for what a provider preset
# fills in, "default" otherwise; a value the file overrides shows the file, not the preset;
# password and client_secret are masked and appear nowhere in the output.  The output is a
# configuration itself: loaded again, it gives the same values.  Needs no server.
set -euo pipefail
export LC_ALL=C
TESTLIB=${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}
POPFETCH=${POPFETCH:-$TESTLIB/../../src/popfetch}
T=$(mktemp -d /tmp/popfetch-dump.XXXXXX)
trap 'rc=$?; if [ $rc = 0 ]; then rm -rf "$T"; else echo "kept $T" >&2; fi' EXIT
fail() { echo "[dump] FAIL: $*" >&2; [ -f "$T/out" ] && cat "$T/out" >&2; exit 1; }
log() { echo "[dump] $*"; }

mkdir -p "$T/cfg/accounts.d"
C=$T/cfg/config G=$T/cfg/accounts.d/gmail.conf
cat >"$C" <<EOF
# host = "not.this.one" (a comment)
state_dir = "$T/state"
/* a comment over
   two lines: timeout = 1 */
poll_interval = 600
post_command = "true"

account pipe {
    host = "pop.example.net"
    user = "p"
    password = "pw-pipe-secret"
    mda = "cat >/dev/null"
}

account work {
    host = "pop.example.com"   # the server
    user = "me"
    password = "hunter2-secret"
    maildir = "$T/Mail"
    keep = true
}
EOF
cat >"$G" <<EOF
account "gm" {
    provider = "gmail"
    user = "me@gmail.com"
    // timeout = 5 in a comment
    timeout = 120
    maildir = "$T/G"
    oauth2 {
        client_id = "abc.apps.googleusercontent.com"
        client_secret = "s3cr3t-client"
    }
}
EOF
chmod 600 "$C" "$G"
line() { grep -n -- "$2" "$1" | grep -v '^[0-9]*:[[:space:]]*\(#\|//\)' | head -n 1 | cut -d: -f1; }

"$POPFETCH" -f "$C" --dump >"$T/out" 2>"$T/err" || fail "--dump exited $? ($(cat "$T/err"))"
has() {   # KEY VALUE ORIGIN: a line "KEY = VALUE ... # ORIGIN" (fixed strings)
	grep -E "^ *$1 = " "$T/out" | grep -qF -- "$1 = $2" &&
		grep -E "^ *$1 = " "$T/out" | grep -F -- "$1 = $2" | grep -qE -- "# $(printf '%s' "$3" | sed 's/[.[\*^$()+?{|]/\\&/g')\$" ||
		fail "no line '$1 = $2  # $3'"
	log "$1 = $2  # $3"
}
# files, with the right lines
has state_dir "\"$T/state\"" "$C:$(line "$C" '^state_dir')"
has poll_interval 600 "$C:$(line "$C" '^poll_interval')"
has host '"pop.example.com"' "$C:$(line "$C" 'host = "pop.example.com"')"
has keep true "$C:$(line "$C" 'keep = true')"
grep -qE "^account work \{ +# $C:$(line "$C" '^account work')\$" "$T/out" || fail "account work's line"
grep -qE "^account gm \{ +# $G:1\$" "$T/out" || fail "account gm's file and line (accounts.d)"
# defaults, the destination's own keys only, the global post_command
has jobs 4 default
sed -n '/^account pipe /,/^}/p' "$T/out" >"$T/pipe"
grep -qE '^    mda_timeout = [0-9]+ +# default$' "$T/pipe" || fail "account pipe: no mda_timeout default"
! grep -q 'mbox_lock_timeout\|maildir' "$T/pipe" || fail "account pipe shows another destination's keys"
grep -qE '^    post_command = "true" +# the global post_command$' "$T/pipe" || fail "account pipe: post_command"
has post_command '"true"' "$C:$(line "$C" '^post_command')"
has port 995 "default for tls = implicit"
has tls implicit default
# a preset's values, and one the file overrides (gmail's preset says timeout = 300)
has host '"pop.gmail.com"' "preset gmail"
has auth xoauth2 "preset gmail"
has token_endpoint '"https://oauth2.googleapis.com/token"' "preset gmail"
has timeout 120 "$G:$(line "$G" 'timeout = 120')"
! sed -n '/^account gm /,/^}/p' "$T/out" | grep -q 'timeout = 300' || fail "the preset's timeout shows though the file overrides it"
has client_id '"abc.apps.googleusercontent.com"' "$G:$(line "$G" 'client_id')"
# secrets masked
has password '"********"' "$C:$(line "$C" 'password =')"', masked'
has client_secret '"********"' "$G:$(line "$G" 'client_secret')"', masked'
! grep -q 'hunter2\|s3cr3t\|pw-pipe' "$T/out" "$T/err" || fail "a secret reached the output"

# one account
"$POPFETCH" -f "$C" --dump gm >"$T/out" 2>"$T/err" || fail "--dump gm exited $?"
grep -q '^account gm {' "$T/out" && ! grep -q '^account work' "$T/out" || fail "--dump gm shows other accounts"
rc=0
"$POPFETCH" -f "$C" --dump nosuch >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 5 ] && grep -q "no account 'nosuch'" "$T/err" || fail "--dump nosuch: exit $rc, $(cat "$T/err")"

# the output is a configuration that loads to the same values
"$POPFETCH" -f "$C" --dump >"$T/out" 2>/dev/null
mkdir -p "$T/again"
cp "$T/out" "$T/again/config"
chmod 600 "$T/again/config"
"$POPFETCH" -f "$T/again/config" --dump >"$T/out2" 2>"$T/err" || fail "the dump does not load as a config: $(cat "$T/err")"
values() { sed -e 's/ *# .*$//' -e '/^#/d' "$1"; }
diff <(values "$T/out") <(values "$T/out2") >"$T/diff" || fail "values differ when the dump is loaded again: $(cat "$T/diff")"
grep -q "# $T/again/config:" "$T/out2" || fail "the reloaded dump names no lines of its file"
log "dump: ok"
