// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ioreg_gpus_test.c - the IORegistry parser behind list-devices and doctor
 * (macOS), run on Linux: ioreg text from a file in, the GPUs as JSON out.
 */
#include <stdio.h>
#include <stdlib.h>

#include "devices.h"
#include "util.h"
#include "verbs.h"

struct egpu_globals egpu_g;

int main(int argc, char **argv)
{
	struct json_object *gpus;
	char *text;

	if (argc != 2) {
		fprintf(stderr, "usage: ioreg_gpus_test IOREG-OUTPUT\n");
		return 2;
	}
	text = eg_read_file(argv[1], NULL);
	if (!text) {
		perror(argv[1]);
		return 1;
	}
	gpus = ioreg_gpus(text);
	printf("%s\n", json_object_to_json_string_ext(gpus, JSON_C_TO_STRING_PLAIN));
	json_object_put(gpus);
	free(text);
	return 0;
}
