/* config_int.h - internal to the config module: what its files share.
 * config.c loads files, config_opts.c is the grammar (option tables and
 * per-option validate callbacks), config_check.c the checks across an
 * account's keys, config_build.c turns parsed sections into struct config.
 * Nothing outside src/config*.c includes this. */
#ifndef POPFETCH_CONFIG_INT_H
#define POPFETCH_CONFIG_INT_H

#include <confuse.h>

#include "config.h"
#include "error.h"

#define CONFIG_TIMEOUT_DEFAULT 300    /* DESIGN.md section 8 */
/* How long an MDA may run, and how long to wait for an mbox's locks
 * (popfetch.conf(5)). */
#define CONFIG_MDA_TIMEOUT_DEFAULT 300
#define CONFIG_MBOX_LOCK_TIMEOUT_DEFAULT 60
/* Account names become file names: DESIGN.md section 8. */
#define CONFIG_NAME_MAX 64

/* A new libconfuse parser for the whole grammar with every validate
 * callback installed; main_file: the global options are allowed (else
 * they are errors, as in accounts.d files).  NULL when out of memory. */
cfg_t *config_parser_new(int main_file);

/* Whether the accounts parsed into cfg set a key that needs the file
 * to be trusted (trust.h): a command popfetch runs or a secret.  1 or 0;
 * *secret_r: what the first secret is, for trust_check(), NULL when the
 * file holds none. */
int config_trust_needs(cfg_t *cfg, const char **secret_r);

/* Overwrites every secret value held in cfg (before cfg_free). */
void config_wipe_secrets(cfg_t *cfg);

/* Reports through libconfuse so the message gets the file and line of
 * cfg (config.c turns it into the pf_error of the load).  Returns -1. */
int config_fail(cfg_t *cfg, const char *fmt, ...) PF_PRINTF(2, 3);

/* The validate callback of the "account" section: every check across the
 * keys of the account just closed.  0 or -1 (through config_fail). */
int config_check_account(cfg_t *cfg, cfg_opt_t *opt);

/* The destination keys, indexed by enum dest_kind. */
extern const char *const config_dest_keys[4];

/* A destination key's second check (after its value's): no other
 * destination in the same account.  0 or -1 (through config_fail, so the
 * message names the line of the second key). */
int config_one_destination(cfg_t *sec, cfg_opt_t *opt);

/* The destination the account sets (it sets exactly one). */
enum dest_kind config_dest_of(cfg_t *sec);

/* Whether the file set key (CFGF_NODEFAULT options only). */
int config_is_set(cfg_t *sec, const char *name);

/* The account's oauth2 block, or NULL when it has none. */
cfg_t *config_oauth2_sec(cfg_t *sec);

/* An oauth2 key from the block, else from the account's preset, or NULL. */
const char *config_oauth2_key(cfg_t *sec, const char *key);

/* The OAuth2 flow DESIGN.md section 8 chooses for the account. */
enum oauth2_flow config_oauth2_flow(cfg_t *sec);

/* Appends the accounts of a parsed file (defined in file) to c.  0 or -1. */
int config_add_accounts(struct config *c, cfg_t *cfg, const char *file, struct pf_error *err);

/* Copies the global options of the main file into c.  0 or -1. */
int config_copy_globals(struct config *c, cfg_t *cfg, struct pf_error *err);

#endif
