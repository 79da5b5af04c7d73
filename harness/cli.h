/* cli.h -- small helpers the tool's commands share for options and messages. */
#ifndef MMS_CLI_H
#define MMS_CLI_H

#include <stdint.h>
#include <stdio.h>

/* A command that takes no options: 1 if argv asked for help (and printed it), -1 on anything
 * else unexpected (message printed), 0 when there is nothing to do. */
int cli_no_options(int argc, char **argv, const char *usage);

/*
 * The backend a command line names: a built-in name, or a plug-in's path (anything with a '/'),
 * which is loaded here. NULL when there is none, after a message on stderr that says why
 * (cmd names the command); the name returned lives as long as the process.
 */
const char *cli_backend(const char *cmd, const char *arg);

/*
 * What "all" means for the tool's commands: mms_backends(), less each backend with
 * MMS_CAP_SERVER whose server does not answer here (mms_new fails), which is named on stderr
 * once per process with the reason. NULL-terminated; lives as long as the process.
 */
const char *const *cli_backends_here(const char *cmd);

/*
 * The words `mmshare list` shows for capability bits, in its order ("crash-safe", "shared-read",
 * ..., "UNSAFE"): the k-th word for k = 0, 1, ... while *bit gets its MMS_CAP_* bit; NULL after
 * the last. One table, so the bench JSON's "caps" and `mmshare list` never disagree.
 */
const char *cli_cap_word(unsigned k, unsigned *bit);

/*
 * A whole number in [lo, hi] (decimal, no sign) into *out: 0, or -1 with why (a phrase such as
 * "must be between 1 and 100") in why[len]; the caller says which option it was.
 */
int cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *why, size_t len);

#endif
