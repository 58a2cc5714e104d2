#!/usr/bin/env bash
# add_account: popfetch --add-account without a terminal (--non-interactive) against the lab
# Dovecot. A missing answer exits 5 naming its option; a refused login exits 3 and writes nothing;
# a good one creates the default config (0600, folder 0700) that then fetches in keep mode; a second
# account is appended (the first keeps working), a third goes to accounts.d/ when it exists. The
# password comes from stdin and never shows in output.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init add_account

lab_start
lab_mkmail --count 5 --seed 7 --manifest "$T/manifest"

# The default config path, so this also tests that it and its folder are created.
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_STATE_HOME=$T/home/.local/state
mkdir -p "$HOME"
cfgdir=$XDG_CONFIG_HOME/popfetch cfg=$XDG_CONFIG_HOME/popfetch/config
lab=(--provider none --host 127.0.0.1 --tls-ca-file "$LAB_CAFILE" --user alice --non-interactive)
tls=(--port "$LAB_PORT_TLS" --tls implicit)

no_leftovers() {   # CONTEXT: no temporary file of a setup is left in the config folder
	! find "$cfgdir" -name '.popfetch-new.*' 2>/dev/null | grep -q . ||
		t_fail "$1: a temporary file was left in $cfgdir"
}

# 1. Answers that cannot be guessed unattended are errors naming their option.
pf_run no-keep --add-account alice@lab.test "${lab[@]}" "${tls[@]}" --password-stdin <<<"wonderland"
pf_expect_rc 5 "no --keep/--no-keep with --non-interactive"
pf_expect_err -- "--keep or --no-keep" "missing keep answer"
pf_run no-secret --add-account alice@lab.test "${lab[@]}" "${tls[@]}" --keep </dev/null
pf_expect_rc 5 "no password source"
pf_expect_err -- "--password-stdin, --password-command CMD or --oauth2" "missing password source"
pf_run no-host --add-account alice@lab.test --provider none --keep --non-interactive \
	--password-stdin <<<"wonderland"
pf_expect_rc 5 "no --host for a domain without a preset"
pf_expect_err -- "give --host" "missing host"
pf_run icloud --add-account someone@icloud.com --keep --non-interactive --password-stdin <<<"x"
pf_expect_rc 5 "iCloud offers no POP3"
pf_expect_err "IMAP only" "iCloud note"
pf_run stray --maildir "$T/x"
pf_expect_rc 5 "--maildir without --add-account"
[ ! -e "$cfg" ] || t_fail "a failed --add-account wrote $cfg"

# 2. A refused login (wrong password): exit 3, nothing written.
pf_run wrong --add-account alice@lab.test "${lab[@]}" "${tls[@]}" --keep --password-stdin \
	<<<"not-the-password"
pf_expect_rc 3 "connection test with a wrong password"
pf_expect_err "connection test failed, nothing was written" "wrong password"
[ ! -e "$cfg" ] || t_fail "the failed connection test left $cfg"
no_leftovers "wrong password"

# 3. The real password from stdin: config created, tested, and it fetches.
pf_run add --add-account alice@lab.test "${lab[@]}" "${tls[@]}" --keep --password-stdin \
	--maildir "$T/Maildir" <<<"wonderland"
pf_expect_rc 0 "--add-account with --password-stdin"
grep -q "Logged in: 5 messages on the server" "$PF_OUT" || t_fail "no connection test report"
grep -q "Added account alice to $cfg" "$PF_OUT" || t_fail "no 'Added account alice' line"
t_no_secret "--add-account --password-stdin output" wonderland "$PF_OUT" "$PF_ERR"
[ "$(stat -c %a "$cfg")" = 600 ] || t_fail "config mode $(stat -c %a "$cfg"), expected 600"
[ "$(stat -c %a "$cfgdir")" = 700 ] || t_fail "config folder mode $(stat -c %a "$cfgdir"), expected 700"
grep -q '^    password = "wonderland"$' "$cfg" || t_fail "the password is not in the config"
[ "$(md_count "$T/Maildir")" = 0 ] || t_fail "the connection test fetched messages"
[ ! -e "$XDG_STATE_HOME/popfetch/alice.uids" ] || t_fail "the connection test created state"
no_leftovers "add"

pf_run fetch
pf_expect_rc 0 "first poll with the written config"
pf_verify "$T/manifest" "$T/Maildir" --strict-tmp
[ "$(lab_count)" = 5 ] || t_fail "keep = true: the server has $(lab_count) messages, expected 5"

# 4. A second account (STARTTLS, password_command, delete mode) is appended with a unique name;
#    a refused login first leaves the existing config byte for byte as it was.
cp "$cfg" "$T/config.before"
pf_run wrong2 --add-account alice@lab.test "${lab[@]}" --port "$LAB_PORT_PLAIN" --tls starttls \
	--no-keep --password-command "printf nope"
pf_expect_rc 3 "wrong password_command"
cmp -s "$cfg" "$T/config.before" || t_fail "a failed --add-account changed $cfg"
no_leftovers "wrong password_command"
pf_run add2 --add-account alice@lab.test "${lab[@]}" --port "$LAB_PORT_PLAIN" --tls starttls \
	--no-keep --password-command "printf wonderland" --maildir "$T/Maildir2"
pf_expect_rc 0 "second --add-account"
grep -q "Added account alice-2 to $cfg" "$PF_OUT" || t_fail "the second account is not alice-2"
[ "$(grep -c '^account ' "$cfg")" = 2 ] || t_fail "the config does not hold two accounts"
head -c "$(stat -c %s "$T/config.before")" "$cfg" | cmp -s - "$T/config.before" ||
	t_fail "the first account's text changed"
pf_run check2 -c alice-2
pf_expect_rc 0 "--check of the second account (5 new for it)"
pf_run again alice
pf_expect_rc 1 "the first account still polls (nothing new)"

# 5. With accounts.d/ beside the config, the new account gets its own file there.
mkdir -m 700 "$cfgdir/accounts.d"
pf_run add3 --add-account alice@lab.test "${lab[@]}" "${tls[@]}" --keep --name lab3 \
	--password-stdin --maildir "$T/Maildir3" <<<"wonderland"
pf_expect_rc 0 "--add-account into accounts.d"
[ "$(stat -c %a "$cfgdir/accounts.d/lab3.conf")" = 600 ] || t_fail "accounts.d/lab3.conf is not 0600"
cmp -s <(head -c "$(stat -c %s "$T/config.before")" "$cfg") "$T/config.before" ||
	t_fail "the main config changed"
pf_run check3 -c lab3
pf_expect_rc 0 "--check of the accounts.d account"
pf_run dup --add-account alice@lab.test "${lab[@]}" "${tls[@]}" --keep --name lab3 \
	--password-stdin <<<"wonderland"
pf_expect_rc 5 "--name of an existing account"
pf_expect_err "exists already" "duplicate --name"
t_log "PASS"
