/* SPDX-License-Identifier: GPL-2.0 */
/*
 * enroll.h: "ktls-attestd enroll" (Documentation/agent.rst, "Enrolment"):
 * this host's AK as the peer's policy pins it, and reference values of
 * this host's current PCRs for the peer's policy.
 *
 * Owns: nothing beyond its run.  Calls: config, attester, tpm, log.
 */
#ifndef KATT_AGENT_ENROLL_H
#define KATT_AGENT_ENROLL_H

/*
 * The subcommand: @argv[0] is "enroll", the options follow.  Returns the
 * exit status: 0, 1 (runtime failure), 2 (usage).
 */
int katt_enroll_main(int argc, char **argv);

#endif /* KATT_AGENT_ENROLL_H */
