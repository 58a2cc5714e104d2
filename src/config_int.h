/* config_int.h - internal to the config module: what config.c (the grammar
 * and its checks) and config_build.c (turning parsed sections into struct
 * config) share.  Nothing outside src/config*.c includes this. */
#ifndef POPFETCH_CONFIG_INT_H
#define POPFETCH_CONFIG_INT_H

#include <confuse.h>

#include "config.h"
#include "error.h"

#define CONFIG_TIMEOUT_DEFAULT 300    /* DESIGN.md section 8 */

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
