/* dump.h - `popfetch --dump [ACCOUNT]`: the effective configuration as
 * config_load() made it (after presets, defaults and accounts.d), one
 * `key = value` a line, each with where it came from: FILE:LINE, "preset
 * NAME" or "default".  Secrets (password, client_secret) are masked.  The
 * output is itself a configuration file (the origins are comments). */
#ifndef POPFETCH_DUMP_H
#define POPFETCH_DUMP_H

#include <stdio.h>

#include "config.h"
#include "error.h"

/* The global options and every account, or only the account called
 * account (non-NULL), on out.  0, or -1 with err: PF_ERR_CONFIG for an
 * unknown account or a file that cannot be read again, PF_ERR_LOCAL when
 * out cannot be written. */
int dump_config(const struct config *cfg, const char *account, FILE *out,
		struct pf_error *err) PF_MUST_CHECK;

#endif
