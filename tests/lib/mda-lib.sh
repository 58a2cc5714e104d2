# mda-lib.sh - helpers for the MDA, LMTP and post_command tests (sourced after common.sh).
#
#   mda_split_manifest MANIFEST WORD MATCH REST
#       splits a mkmail manifest by the messages' Subject in the lab's server mailbox (read
#       before they are fetched): those whose Subject contains WORD go to MATCH, the rest to REST,
#       so pf_verify can check that each message landed exactly once in the folder a rule names.
#   lab_start_at DIR [VAR=value ...]
#       a further lab Dovecot in DIR (stopped by the EXIT trap), started with the given
#       environment (LAB_LMTP=1 for an LMTP destination); sets DEST_* from its env.
#   mda_check_dump DUMPDIR SECRET
#       what tests/lib/mda-store recorded with MDA_DUMP: SECRET appears in no environment, argv or
#       stdin, only the documented POPFETCH_* variables and harmless ones are set, and no
#       descriptor but stdin/stderr pipes, /dev/null and the MDA's own files is open.

mda_split_manifest() {   # MANIFEST WORD MATCH REST
	python3 - "$1" "$2" "$3" "$4" "$LAB_MAILDIR" <<'PY' || t_fail "cannot split the manifest $1"
import json, os, sys
man, word, match, rest, md = sys.argv[1:6]
n = {match: 0, rest: 0}
with open(man) as f, open(match, "w") as fm, open(rest, "w") as fr:
    for line in f:
        if not line.strip():
            continue
        m = json.loads(line)
        subject = b""
        with open(os.path.join(md, "new", m["name"]), "rb") as g:
            for h in g:
                if h in (b"\n", b"\r\n"):
                    break
                if h.lower().startswith(b"subject:"):
                    subject = h
        out = fm if word.encode() in subject else fr
        out.write(line)
        n[match if out is fm else rest] += 1
print(f"{n[match]} messages with '{word}' in the Subject, {n[rest]} without")
PY
}

lab_start_at() {   # DIR [VAR=value ...]
	local dir=$1 try rc pt pp
	shift
	for try in 1 2 3 4 5; do
		rc=0 pt=$(t_free_port) pp=$(t_free_port)
		[ "$pt" != "$pp" ] || continue
		env "$@" PORT_TLS="$pt" PORT_PLAIN="$pp" "$TESTLIB/lab-dovecot" start "$dir" \
			>"$dir.start.log" 2>&1 || rc=$?
		[ "$rc" = 0 ] && break
		"$TESTLIB/lab-dovecot" stop "$dir" >/dev/null 2>&1 || true
	done
	[ "$rc" = 0 ] || { cat "$dir.start.log" >&2; t_fail "the lab Dovecot in $dir did not start"; }
	T_LABS+=("$dir")
	eval "$("$TESTLIB/lab-dovecot" env "$dir" --prefix DEST_)"
}

mda_check_dump() {   # DUMPDIR SECRET
	local dump=$1 secret=$2 f n=0 script
	script=$(cd "$TESTLIB" && pwd -P)/mda-store
	for f in "$dump"/*.env; do
		[ -e "$f" ] || t_fail "the test MDA left no dump in $dump"
		n=$((n + 1))
	done
	! grep -rl -- "$secret" "$dump" >/dev/null || t_fail "the secret reached the MDA: $(grep -rl -- "$secret" "$dump")"
	# The environment: the documented variables, the harmless ones child.h lets through, and
	# MDA_* that the mda command line itself sets.
	if grep -hvE '^(MDA_[A-Z]+|POPFETCH_(ACCOUNT|UID|SENDER|SIZE)|PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z_]+|TZ|TMPDIR|XDG_[A-Z_]+|PWD|OLDPWD|SHLVL|_)=' \
		"$dump"/*.env >"$dump.unexpected-env"; then
		t_fail "the MDA's environment has variables popfetch should not pass: $(head -n 3 "$dump.unexpected-env" | tr '\n' ' ')"
	fi
	grep -q '^POPFETCH_ACCOUNT=' "$dump"/*.env || t_fail "POPFETCH_ACCOUNT was not passed"
	# Descriptors: 0 is the message (an unnamed file popfetch made, or a pipe), 1 is /dev/null,
	# 2 a pipe; the shell running mda-store may hold the script, a saved /dev/null and the
	# dump file it writes. Nothing else: no socket, no uid store, no lock, no spool.
	if sed -n 's/^.* \([0-9][0-9]*\) -> \(.*\)$/\1 \2/p' "$dump"/*.fds |
		grep -vE "^(0 (pipe:\[[0-9]+\]|/.*/#[0-9]+ \(deleted\))|[0-9]+ pipe:\[[0-9]+\]|[0-9]+ /dev/null|[0-9]+ $script|[0-9]+ $dump/[0-9]+\.fds)$" \
		>"$dump.unexpected-fds"; then
		t_fail "the MDA inherited descriptors: $(head -n 5 "$dump.unexpected-fds" | tr '\n' ' ')"
	fi
	t_log "$n MDA runs: no secret in their environment, argv or stdin; no inherited descriptor"
}
