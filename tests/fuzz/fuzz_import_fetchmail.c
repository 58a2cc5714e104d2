/* fuzz_import_fetchmail.c - libFuzzer target for popfetch --import fetchmail: the
 * fetchmail config parser (import_fetchmail.c) and its UID state parser
 * (import_state.c), which read files popfetch did not write.  What is
 * checked on every input: import_checks.h. */
#include <stdint.h>
#include <stdlib.h>

#include "import_checks.h"

/* The state parser with the fixed account the corpus's state files name. */
static int state(const char *text, size_t len, struct import_uids *out, struct pf_error *err)
{
	return import_state_fetchmail(text, len, "u@example.com", "pop.example.com", out, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import_one(data, size, import_parse_fetchmail, state);
}
