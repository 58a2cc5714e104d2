#!/usr/bin/env bash
# hostile_flood: a message that never ends, with max_size = 1000000 (DESIGN.md section 8: a body
# "fails when it grows past max_size"). The server streams the body of message 1 until the
# client gives up; LIST said 100 octets, so max_size cannot skip it before RETR. The run must end
# by itself with an error (or a reported skip) in bounded time and memory, delivering and
# deleting nothing. hostile.sh covers the same server without max_size (the 1 GiB hard cap).
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init hostile_flood

. "$TESTLIB/script-tests.sh"

RSS_LIMIT_KB=$((100 * 1024))
serve flood hostile-flood.pop3
conf flood max_size=1000000
PF_TIMEOUT=40 run_rss flood
case $PF_RC in
1) grep -Eq '[Ss]kip' "$PF_ERR" || t_fail "flood: exit 1 without reporting the skipped message";;
2|4) expect_fail flood "$PF_RC" 'max_size|larger|size|bytes' 40000;;
*) t_fail "flood: popfetch exited $PF_RC, expected an error (4, 2) or a reported skip (1)";;
esac
[ "$PF_RSS_KB" -lt "$RSS_LIMIT_KB" ] || t_fail "flood: peak RSS $PF_RSS_KB kB (limit $RSS_LIMIT_KB kB)"
never_sent flood 'RETR 2' "message 2 was fetched after the message that never ends"
no_dele flood
md_is flood
t_log "PASS"
