/* commands.h -- the mmshare tool's subcommands: one file each, one table in mmshare.c. */
#ifndef MMS_COMMANDS_H
#define MMS_COMMANDS_H

/* Exit statuses every command uses. */
#define MMS_EXIT_OK     0
#define MMS_EXIT_FAIL   1   /* the command ran and found a failure (regression, violation, error) */
#define MMS_EXIT_USAGE  2   /* bad command line or unusable input */

struct mms_command {
	const char *name;                       /* argv[1] */
	const char *summary;                    /* one line for `mmshare --help` */
	int (*run)(int argc, char **argv);      /* argv[0] is the command name; returns an exit status */
};

extern const struct mms_command mms_cmd_list;
extern const struct mms_command mms_cmd_demo;
extern const struct mms_command mms_cmd_bench;
extern const struct mms_command mms_cmd_compare;
extern const struct mms_command mms_cmd_speed;
extern const struct mms_command mms_cmd_conform;
extern const struct mms_command mms_cmd_advise;
extern const struct mms_command mms_cmd_syscalls;

#endif
