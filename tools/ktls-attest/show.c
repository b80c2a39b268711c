// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest show [FILTER]: the armed sockets of the network namespace,
 * one block of "key: value" lines each (as wg show prints peers), or with
 * -j a JSON array of every field the kernel gives.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "filter.h"
#include "ktls-attest.h"

#define SHOW_USAGE	"show [FILTER] (try: " KATT_PROG " help)"

struct show {
	const struct cli_filter *filter;
	json_t *array;		/* -j: the sockets so far */
	uint64_t now_ns;	/* one "now" for every "... ago" */
	unsigned int shown;
};

static int show_one(const struct cli_sock *s, void *arg)
{
	struct show *sh = arg;
	json_t *o;

	if (!cli_filter_match(sh->filter, s))
		return 0;
	if (sh->array) {
		o = cli_sock_json(s);
		if (!o || json_array_append_new(sh->array, o))
			return -ENOMEM;
	} else {
		if (sh->shown)
			putchar('\n');
		cli_sock_print(s, sh->now_ns);
	}
	sh->shown++;
	return 0;
}

int show_main(int argc, char **argv)
{
	struct show sh = { .now_ns = cli_now_ns() };
	struct cli_nl *nl = NULL;
	struct cli_filter filter;
	struct cli_sock s;
	int ret, err;

	ret = cli_filter_parse(&filter, argc - 1, argv + 1, 0, SHOW_USAGE);
	if (ret)
		return ret;
	sh.filter = &filter;

	ret = KATT_EXIT_FAIL;
	if (cli_opts.json) {
		sh.array = json_array();
		if (!sh.array) {
			log_err("out of memory");
			goto out;
		}
	}
	nl = cli_open_family();
	if (!nl)
		goto out;

	/* a cookie names one socket: asked for alone, and an error if absent */
	if (filter.has_cookie) {
		err = cli_nl_get(nl, filter.cookie, &s);
		if (err) {
			log_err("show: socket %" PRIu64 ": %s", filter.cookie,
				cli_kernel_says(nl, err));
			goto out;
		}
		err = show_one(&s, &sh);
	} else {
		err = cli_nl_dump(nl, show_one, &sh);
	}
	if (err) {
		log_err("show: cannot list the armed sockets: %s",
			cli_kernel_says(nl, err));
		goto out;
	}
	if (sh.array && cli_print_json(sh.array))
		goto out;
	ret = KATT_EXIT_OK;

out:
	json_decref(sh.array);
	cli_nl_close(nl);
	return ret;
}
