/*
 * clusterctl vm import DOMAIN --node NODE [--check] [--copy-disks VOLUME]:
 * make an existing libvirt domain of NODE a cluster VM (clusterd/ipc_import.c
 * says how). Runs on any member; with --copy-disks, on NODE. --copy-disks copies each disk of a
 * shut-down domain that is a file of NODE only into a new file of VOLUME first, with the volume's
 * own file commands, and the stored definition points at the copies.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "cli/clusterctl.h"
#include "lib/util.h"

#define COPY_CHUNK (4u << 20)
#define EXPOSE_WAIT_MS 15000

/*
 * Any member passes the import on to NODE and waits for its answer for
 * --timeout less a second; --copy-disks reads NODE's own files, so it is
 * asked of NODE only ("local").
 */
static struct json_object *import_args(char **argv, const struct ctl_opts *o)
{
	struct json_object *a = args2("name", argv[0], "node", o->node);
	int deadline = o->timeout_ms > 2000 ? o->timeout_ms - 1000 : 1000;

	json_object_object_add(a, "deadline_ms", json_object_new_int64(deadline));
	if (o->copy_disks)
		json_object_object_add(a, "local", json_object_new_boolean(true));
	return a;
}

/* The report's reasons, one a line, for a person. */
static void print_reasons(struct json_object *reply)
{
	struct json_object *rep = NULL, *reasons = NULL;
	size_t i;

	json_object_object_get_ex(reply, "report", &rep);
	json_object_object_get_ex(rep, "reasons", &reasons);
	for (i = 0; reasons && i < json_object_array_length(reasons); i++) {
		struct json_object *r = json_object_array_get_idx(reasons, i);

		printf("  %-20s %s\n", jstr(r, "code"), jstr(r, "text"));
	}
	if (jint(rep, "dropped") > 0)
		printf("  ... and %lld more\n", (long long)jint(rep, "dropped"));
}

/* The verdict of a check or a refusal: 0 if it may be imported, else CD_ERR_REFUSED. */
static int print_verdict(struct json_object *reply, const struct ctl_opts *o)
{
	struct json_object *rep = NULL;
	bool ok;

	json_object_object_get_ex(reply, "report", &rep);
	ok = jbool(rep, "ok");
	if (o->json) {
		print_json(reply);
	} else {
		printf("%s on %s (%s): %s\n", jstr(reply, "domain"), jstr(reply, "node"),
		       jbool(reply, "running") ? "running" : "shut off",
		       ok ? "can be made highly available"
			  : "cannot be made highly available, nothing was changed:");
		print_reasons(reply);
	}
	return ok ? 0 : CD_ERR_REFUSED;
}

/* --- --copy-disks --- */

/* Bytes in path (a file or a block device): 0 and *size, or -errno. */
static int source_size(const char *path, uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end;

	if (fd < 0)
		return -errno;
	end = lseek(fd, 0, SEEK_END);
	close(fd);
	if (end < 0)
		return -errno;
	*size = (uint64_t)end;
	return 0;
}

/* Where this node exposes file of vol (volume show's local.exposed), waiting for it. */
static int exposed_path(struct cd_client *c, const char *vol, const char *file, char *out,
			size_t len)
{
	struct timespec pause = {0, 200 * 1000000};
	int waited = 0, rc;

	for (;;) {
		struct json_object *a = args1("name", vol), *reply = NULL, *local = NULL,
				   *exp = NULL;
		size_t i;

		rc = call(c, "volume.show", a, &reply);
		json_object_put(a);
		if (rc < 0) {
			json_object_put(reply);
			return rc;
		}
		json_object_object_get_ex(reply, "local", &local);
		json_object_object_get_ex(local, "exposed", &exp);
		for (i = 0; exp && i < json_object_array_length(exp); i++) {
			struct json_object *e = json_object_array_get_idx(exp, i);

			if (strcmp(jstr(e, "file"), file) == 0 && jstr(e, "path")[0]) {
				cd_strlcpy(out, jstr(e, "path"), len);
				json_object_put(reply);
				return 0;
			}
		}
		json_object_put(reply);
		if (waited >= EXPOSE_WAIT_MS) {
			fprintf(stderr, "clusterctl: %s/%s is not exposed on this node\n", vol,
				file);
			return CD_ERR_TIMEOUT;
		}
		nanosleep(&pause, NULL);
		waited += 200;
	}
}

static void progress(const char *what, uint64_t done, uint64_t total)
{
	if (!isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r%s: %llu/%llu MiB (%d%%)", what, (unsigned long long)(done >> 20),
		(unsigned long long)(total >> 20), total ? (int)(done * 100 / total) : 100);
	if (done == total)
		fputc('\n', stderr);
}

/* Copy from to to (bytes of it), then make it durable: 0 or -errno. */
static int copy_file(const char *from, const char *to, uint64_t bytes, const char *what)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = open(to, O_WRONLY | O_CLOEXEC);
	char *buf = malloc(COPY_CHUNK);
	uint64_t done = 0;
	int rc = 0;

	if (in < 0 || out < 0 || !buf) {
		rc = buf ? -errno : -ENOMEM;
		goto out;
	}
	while (done < bytes) {
		ssize_t n = read(in, buf, COPY_CHUNK), w = 0;

		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0) {
				rc = -errno;
				goto out;
			}
			w += k;
		}
		done += (uint64_t)n;
		progress(what, done, bytes);
	}
	if (fsync(out) < 0)
		rc = -errno;
out:
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* Create file on vol, size bytes, with the volume's own file command. */
static int create_file(struct cd_client *c, const char *vol, const char *file, uint64_t size)
{
	struct json_object *a = args2("name", vol, "file", file), *reply = NULL;
	int rc;

	json_object_object_add(a, "fop", json_object_new_string("create"));
	json_object_object_add(a, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(a, "request_id", json_object_new_int64((int64_t)cd_random_id()));
	rc = call(c, "volume.file", a, &reply);
	json_object_put(a);
	json_object_put(reply);
	return rc;
}

/* One local disk copied to a new file of vol: its path there into map. */
static int copy_disk(struct cd_client *c, const char *domain, struct json_object *disk, size_t idx,
		     const char *vol, struct json_object *map)
{
	const char *from = jstr(disk, "path"), *target = jstr(disk, "target");
	char file[64], to[512], what[1100];
	uint64_t size = 0;
	int rc;

	if (target[0])
		snprintf(file, sizeof(file), "%s-%s", domain, target);
	else
		snprintf(file, sizeof(file), "%s-disk%zu", domain, idx + 1);
	if ((rc = source_size(from, &size)) < 0) {
		fprintf(stderr, "clusterctl: %s: %s\n", from, strerror(-rc));
		return CD_ERR_INVALID;
	}
	/* A whole number of MiB, at least one: the copy, then the rest of its last MiB. */
	if ((rc = create_file(c, vol, file, ((size >> 20) + 1) << 20)) < 0)
		return rc;
	if ((rc = exposed_path(c, vol, file, to, sizeof(to))) < 0)
		return rc;
	snprintf(what, sizeof(what), "%s -> %s", from, to);
	if (!opt.json)
		printf("copying %s to %s/%s (%s)\n", from, vol, file, to);
	fflush(stdout);
	if ((rc = copy_file(from, to, size, what)) < 0) {
		fprintf(stderr,
			"clusterctl: copying %s to %s: %s (the file %s/%s stays: "
			"clusterctl volume file remove %s %s)\n",
			from, to, strerror(-rc), vol, file, vol, file);
		return CD_ERR_INVALID;
	}
	json_object_object_add(map, from, json_object_new_string(to));
	return 0;
}

/*
 * Whether copying the local disks and CD-ROM images would leave nothing
 * in the import's way: the check's every reason is one the copy mends.
 */
static bool copy_would_do(struct json_object *reply)
{
	struct json_object *rep = NULL, *reasons = NULL;
	size_t i;

	json_object_object_get_ex(reply, "report", &rep);
	json_object_object_get_ex(rep, "reasons", &reasons);
	if (jint(rep, "dropped") > 0)
		return false;
	for (i = 0; reasons && i < json_object_array_length(reasons); i++) {
		const char *code = jstr(json_object_array_get_idx(reasons, i), "code");

		if (!code || (strcmp(code, "disk-local") != 0 && strcmp(code, "cdrom-local") != 0))
			return false;
	}
	return true;
}

/* Copy every disk the check found local; *map: {old path: new path}. */
static int copy_disks(struct cd_client *c, char **argv, const struct ctl_opts *o,
		      struct json_object **map)
{
	struct json_object *a = import_args(argv, o), *reply = NULL, *rep = NULL, *local = NULL;
	size_t i;
	int rc = call(c, "vm.import.check", a, &reply);

	json_object_put(a);
	*map = json_object_new_object();
	if (rc < 0)
		goto out;
	if (jbool(reply, "running")) {
		fprintf(stderr,
			"clusterctl: %s runs: its disks are copied only while it is shut down "
			"(shut it down first, or import it without --copy-disks)\n",
			argv[0]);
		rc = CD_ERR_REFUSED;
		goto out;
	}
	if (!copy_would_do(reply)) {
		print_verdict(reply, o);
		rc = CD_ERR_REFUSED;
		goto out;
	}
	json_object_object_get_ex(reply, "report", &rep);
	json_object_object_get_ex(rep, "local_disks", &local);
	for (i = 0; local && i < json_object_array_length(local) && rc == 0; i++)
		rc = copy_disk(c, argv[0], json_object_array_get_idx(local, i), i, o->copy_disks,
			       *map);
out:
	json_object_put(reply);
	return rc;
}

/* --- the import --- */

static void say_imported(struct json_object *reply, const struct ctl_opts *o)
{
	if (o->json) {
		print_json(reply);
		return;
	}
	printf("%s: imported from %s, %s\n", jstr(reply, "domain"), jstr(reply, "node"),
	       jbool(reply, "running") ? "running there (adopted, not restarted)"
				       : "stopped (clusterctl vm start to run it)");
	if (!strcmp(jstr(reply, "libvirt_definition"), "kept"))
		printf("  libvirt's own definition of it stays on %s: %s (virsh undefine it)\n",
		       jstr(reply, "node"), jstr(reply, "libvirt_definition_error"));
}

int cmd_vm_import(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a, *reply = NULL, *map = NULL;
	int rc;

	if (o->check) {
		a = import_args(argv, o);
		rc = call(c, "vm.import.check", a, &reply);
		json_object_put(a);
		if (rc == 0)
			rc = print_verdict(reply, o);
		json_object_put(reply);
		return rc;
	}
	if (o->copy_disks && (rc = copy_disks(c, argv, o, &map)) < 0) {
		json_object_put(map);
		return rc;
	}
	a = import_args(argv, o);
	if (map)
		json_object_object_add(a, "disks", map);
	rc = call_quiet(c, "vm.import", a, &reply);
	json_object_put(a);
	if (rc == CD_ERR_REFUSED && json_object_object_get_ex(reply, "report", NULL))
		print_verdict(reply, o);
	else if (rc < 0)
		say_error(rc, reply);
	else
		say_imported(reply, o);
	json_object_put(reply);
	return rc;
}
