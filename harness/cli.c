/* cli.c -- option helpers shared by the tool's commands. */
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
