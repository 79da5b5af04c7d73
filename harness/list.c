/* list.c -- `mmshare list`: the backends, one a line, with what they offer. */
#include <stdio.h>

#include "mmshare.h"
#include "cli.h"
#include "commands.h"

static const char list_usage[] =
	"usage: mmshare list\n"
	"Prints every backend: name, capabilities, one-line description. Backends marked UNSAFE are\n"
	"negative controls for the benchmark's checker, never part of `all`. hostile-safe backends keep\n"
	"no pointers in shared memory: a peer that writes the area can make calls fail, never crash.\n";

static void caps_text(unsigned caps, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s%s%s",
		 caps & MMS_CAP_SHARED_READ ? "shared-read " : "",
		 caps & MMS_CAP_READ_NOWAIT ? "read-nowait " : "",
		 caps & MMS_CAP_EXPORT_FD ? "export-fd " : "",
		 caps & MMS_CAP_HOSTILE_SAFE ? "hostile-safe " : "",
		 caps & MMS_CAP_UNSAFE ? "UNSAFE " : "");
}

static int list_run(int argc, char **argv)
{
	const char *const *name;
	char caps_buf[80];
	unsigned caps;
	int r = cli_no_options(argc, argv, list_usage);

	if (r)
		return r > 0 ? MMS_EXIT_OK : MMS_EXIT_USAGE;
	for (name = mms_backends_all(); *name; name++) {
		mms_backend_caps(*name, &caps);
		caps_text(caps, caps_buf, sizeof(caps_buf));
		printf("%-8s  %-47s  %s\n", *name, caps_buf[0] ? caps_buf : "-",
		       mms_backend_summary(*name));
	}
	return MMS_EXIT_OK;
}

const struct mms_command mms_cmd_list = {
	.name = "list",
	.summary = "list the backends with their capabilities",
	.run = list_run,
};
