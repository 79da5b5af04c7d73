/* cli.h -- small helpers the tool's commands share for options and messages. */
#ifndef MMS_CLI_H
#define MMS_CLI_H

#include <stdio.h>

/* A command that takes no options: 1 if argv asked for help (and printed it), -1 on anything
 * else unexpected (message printed), 0 when there is nothing to do. */
int cli_no_options(int argc, char **argv, const char *usage);

#endif
