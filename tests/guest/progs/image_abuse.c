// SPDX-License-Identifier: GPL-2.0
/*
 * image_abuse: raw activations of keytime-image and resource-image with
 * settings the CLI would never send; the module must refuse each with
 * EINVAL and a reason, and take the zero defaults.  Exits 0 when every
 * check held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../../uapi/diagnose.h"

static int fd, failures;

static void activate(const char *what, unsigned int fn, void *s, unsigned int size,
		     int want_errno)
{
	struct diag_ioc ioc;
	int ret, err;

	memset(&ioc, 0, sizeof(ioc));
	ioc.abi_version = DIAG_ABI_VERSION;
	ioc.arg = (unsigned long)s;
	ioc.arg_size = size;
	ret = ioctl(fd, DIAG_IOC(fn, DIAG_VERB_ACTIVATE), &ioc);
	err = ret ? errno : 0;
	if (err != want_errno || (want_errno && !ioc.msg[0])) {
		printf("FAIL: %s -> %s (%s), expected %s\n", what, strerror(err), ioc.msg,
		       strerror(want_errno));
		failures++;
		return;
	}
	printf("ok: %s -> %s%s%s\n", what, want_errno ? strerror(err) : "success",
	       ioc.msg[0] ? ": " : "", ioc.msg);
	if (!ret) {
		memset(&ioc, 0, sizeof(ioc));
		ioc.abi_version = DIAG_ABI_VERSION;
		ioctl(fd, DIAG_IOC(fn, DIAG_VERB_DEACTIVATE), &ioc);
	}
}

int main(void)
{
	struct diag_keytime_image_settings k;
	struct diag_resource_image_settings r;

	fd = open("/dev/" DIAG_DEVICE_NAME, O_RDWR);
	if (fd < 0) {
		perror("open");
		return 1;
	}

	memset(&k, 0, sizeof(k));
	activate("keytime-image watching every task", DIAG_FN_KEYTIME_IMAGE, &k, sizeof(k),
		 EINVAL);
	k.common.pid = 1;
	k.oncpu = 2;
	activate("keytime-image oncpu=2", DIAG_FN_KEYTIME_IMAGE, &k, sizeof(k), EINVAL);
	k.oncpu = 0;
	k.stack = 7;
	activate("keytime-image stack=7", DIAG_FN_KEYTIME_IMAGE, &k, sizeof(k), EINVAL);
	k.stack = 1;
	activate("keytime-image stack=1 alone", DIAG_FN_KEYTIME_IMAGE, &k, sizeof(k), 0);
	activate("keytime-image short settings", DIAG_FN_KEYTIME_IMAGE, &k, sizeof(k) - 8,
		 EINVAL);

	memset(&r, 0, sizeof(r));
	r.common.pid = 1;
	activate("resource-image defaults (zeros)", DIAG_FN_RESOURCE_IMAGE, &r, sizeof(r), 0);
	r.interval_ms = DIAG_RI_INTERVAL_MS_MIN - 1;
	activate("resource-image interval too short", DIAG_FN_RESOURCE_IMAGE, &r, sizeof(r),
		 EINVAL);
	r.interval_ms = DIAG_RI_INTERVAL_MS_MAX + 1;
	activate("resource-image interval too long", DIAG_FN_RESOURCE_IMAGE, &r, sizeof(r),
		 EINVAL);
	r.interval_ms = 100;
	r.max_tasks = DIAG_RI_TASKS_MAX + 1;
	activate("resource-image too many tasks", DIAG_FN_RESOURCE_IMAGE, &r, sizeof(r), EINVAL);
	r.max_tasks = 0;
	r.common.pid = 0;
	activate("resource-image watching every task", DIAG_FN_RESOURCE_IMAGE, &r, sizeof(r),
		 EINVAL);
	return failures ? 1 : 0;
}
