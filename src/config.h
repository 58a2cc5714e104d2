/* config.h - the configuration file (libconfuse, DESIGN.md section 5).
 *
 * config_load() reads the main file and every *.conf in the accounts.d/
 * folder beside it, applies defaults (DESIGN.md section 8), expands ~ and
 * $VARS in paths, and validates everything: unknown keys, bad values and
 * missing required keys are PF_ERR_CONFIG errors naming the file and line.
 * Every file read, and state_dir, must pass trust.h's rule for what it
 * holds (a secret, a command popfetch runs), else a PF_ERR_CONFIG_PERM
 * error names the file and the chmod or chown to run.
 * The result is plain data owned by the caller (config_free). */
#ifndef POPFETCH_CONFIG_H
#define POPFETCH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum tls_mode {
	TLS_IMPLICIT = 0, /* TLS from the first byte, port 995 */
	TLS_STARTTLS,     /* plaintext then STLS (RFC 2595), port 110 */
	TLS_NONE,         /* loopback or allow_plaintext only, port 110 */
};

enum auth_mech {
	AUTH_AUTO = 0,
	AUTH_USER,
	AUTH_PLAIN,
	AUTH_LOGIN,
	AUTH_CRAM_MD5,
	AUTH_APOP,
	AUTH_XOAUTH2,
	AUTH_OAUTHBEARER,
};

/* Where an account's mail goes: exactly one of the keys maildir, mbox, mda,
 * lmtp (DESIGN.md section 9).  delivery.c maps each to its ops. */
enum dest_kind {
	DEST_MAILDIR = 0,
	DEST_MBOX,
	DEST_MDA,
	DEST_LMTP,
};

/* DESIGN.md section 8: how `popfetch --authorize` gets the first tokens. */
enum oauth2_flow {
	OAUTH2_FLOW_DEVICE = 0, /* RFC 8628 device authorization grant */
	OAUTH2_FLOW_LOOPBACK,   /* RFC 8252 loopback redirect + PKCE (RFC 7636) */
};

/* The account's oauth2 { } block, merged with its provider preset.
 * enabled is set when a client_id is configured: popfetch then gets the
 * access token itself (oauth2.h) instead of from password or
 * password_command.  Endpoints are https:// URLs; NULL when unknown. */
struct oauth2_settings {
	int enabled;
	char *client_id;
	char *client_secret;    /* NULL: a public client (the usual desktop case) */
	char *authorization_endpoint;        /* loopback flow */
	char *device_authorization_endpoint; /* device flow */
	char *token_endpoint;
	char *scope;            /* space-separated; NULL: none sent */
	char *tls_ca_file;      /* NULL: the system store; default: the account's */
	enum oauth2_flow flow;  /* default: device when a device endpoint is known */
};

struct account {
	char *name;             /* the section title: [A-Za-z0-9][A-Za-z0-9._@+-]{0,63} */
	char *source_file;      /* file that defined it, for messages */
	char *host;
	char *port;             /* as text for getaddrinfo; default from tls */
	enum tls_mode tls;
	int allow_plaintext;
	char *tls_ca_file;      /* NULL: system store */
	char *tls_ca_dir;
	char *tls_fingerprint;  /* NULL: verify chain and name */
	int tls_min_version;    /* 0 or an OpenSSL TLS1_x_VERSION */
	char *tls_cert_file;
	char *tls_key_file;
	int timeout;            /* seconds, default 300 */
	unsigned long min_rate; /* bytes/s a body or listing averages after timeout s */
	char *user;
	char *password;         /* secret; NULL when unset */
	char *password_command; /* run with /bin/sh -c; NULL when unset */
	enum auth_mech auth;
	enum dest_kind dest;    /* which one of the four below is set */
	char *maildir;          /* expanded */
	char *mbox;             /* expanded */
	char *mda;              /* a command for /bin/sh -c */
	char *lmtp;             /* "unix:PATH" or "HOST:PORT" */
	char *lmtp_recipient;   /* RCPT TO for lmtp */
	char *post_command;     /* run after a poll that delivered; NULL: none */
	int mda_timeout;        /* seconds */
	int mda_from_line;      /* 1: an mbox "From " line before the message */
	int mbox_lock_timeout;  /* seconds to wait for the mbox locks */
	int keep;               /* 1: leave on server */
	int delete_after;       /* days, with keep; 0: never */
	uint64_t max_size;      /* bytes; 0: no limit beyond PF_MSG_HARD_MAX */
	unsigned long fetch_limit; /* 0: all */
	int poll_interval;      /* seconds; 0: the global one */
	char *provider;         /* preset name (provider.h), as written; NULL when unset */
	struct oauth2_settings oauth2;
};

struct config {
	char *path;             /* the main file */
	char *state_dir;        /* expanded; default $XDG_STATE_HOME/popfetch */
	int poll_interval;      /* default 300 */
	int jobs;               /* default 4 */
	char *post_command;     /* the global one; accounts without their own get a copy */
	struct account *accounts;
	size_t naccounts;
};

/* Loads path (NULL: $XDG_CONFIG_HOME/popfetch/config, else
 * ~/.config/popfetch/config).  Returns 0 with *cfg_r set, or -1. */
int config_load(const char *path, struct config **cfg_r, struct pf_error *err) PF_MUST_CHECK;

/* Frees everything, wiping passwords.  NULL is fine. */
void config_free(struct config *cfg);

/* The account called name, or NULL. */
const struct account *config_find(const struct config *cfg, const char *name);

/* The default path config_load uses for NULL, in a new string. */
char *config_default_path(void);

#endif
