/* cli.c -- option helpers shared by the tool's commands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mmshare-backend.h"
#include "cli.h"

int cli_no_options(int argc, char **argv, const char *usage)
{
	if (argc < 2)
		return 0;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return 1;
	}
	fprintf(stderr, "mmshare %s: unexpected argument '%s'\n%s", argv[0], argv[1], usage);
	return -1;
}

const char *cli_backend(const char *cmd, const char *arg)
{
	const char *const *n;
	const char *name;
	char why[512];

	if (strchr(arg, '/')) {
		if (mms_backend_load(arg, &name, why, sizeof(why)) == 0)
			return name;
		fprintf(stderr, "mmshare %s: '%s': not a usable plug-in: %s\n", cmd, arg, why);
		return NULL;
	}
	for (n = mms_backends_all(); *n; n++)
		if (!strcmp(*n, arg))
			return *n;
	fprintf(stderr, "mmshare %s: --backend '%s': no such backend (see `mmshare list`; a plug-in "
		"is named by its path, e.g. ./libmms-x.so)\n", cmd, arg);
	return NULL;
}

const char *const *cli_backends_here(const char *cmd)
{
	static const char *here[64];
	static int done;
	const char *const *n;
	unsigned caps;
	struct mms *m;
	size_t k = 0;
	int err;

	if (done)
		return here;
	for (n = mms_backends(); *n && k + 1 < sizeof(here) / sizeof(here[0]); n++) {
		if (!mms_backend_caps(*n, &caps) && (caps & MMS_CAP_SERVER)) {
			err = mms_new(&m, *n, 8);
			if (err) {
				fprintf(stderr, "mmshare %s: all: leaving out %s, whose server does not "
					"answer here: %s (see README, \"Beyond one machine\")\n", cmd,
					*n, mms_strerror(err));
				continue;
			}
			mms_free(m);
		}
		here[k++] = *n;
	}
	here[k] = NULL;
	done = 1;
	return here;
}

const char *cli_cap_word(unsigned k, unsigned *bit)
{
	static const struct { unsigned bit; const char *word; } words[] = {
		{ MMS_CAP_CRASH_SAFE, "crash-safe" },
		{ MMS_CAP_LEASE, "lease" },
		{ MMS_CAP_SERVER, "server" },
		{ MMS_CAP_SHARED_READ, "shared-read" },
		{ MMS_CAP_READ_NOWAIT, "read-nowait" },
		{ MMS_CAP_EXPORT_FD, "export-fd" },
		{ MMS_CAP_HOSTILE_SAFE, "hostile-safe" },
		{ MMS_CAP_MAPPING, "mapping" },
		{ MMS_CAP_UNSAFE, "UNSAFE" },
	};

	if (k >= sizeof(words) / sizeof(words[0]))
		return NULL;
	*bit = words[k].bit;
	return words[k].word;
}

int cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *why, size_t len)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		goto not_whole;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		goto not_whole;
	if (v < lo || v > hi) {
		snprintf(why, len, "must be between %llu and %llu", (unsigned long long)lo,
			 (unsigned long long)hi);
		return -1;
	}
	*out = v;
	return 0;
not_whole:
	snprintf(why, len, "expected a whole number");
	return -1;
}
