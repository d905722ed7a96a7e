/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * doctor.h - the checks of `egpu-vm doctor`: each says what it found and,
 * when something is missing, the fix.
 */
#ifndef EGPU_DOCTOR_H
#define EGPU_DOCTOR_H

#include <json-c/json.h>

enum dr_status { DR_OK, DR_MISSING, DR_NOTE };

struct doctor {
	struct json_object *checks;	/* array of {name, status, detail, fix} */
	int missing;
};

/* One check's outcome; detail and fix may be NULL. */
void dr_add(struct doctor *d, enum dr_status st, const char *name,
	    const char *detail, const char *fix);
/* The first line of a command's stdout (a new string) or NULL if it failed. */
char *dr_output(const char *const argv[]);

/* The host's checks (doctor_linux in doctor.c, doctor_mac in doctor_mac.c). */
void doctor_linux(struct doctor *d);
void doctor_mac(struct doctor *d);

#endif /* EGPU_DOCTOR_H */
