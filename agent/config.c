// SPDX-License-Identifier: GPL-2.0
/*
 * config.c: ktls-attestd's configuration file (config.h): read once at
 * start with jansson, every key checked, defaults filled in, and every
 * path made absolute against the directory of the configuration file.
 *
 * Owns: the struct katt_config it returns.  Calls: jsonfile (jansson),
 * log.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jsonfile.h"
#include "log.h"

static const char *const config_keys[] = {
	"tcti", "state_dir", "policy", "ak_type", "endorsement_auth",
	"event_logs", "log", NULL,
};
static const char *const log_keys[] = { "path", "format", NULL };
static const char *const ak_types[] = { "ecc", "rsa", NULL };
static const char *const log_formats[] = { "tcg", "ima", NULL };
static const char *const log_dests[] = { "stderr", "syslog", NULL };

/* The directory of @path, absolute. */
static char *dir_of(const char *path)
{
	char *copy, *slash, *dir;

	copy = strdup(path);
	if (!copy)
		return NULL;
	slash = strrchr(copy, '/');
	if (!slash)
		strcpy(copy, ".");
	else if (slash == copy)
		slash[1] = '\0';
	else
		*slash = '\0';
	dir = realpath(copy, NULL);
	free(copy);
	return dir;
}

/* @rel as it is if absolute, else @dir/@rel. */
static char *resolve(const char *dir, const char *rel)
{
	char *out;

	if (rel[0] == '/')
		return strdup(rel);
	if (asprintf(&out, "%s%s%s", dir,
		     dir[strlen(dir) - 1] == '/' ? "" : "/", rel) < 0)
		return NULL;
	return out;
}

/* A string key: *@out is a copy (a path resolved against @dir if set). */
static int get_string(struct katt_config *c, json_t *root, const char *key,
		      const char *dir, bool may_be_empty, char **out)
{
	struct katt_jpath at;
	const char *s;
	json_t *v;
	int ret;

	v = json_object_get(root, key);
	if (!v)
		return 0;
	katt_jpath_key(&at, NULL, key);
	if (may_be_empty && json_is_string(v) && !json_string_length(v))
		return 0;
	ret = katt_json_string(c->path, &at, v, &s);
	if (ret)
		return ret;
	if (strlen(s) >= PATH_MAX)
		return katt_json_bad(c->path, &at, "longer than %d bytes",
				     PATH_MAX - 1);
	free(*out);
	*out = dir ? resolve(dir, s) : strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int get_event_logs(struct katt_config *c, json_t *root, const char *dir)
{
	struct katt_jpath top, at, k;
	json_t *arr, *e, *v;
	const char *s;
	size_t i;
	int ret;

	arr = json_object_get(root, "event_logs");
	if (!arr)
		return 0;
	katt_jpath_key(&top, NULL, "event_logs");
	if (!json_is_array(arr))
		return katt_json_bad(c->path, &top, "not an array");
	if (json_array_size(arr) > KATT_QUOTE_LOGS_MAX)
		return katt_json_bad(c->path, &top,
				     "%zu event logs, at most %d are sent",
				     json_array_size(arr), KATT_QUOTE_LOGS_MAX);
	json_array_foreach(arr, i, e) {
		katt_jpath_index(&at, &top, i);
		ret = katt_json_object(c->path, &at, e, log_keys);
		if (ret)
			return ret;
		katt_jpath_key(&k, &at, "path");
		v = json_object_get(e, "path");
		if (!v)
			return katt_json_bad(c->path, &k, "missing");
		ret = katt_json_string(c->path, &k, v, &s);
		if (ret)
			return ret;
		katt_jpath_key(&k, &at, "format");
		v = json_object_get(e, "format");
		if (!v)
			return katt_json_bad(c->path, &k,
					     "missing (\"tcg\" or \"ima\")");
		ret = katt_json_enum(c->path, &k, v, log_formats);
		if (ret < 0)
			return ret;
		c->log_format[i] = ret == 0 ? KATT_LOG_FORMAT_TCG :
					      KATT_LOG_FORMAT_IMA;
		c->log_path[i] = resolve(dir, s);
		if (!c->log_path[i])
			return -ENOMEM;
		c->nlogs = i + 1;
	}
	return 0;
}

static int get_enum(struct katt_config *c, json_t *root, const char *key,
		    const char *const *names)
{
	struct katt_jpath at;
	json_t *v = json_object_get(root, key);

	if (!v)
		return 0;
	katt_jpath_key(&at, NULL, key);
	return katt_json_enum(c->path, &at, v, names);
}

static int config_parse(struct katt_config *c, json_t *root, const char *dir)
{
	int ret;

	ret = katt_json_object(c->path, NULL, root, config_keys);
	if (ret)
		return ret;
	ret = get_string(c, root, "tcti", NULL, false, &c->tcti);
	if (!ret)
		ret = get_string(c, root, "state_dir", dir, false,
				 &c->state_dir);
	if (!ret)
		ret = get_string(c, root, "policy", dir, false,
				 &c->policy_path);
	if (!ret)
		ret = get_string(c, root, "endorsement_auth", NULL, true,
				 &c->eh_auth);
	if (ret)
		return ret;
	ret = get_enum(c, root, "ak_type", ak_types);
	if (ret < 0)
		return ret;
	c->ak_type = ret == 1 ? TPM2_ALG_RSA : TPM2_ALG_ECC;
	ret = get_enum(c, root, "log", log_dests);
	if (ret < 0)
		return ret;
	c->use_syslog = ret == 1;
	return get_event_logs(c, root, dir);
}

int katt_config_load(const char *path, struct katt_config **out)
{
	struct katt_config *c;
	char *dir = NULL;
	json_t *root;
	int ret;

	*out = NULL;
	root = katt_json_load(path, &ret);
	if (!root)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = -ENOMEM;
		goto out_put_root;
	}
	c->path = strdup(path);
	c->state_dir = strdup(KATT_STATE_DIR_DEFAULT);
	c->policy_path = strdup(KATT_POLICY_DEFAULT);
	dir = dir_of(path);
	if (!c->path || !c->state_dir || !c->policy_path || !dir) {
		ret = dir ? -ENOMEM : -errno;
		if (!dir)
			katt_err("%s: its directory: %s", path, strerror(errno));
		goto out_free_config;
	}
	ret = config_parse(c, root, dir);
	if (ret)
		goto out_free_config;
	free(dir);
	json_decref(root);
	*out = c;
	return 0;

out_free_config:
	if (ret == -ENOMEM)
		katt_err("%s: out of memory", path);
	free(dir);
	katt_config_free(c);
out_put_root:
	json_decref(root);
	return ret;
}

void katt_config_free(struct katt_config *c)
{
	unsigned int i;

	if (!c)
		return;
	free(c->path);
	free(c->tcti);
	free(c->state_dir);
	free(c->policy_path);
	if (c->eh_auth)
		explicit_bzero(c->eh_auth, strlen(c->eh_auth));
	free(c->eh_auth);
	for (i = 0; i < c->nlogs; i++)
		free(c->log_path[i]);
	free(c);
}
