#!/usr/bin/env bash
# trust: one rule for every file popfetch trusts (issue 12 item 5, DESIGN.md section 3, src/trust.h).
# A config or accounts.d file that can make popfetch run a command, ~/.netrc and state_dir are
# trusted only when owned by the user (or root) and not writable by group or others; a file holding
# a secret (password, oauth2 client_secret) must not be readable by them either. Each refusal is
# exit 6 with the file and the fix named, runs no command, and touches no mail: every case runs in
# delete mode against a lab mailbox of N messages that must still hold all N afterwards.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init trust

N=5
U=${LAB_RUN_AS:-popfetchlab}
lab_start
lab_mkmail --count $N --seed 12 --manifest "$T/manifest"

conf() {   # NAME [key=value ...]: $T/NAME.conf in delete mode, with its own state and Maildir
	local name=$1
	shift
	pf_config "$T/$name.conf" keep=false state_dir="$T/$name.state" maildir="$T/$name.Maildir" "$@"
}

refused() {   # NAME REGEX [CONFIG]: running CONFIG ($T/NAME.conf) exits 6 with REGEX on stderr; no mail
	# moved, no command ran
	local name=$1 re=$2 file=${3:-$T/$1.conf}
	rm -f "$T/ran"
	pf_run "$name" -f "$file"
	pf_expect_rc 6 "$name"
	pf_expect_err "$re" "$name"
	t_log "  stderr: $(head -n 2 "$PF_ERR" | tr '\n' '|')"
	[ ! -e "$T/ran" ] || t_fail "$name: popfetch ran a command from a file it must not trust"
	! grep -Fq -- 'S3cr3t-' "$PF_ERR" "$PF_OUT" || t_fail "$name: a secret appears in the output"
	[ "$(lab_count)" = $N ] || t_fail "$name: the server has $(lab_count) messages left, expected $N"
	[ "$(md_count "$T/$name.Maildir")" = 0 ] || t_fail "$name: messages were delivered"
}

# A password_command that leaves a mark, so a refusal can prove it never ran.
CMD="touch $T/ran; echo wonderland"

# --- oauth2 client_secret in a file readable by others (accepted before this change)
conf cs password=- auth=xoauth2
sed -i '$d' "$T/cs.conf"
cat >>"$T/cs.conf" <<'CONF'
    oauth2 {
        client_id = "popfetch-test"
        client_secret = "S3cr3t-client"
        token_endpoint = "https://127.0.0.1:1/token"
        device_authorization_endpoint = "https://127.0.0.1:1/device"
    }
}
CONF
chmod 0644 "$T/cs.conf"
refused cs "cs\\.conf holds an OAuth2 client_secret.*chmod 600 $T/cs\\.conf"
chmod 0600 "$T/cs.conf"
pf_run cs-private -f "$T/cs.conf"
[ "$PF_RC" != 6 ] || t_fail "cs-private: a private file with a client_secret was refused"
pf_expect_err '--authorize' cs-private      # it got past the config to the missing token

# --- a password in a group-readable file, as before
conf pw
chmod 0640 "$T/pw.conf"
refused pw "pw\\.conf holds a password.*chmod 600"

# --- a config others can write: they could change the command popfetch runs
conf gw password=- password_command="$CMD"
chmod 0664 "$T/gw.conf"
refused gw "gw\\.conf is writable by group or others.*chmod go-w"
chmod 0602 "$T/gw.conf"
refused gw "chmod go-w"

# --- a config owned by another user (root excepted)
conf owned password=- password_command="$CMD"
chown "$U" "$T/owned.conf"
refused owned "owned\\.conf is owned by uid $(id -u "$U")"

# --- an accounts.d file with a password_command that others can write; the main file is fine
mkdir -p "$T/ad/accounts.d"
printf 'state_dir = "%s"\n' "$T/ad.state" >"$T/ad/config"
chmod 0644 "$T/ad/config"
pf_config "$T/ad/accounts.d/lab.conf" keep=false maildir="$T/ad.Maildir" password=- \
	password_command="$CMD"
sed -i '1d' "$T/ad/accounts.d/lab.conf"          # state_dir belongs to the main file
chmod 0666 "$T/ad/accounts.d/lab.conf"
refused ad "accounts\\.d/lab\\.conf is writable by group or others" "$T/ad/config"
chmod 0600 "$T/ad/accounts.d/lab.conf"
chmod 0666 "$T/ad/config"                        # the main file: always, command or not
refused ad "ad/config is writable by group or others" "$T/ad/config"

# --- state_dir others can write: its uid store decides what is deleted
conf st
mkdir -m 0777 "$T/st.state"
chmod 0777 "$T/st.state"
refused st "st\\.state is writable by group or others"
chmod 01777 "$T/st.state"
refused st "only you can write to"

# --- ~/.netrc others can write, or owned by someone else (ftp(1) and curl refuse the same)
conf netrc password=-
printf 'machine 127.0.0.1 login alice password wonderland\n' >"$T/.netrc"
chmod 0600 "$T/.netrc"
chown "$U" "$T/.netrc"
HOME=$T refused netrc "\\.netrc is owned by uid"
chown 0 "$T/.netrc"
chmod 0622 "$T/.netrc"
HOME=$T refused netrc "\\.netrc holds passwords.*chmod 600"

# --- "or root": run as an unprivileged user, a config root owns (0644, no secret in it) is trusted,
# and the same file owned by another unprivileged user is not
conf rootcfg keep=true password=- password_command="echo wonderland"
chmod 0644 "$T/rootcfg.conf"
mkdir -p "$T/rootcfg.state" "$T/rootcfg.Maildir"
chown "$U" "$T/rootcfg.state" "$T/rootcfg.Maildir"
PF_AS_USER=$U pf_run rootcfg -f "$T/rootcfg.conf"
pf_expect_rc 0 "as $U, a config owned by root"
pf_verify "$T/manifest" "$T/rootcfg.Maildir"
chown nobody "$T/rootcfg.conf"
PF_AS_USER=$U pf_run rootcfg-nobody -f "$T/rootcfg.conf"
pf_expect_rc 6 "as $U, a config owned by nobody"
pf_expect_err "rootcfg\\.conf is owned by uid $(id -u nobody)" rootcfg-nobody

# --- the same files, fixed, fetch everything: the refusals were about the files alone
chmod 0600 "$T/.netrc"
HOME=$T pf_run netrc-ok -f "$T/netrc.conf"
pf_expect_rc 0 "netrc-ok"
pf_verify "$T/manifest" "$T/netrc.Maildir"
[ "$(lab_count)" = 0 ] || t_fail "netrc-ok: $(lab_count) messages left on the server"
t_log "PASS"
