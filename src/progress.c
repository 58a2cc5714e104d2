/* progress.c - see progress.h. */
#include <stdio.h>
#include <string.h>

#include "progress.h"

void progress_begin(struct progress *p, FILE *out, const char *label, unsigned long msgs_total,
		    uint64_t bytes_total)
{
	memset(p, 0, sizeof *p);
	p->out = out;
	p->label = label;
	p->msgs_total = msgs_total;
	p->bytes_total = bytes_total;
	p->start_ms = -1;
}

/* "12.3 MB" style, decimal units as transfer rates usually are. */
static void human(char *buf, size_t cap, double v)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	int u = 0;

	while (v >= 1000.0 && u < 4)
		v /= 1000.0, u++;
	(void)snprintf(buf, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, unit[u]);
}

void progress_format(const struct progress *p, int64_t now_ms, char *buf, size_t cap)
{
	char done[16], total[16], rate[16], eta[24] = "--:--";
	double secs = p->start_ms >= 0 ? (double)(now_ms - p->start_ms) / 1000.0 : 0.0;
	double bps = secs > 0.0 ? (double)p->bytes_done / secs : 0.0;
	/* LIST sizes are hints: the total may be passed; never show > 100%. */
	uint64_t total_b = p->bytes_total > p->bytes_done ? p->bytes_total : p->bytes_done;

	human(done, sizeof done, (double)p->bytes_done);
	human(total, sizeof total, (double)total_b);
	human(rate, sizeof rate, bps);
	if (bps > 0.0) {
		long left = (long)((double)(total_b - p->bytes_done) / bps + 0.5);

		(void)snprintf(eta, sizeof eta, "%ld:%02ld", left / 60, left % 60);
	}
	(void)snprintf(buf, cap, "%s: %lu/%lu messages, %s/%s, %s/s, ETA %s", p->label,
		       p->msgs_done, p->msgs_total, done, total, rate, eta);
}

void progress_add(struct progress *p, unsigned long msgs, uint64_t bytes, int64_t now_ms)
{
	char line[160];

	if (p->out == NULL)
		return;
	if (p->start_ms < 0)
		p->start_ms = p->drawn_ms = now_ms; /* quick fetches never draw */
	p->msgs_done += msgs;
	p->bytes_done += bytes;
	if (now_ms - p->drawn_ms < PROGRESS_REDRAW_MS)
		return;
	progress_format(p, now_ms, line, sizeof line);
	/* \r and "erase to end of line": redraw in place. */
	fprintf(p->out, "\r%s\033[K", line);
	fflush(p->out);
	p->drawn = 1;
	p->drawn_ms = now_ms;
}

void progress_end(struct progress *p)
{
	if (p->out != NULL && p->drawn) {
		fputs("\r\033[K", p->out);
		fflush(p->out);
	}
	p->drawn = 0;
}
