/* SPDX-License-Identifier: GPL-2.0-only */
/* `spterace explore` (tools/explore_cli.c). */
#ifndef SPTERACE_TOOLS_EXPLORE_CLI_H
#define SPTERACE_TOOLS_EXPLORE_CLI_H

/*
 * argv: the arguments after "explore".  report(path) prints what
 * `spterace repro path` prints.  Returns the exit status.
 */
int explore_main(int argc, char **argv, int (*report)(const char *path));

#endif
