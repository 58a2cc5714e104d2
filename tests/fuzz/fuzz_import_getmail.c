/* fuzz_import_getmail.c - libFuzzer target for popfetch --import getmail: the
 * getmail config parser (import_getmail.c) and its UID state parser
 * (import_state.c), which read files popfetch did not write.  What is
 * checked on every input: import_checks.h. */
#include <stdint.h>
#include <stdlib.h>

#include "import_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import_one(data, size, import_parse_getmail, import_state_getmail);
}
