/* test_speed.c -- `mmshare speed` runs every loop and states every target, whatever the figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "commands.h"

static int speed(char *arg)
{
	char *argv[] = { "speed", arg, NULL };

	return mms_cmd_speed.run(arg ? 2 : 1, argv);
}

Test(speed, prints_every_size_and_target, .timeout = 120)
{
	char path[] = "/tmp/mms-speed-XXXXXX", line[512];
	int fd = mkstemp(path), sizes = 0, targets = 0;
	FILE *f;

	cr_assert_geq(fd, 0);
	cr_assert_not_null(freopen(path, "w", stdout));
	cr_assert_eq(speed(NULL), MMS_EXIT_OK);
	fflush(stdout);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		sizes += !strncmp(line, "64 ", 3) || !strncmp(line, "4096 ", 5) ||
			 !strncmp(line, "65536 ", 6) || !strncmp(line, "1048576 ", 8);
		targets += strstr(line, "(target ") != NULL;
	}
	fclose(f);
	close(fd);
	unlink(path);
	cr_expect_eq(sizes, 4, "%d size rows", sizes);
	cr_expect_eq(targets, 5, "%d target lines", targets);
}

Test(speed, bad_usage_exits_2)
{
	cr_assert_not_null(freopen("/dev/null", "w", stderr));
	cr_assert_eq(speed("--bogus"), MMS_EXIT_USAGE);
}
