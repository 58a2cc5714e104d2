#!/usr/bin/env bash
# completion: the bash completion (contrib/completion/popfetch) completes options (read from
# --help) and account names from the configuration: the default one, accounts.d/*.conf beside it,
# and the file -f names; option values (--log, --tls) too.  The zsh one (contrib/completion/_popfetch)
# is driven for real in zsh: options, and account names for --serverinfo and as operands.
set -euo pipefail
export LC_ALL=C
TESTLIB=${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}
POPFETCH=${POPFETCH:-$TESTLIB/../../src/popfetch}
srcdir=$(cd "$TESTLIB/../.." && pwd -P)
T=$(mktemp -d /tmp/popfetch-completion.XXXXXX)
trap 'rc=$?; if [ $rc = 0 ]; then rm -rf "$T"; else echo "kept $T" >&2; fi' EXIT
fail() { echo "[completion] FAIL: $*" >&2; exit 1; }

export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config
mkdir -p "$XDG_CONFIG_HOME/popfetch/accounts.d" "$T/other"
cat >"$XDG_CONFIG_HOME/popfetch/config" <<'CFG'
state_dir = "~/state"
# account commented {
account work {
    host = "pop.example.com"
}
  account "home.mail" {
    host = "pop.example.org"
}
CFG
printf 'account gmail-me {\n  provider = "gmail"\n}\n' >"$XDG_CONFIG_HOME/popfetch/accounts.d/g.conf"
printf 'account elsewhere {\n  host = "x"\n}\n' >"$T/other/config"

# shellcheck source=/dev/null
. "$srcdir/contrib/completion/popfetch"
complete -p popfetch | grep -q -- '-F _popfetch popfetch' || fail "complete -p popfetch: $(complete -p popfetch)"

comp() {   # WORDS...: completes the last word; prints the candidates sorted, one a line
	COMP_WORDS=("$POPFETCH" "$@")
	COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	_popfetch
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
expect() {   # WANT GOT CONTEXT
	[ "$1" = "$2" ] || fail "$3: expected [$(echo "$1" | tr '\n' ' ')], got [$(echo "$2" | tr '\n' ' ')]"
	echo "[completion] $3: $(echo "$2" | tr '\n' ' ')"
}

expect "$(printf '%s\n' gmail-me home.mail work)" "$(comp '')" "accounts of the default config and accounts.d"
expect "$(printf '%s\n' home.mail)" "$(comp h)" "account prefix"
expect "$(printf '%s\n' work)" "$(comp -k w)" "account after an option"
expect "$(printf '%s\n' work)" "$(comp --authorize w)" "account after --authorize"
expect "$(printf '%s\n' elsewhere)" "$(comp -f "$T/other/config" '')" "accounts of the -f config"
expect "$(printf '%s\n' elsewhere)" "$(comp --config="$T/other/config" e)" "accounts of --config=FILE"
expect "$(printf '%s\n' --rebind-state --rebuild-state --retry-now)" "$(comp --re)" "long options"
expect "$(printf '%s\n' --authorize)" "$(comp --autho)" "one long option"
expect "$(printf '%s\n' -K -k)" "$(comp - | grep -x -- "-[kK]")" "short options"
all=$(comp --)
for o in --config --daemon --keep --no-keep --check --limit --jobs --verbose --quiet --version --help \
	--log --add-account --authorize --token --serverinfo --login --status --json --dump \
	--rebind-state --fresh-state; do
	grep -qx -- "$o" <<<"$all" || fail "$o is not completed (got: $(echo "$all" | tr '\n' ' '))"
done
expect "$(printf '%s\n' stderr syslog)" "$(comp --log '')" "--log values"
expect "$(printf '%s\n' starttls)" "$(comp --add-account --tls st)" "--tls values"

# zsh: the real completion system, driven on a pseudo-terminal (zsh/zpty): an interactive
# `zsh -f` loads _popfetch from contrib/completion through compinit, a line is typed with a TAB,
# and a compadd wrapper prints every match the completion functions offer (compadd -A applies the
# same matching as the real insertion would).  Bounded in time: a hung shell is a failure.
cat >"$T/zsh-setup.zsh" <<'ZSH'
PS1= PROMPT= RPROMPT= PROMPT_EOL_MARK=
fpath=("$PF_COMPDIR" $fpath)
autoload -U compinit && compinit -u -D
bindkey '^I' complete-word
pf_begin() { print -r -- POPFETCH-BEGIN }
pf_end() { print -r -- POPFETCH-END; exit 0 }
compprefuncs=(pf_begin) comppostfuncs=(pf_end)
compadd() {
	# Calls that only compute matches into a parameter (-O -A -D) are internal: pass them on.
	if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
	local -a pf_hits
	builtin compadd -A pf_hits "$@"
	(( $#pf_hits )) && print -rl -- "match:"${^pf_hits}
	builtin compadd "$@"
}
print -r -- POPFETCH-"READY"
ZSH
cat >"$T/zsh-drive.zsh" <<'ZSH'
# zsh-drive.zsh SETUP LINE: types LINE and a TAB into an interactive zsh; prints the match lines
zmodload zsh/zpty || { print -u2 "no zsh/zpty module"; exit 3 }
zpty z zsh -f -i || exit 3
zpty -w z "source ${(q)1}"
local line ready=0 out=0
while zpty -r z line; do
	[[ $line == *POPFETCH-READY* ]] && { ready=1; break }
done
(( ready )) || { print -u2 "the zsh setup did not finish"; exit 4 }
zpty -w -n z "$2"$'\t'
while zpty -r z line; do
	line=${${line//$'\r'/}%$'\n'}
	[[ $line == *POPFETCH-END* ]] && { out=2; break }
	(( out )) && print -r -- "$line"
	[[ $line == *POPFETCH-BEGIN* ]] && out=1
done
zpty -d z
(( out == 2 )) || { print -u2 "no completion ran"; exit 5 }
ZSH
zcomp() {   # LINE: completes at its end in zsh; prints the matches sorted, one a line
	local got
	got=$(PF_COMPDIR="$srcdir/contrib/completion" timeout 30 zsh -f "$T/zsh-drive.zsh" "$T/zsh-setup.zsh" "$1") ||
		fail "zsh: completing [$1] failed or timed out (exit $?)"
	sed -n 's/^match://p' <<<"$got" | sort -u
}
if command -v zsh >/dev/null; then
	zsh -n "$srcdir/contrib/completion/_popfetch" || fail "zsh: syntax error in _popfetch"
	got=$(zcomp 'popfetch --ser')
	grep -qx -- --serverinfo <<<"$got" || fail "zsh: --ser does not offer --serverinfo (got: $(echo "$got" | tr '\n' ' '))"
	echo "[completion] zsh: --ser: $(echo "$got" | tr '\n' ' ')"
	expect "$(printf '%s\n' gmail-me home.mail work)" "$(zcomp 'popfetch --serverinfo ')" \
		"zsh: --serverinfo accounts of the default config and accounts.d"
	expect "$(printf '%s\n' gmail-me home.mail work)" "$(zcomp 'popfetch --serverinfo=')" \
		"zsh: --serverinfo= accounts"
	expect "$(printf '%s\n' home.mail)" "$(zcomp 'popfetch --serverinfo=h')" "zsh: account prefix"
	expect "$(printf '%s\n' elsewhere)" "$(zcomp "popfetch -f $T/other/config --serverinfo ")" \
		"zsh: --serverinfo accounts of the -f config"
	expect "$(printf '%s\n' elsewhere)" "$(zcomp "popfetch --config=$T/other/config -k ")" \
		"zsh: accounts of --config=FILE"
elif [ "${POPFETCH_REQUIRE_INTEGRATION:-0}" = 1 ]; then
	fail "zsh is not installed, and POPFETCH_REQUIRE_INTEGRATION=1 forbids skipping the zsh completion"
else
	echo "[completion] SKIP (zsh part): zsh is not installed: _popfetch not driven"
fi
echo "[completion] completion: ok"
