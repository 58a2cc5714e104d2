/* fuzz_import_fetchmail.c - libFuzzer target for popfetch --import fetchmail: the
 * fetchmail config parser (import_fetchmail.c) and its UID state parser
 * (import_state.c), which read files popfetch did not write.  What is
 * checked on every input: import_checks.h. */
#include <stdint.h>
#include <stdlib.h>

#include "import_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pf_error err = { 0 };
	size_t len;
	char *text;

	if (size == 0)
		return 0;
	text = fuzz_copy(data, size, &len);
	if (data[0] % 2 == 0) {
		struct import_set set = { 0 };

		if (import_parse_fetchmail(text, len, &set, &err) == 0)
			fuzz_check_set(&set);
		else
			fuzz_check_error(&err);
		import_set_free(&set);
	} else {
		struct import_uids u = { 0 };

		if (import_state_fetchmail(text, len, "u@example.com", "pop.example.com", &u, &err) == 0)
			fuzz_check_uids(&u);
		else
			fuzz_check_error(&err);
		import_uids_free(&u);
	}
	free(text);
	return 0;
}
