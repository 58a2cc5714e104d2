/* dump_origin.c - see dump_origin.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump_origin.h"
#include "util.h"

/* Sections nest account { oauth2 { } }; anything deeper is skipped. */
#define ORIGIN_DEPTH_MAX 8

struct origin {
	char *account; /* NULL: the top level */
	char *block;   /* NULL, or the block inside the account ("oauth2") */
	char *key;     /* NULL: the line of `account TITLE {` itself */
	int line;
};

struct origin_map {
	struct origin *v;
	size_t n, cap;
};

enum tok { T_EOF, T_WORD, T_STR, T_LBRACE, T_RBRACE, T_EQ, T_LPAREN, T_RPAREN, T_OTHER };

struct lexer {
	const char *p, *end;
	int line;
};

struct token {
	enum tok t;
	const char *s; /* T_WORD, T_STR (without the quotes) */
	size_t len;
	int line;
};

/* --- tokens ------------------------------------------------------------- */

static void skip_to_eol(struct lexer *lx)
{
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
}

/* Whitespace and comments (#, //, slash-star), counting lines. */
static void skip_space(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == '\n')
			lx->line++;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == ';') {
			lx->p++;
		} else if (c == '#' || (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
			skip_to_eol(lx);
		} else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			for (lx->p += 2; lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/');
			     lx->p++)
				lx->line += *lx->p == '\n';
			lx->p = lx->p + 2 <= lx->end ? lx->p + 2 : lx->end;
		} else {
			return;
		}
	}
}

static void string_token(struct lexer *lx, struct token *tk)
{
	char q = *lx->p++;

	tk->t = T_STR;
	tk->s = lx->p;
	while (lx->p < lx->end && *lx->p != q) {
		if (*lx->p == '\\' && lx->p + 1 < lx->end)
			lx->p++;
		lx->line += *lx->p == '\n';
		lx->p++;
	}
	tk->len = (size_t)(lx->p - tk->s);
	if (lx->p < lx->end)
		lx->p++;
}

static void next_token(struct lexer *lx, struct token *tk)
{
	static const char punct[] = "{}=()";
	static const enum tok kinds[] = { T_LBRACE, T_RBRACE, T_EQ, T_LPAREN, T_RPAREN };
	const char *pc;

	skip_space(lx);
	tk->line = lx->line;
	tk->s = lx->p;
	tk->len = 0;
	if (lx->p >= lx->end) {
		tk->t = T_EOF;
		return;
	}
	if (*lx->p == '"' || *lx->p == '\'') {
		string_token(lx, tk);
		return;
	}
	pc = strchr(punct, *lx->p);
	if (pc != NULL && *lx->p != '\0') {
		tk->t = kinds[pc - punct];
		lx->p++;
		return;
	}
	tk->t = T_WORD;
	while (lx->p < lx->end && strchr(" \t\r\n,;{}=()\"'#", *lx->p) == NULL)
		lx->p++;
	tk->len = (size_t)(lx->p - tk->s);
	if (tk->len == 0) { /* a byte no token starts with */
		tk->t = T_OTHER;
		lx->p++;
	}
}

static void peek_token(const struct lexer *lx, struct token *tk)
{
	struct lexer copy = *lx;

	next_token(&copy, tk);
}

/* --- the map ------------------------------------------------------------ */

static char *dup_n(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static char *dup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void add(struct origin_map *m, const char *account, const char *block, const struct token *key,
		int line)
{
	struct origin *o;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		m->v = xrealloc(m->v, m->cap * sizeof *m->v);
	}
	o = &m->v[m->n++];
	o->account = dup_opt(account);
	o->block = dup_opt(block);
	o->key = key != NULL ? dup_n(key->s, key->len) : NULL;
	o->line = line;
}

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int origin_line(const struct origin_map *m, const char *account, const char *block,
		const char *key)
{
	size_t i;

	for (i = m->n; i-- > 0;) /* the last assignment wins, as in libconfuse */
		if (m->v[i].key != NULL && strcmp(m->v[i].key, key) == 0 &&
		    same(m->v[i].account, account) && same(m->v[i].block, block))
			return m->v[i].line;
	return 0;
}

int origin_account_line(const struct origin_map *m, const char *account)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->v[i].key == NULL && same(m->v[i].account, account))
			return m->v[i].line;
	return 0;
}

void origin_free(struct origin_map *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->v[i].account);
		free(m->v[i].block);
		free(m->v[i].key);
	}
	free(m->v);
	free(m);
}

/* --- the sections ------------------------------------------------------- */

struct scope {
	char *account; /* inside `account TITLE` */
	const char *block;
	int depth;
	int record;    /* a section whose keys we note */
};

static void body(struct lexer *lx, struct origin_map *m, const struct scope *sc);

/* Skips a value: one token, or a { list }. */
static void skip_value(struct lexer *lx)
{
	struct token tk;
	int depth = 0;

	do {
		next_token(lx, &tk);
		depth += (tk.t == T_LBRACE) - (tk.t == T_RBRACE);
	} while (tk.t != T_EOF && depth > 0);
}

/* `name {` or `name TITLE {`: the section's body, noted when it is an
 * account at the top or the oauth2 block of one. */
static void section(struct lexer *lx, struct origin_map *m, const struct scope *sc,
		    const struct token *name, const struct token *title)
{
	struct scope in = { .depth = sc->depth + 1 };

	if (sc->depth == 0 && title != NULL && name->len == 7 &&
	    memcmp(name->s, "account", 7) == 0) {
		in.account = dup_n(title->s, title->len);
		in.record = 1;
		add(m, in.account, NULL, NULL, name->line);
	} else if (sc->depth == 1 && sc->record && title == NULL && name->len == 6 &&
		   memcmp(name->s, "oauth2", 6) == 0) {
		in.account = sc->account;
		in.block = "oauth2";
		in.record = 1;
	}
	if (in.depth <= ORIGIN_DEPTH_MAX)
		body(lx, m, &in);
	else
		skip_value(lx);
	if (in.account != sc->account)
		free(in.account);
}

/* One statement starting with the word w. */
static void statement(struct lexer *lx, struct origin_map *m, const struct scope *sc,
		      const struct token *w)
{
	struct token a, b;

	next_token(lx, &a);
	if (a.t == T_EQ) {
		if (sc->depth == 0 || sc->record)
			add(m, sc->account, sc->block, w, w->line);
		skip_value(lx);
	} else if (a.t == T_LBRACE) {
		section(lx, m, sc, w, NULL);
	} else if (a.t == T_WORD || a.t == T_STR) {
		peek_token(lx, &b);
		if (b.t == T_LBRACE) {
			next_token(lx, &b);
			section(lx, m, sc, w, &a);
		}
	} else if (a.t == T_LPAREN) { /* include("file") and the like */
		while (a.t != T_RPAREN && a.t != T_EOF)
			next_token(lx, &a);
	}
}

static void body(struct lexer *lx, struct origin_map *m, const struct scope *sc)
{
	struct token tk;

	for (;;) {
		next_token(lx, &tk);
		if (tk.t == T_EOF || (tk.t == T_RBRACE && sc->depth > 0))
			return;
		if (tk.t == T_WORD)
			statement(lx, m, sc, &tk);
	}
}

/* --- the file ----------------------------------------------------------- */

static char *read_file(const char *path, size_t *len_r, struct pf_error *err)
{
	char *buf = xmalloc(DUMP_ORIGIN_FILE_MAX + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n = 1;

	if (fd < 0) {
		pf_error_errno(err, PF_ERR_CONFIG, errno, "cannot open %s", path);
		free(buf);
		return NULL;
	}
	while (n > 0 && len <= DUMP_ORIGIN_FILE_MAX) {
		n = read(fd, buf + len, DUMP_ORIGIN_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n > 0)
			len += (size_t)n;
	}
	close(fd);
	if (n < 0 || len > DUMP_ORIGIN_FILE_MAX) {
		pf_error_set(err, PF_ERR_CONFIG, "cannot read %s (or larger than %d bytes)", path,
			     DUMP_ORIGIN_FILE_MAX);
		free(buf);
		return NULL;
	}
	*len_r = len;
	return buf;
}

struct origin_map *origin_scan(const char *path, struct pf_error *err)
{
	struct scope top = { 0 };
	struct origin_map *m;
	struct lexer lx;
	size_t len;
	char *text = read_file(path, &len, err);

	if (text == NULL)
		return NULL;
	m = xcalloc(1, sizeof *m);
	lx = (struct lexer){ .p = text, .end = text + len, .line = 1 };
	body(&lx, m, &top);
	/* The file may hold a password: its text is not kept. */
	pf_wipe(text, len);
	free(text);
	return m;
}
