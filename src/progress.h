/* progress.h - the progress display of a long fetch on a terminal:
 * messages and bytes done of total, rate and ETA, redrawn in place on one
 * line of stderr at most every PROGRESS_REDRAW_MS, erased when done.
 * Knows nothing of POP3: fetch.c reports numbers, this draws them. */
#ifndef POPFETCH_PROGRESS_H
#define POPFETCH_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#define PROGRESS_REDRAW_MS 200

struct progress {
	/* private: */
	FILE *out;
	const char *label;
	unsigned long msgs_total, msgs_done;
	uint64_t bytes_total, bytes_done;
	int64_t start_ms, drawn_ms;
	int drawn;
};

/* Starts a display for label (an account name) on out. */
void progress_begin(struct progress *p, FILE *out, const char *label, unsigned long msgs_total,
		    uint64_t bytes_total);

/* Adds work done; redraws when PROGRESS_REDRAW_MS have passed since the
 * last drawing (now_ms on any monotonic clock). */
void progress_add(struct progress *p, unsigned long msgs, uint64_t bytes, int64_t now_ms);

/* Erases the line so the summary line that follows starts clean. */
void progress_end(struct progress *p);

/* Formats the line (without "\r" or erasing) into buf; for tests. */
void progress_format(const struct progress *p, int64_t now_ms, char *buf, size_t cap);

#endif
