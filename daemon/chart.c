/*
 * chart: blocks per hour by category as stacked SVG bars (chart.h).
 */
#include "cafeguard/chart.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Okabe and Ito's palette, told apart with every common colour
 * blindness; grey is "other". */
static const char *const colours[CG_CHART_KEEP] = {
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
};
static const char other_colour[] = "#7f7f7f";

/* The drawing's geometry, in viewBox units. */
enum {
	W = 500,
	BASE = 170,	  /* the bars stand on this line */
	TOP = 16,	  /* the tallest bar reaches this */
	LEFT = 44,	  /* the first bar; the axis's number before it */
	STEP = 18,	  /* from one bar to the next */
	BAR = 14,	  /* a bar's width */
	LEGEND = 200,	  /* the legend's first row */
	LEGEND_ROW = 24,
	LEGEND_COL = 240, /* two entries a row: long names fit a phone */
};

void cg_chart_init(struct cg_chart *c)
{
	memset(c, 0, sizeof(*c));
}

static struct cg_chart_series *series_of(struct cg_chart *c, const char *name)
{
	if (!name || !name[0])
		name = CG_CHART_OTHER;
	for (size_t i = 0; i < c->n; i++)
		if (!strncmp(c->s[i].name, name, CG_CHART_NAME - 1))
			return &c->s[i];
	/* The last slot is kept for "other", so it always has one. */
	if (c->n >= CG_CHART_COLLECT - 1 && strcmp(name, CG_CHART_OTHER))
		return series_of(c, CG_CHART_OTHER);
	struct cg_chart_series *s = &c->s[c->n++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	return s;
}

void cg_chart_add(struct cg_chart *c, const char *name, int hour, long count)
{
	if (hour < 0 || hour >= CG_CHART_HOURS || count <= 0)
		return;
	struct cg_chart_series *s = series_of(c, name);
	s->hours[hour] += count;
	s->total += count;
	c->total += count;
}

static bool is_other(const struct cg_chart_series *s)
{
	return !strcmp(s->name, CG_CHART_OTHER);
}

static int by_total(const void *a, const void *b)
{
	const struct cg_chart_series *x = a, *y = b;
	/* "other" sorts last whatever its size: it is folded anyway. */
	if (is_other(x) != is_other(y))
		return is_other(x) ? 1 : -1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->name, y->name);
}

void cg_chart_fold(struct cg_chart *c, size_t keep)
{
	qsort(c->s, c->n, sizeof(c->s[0]), by_total);
	if (c->n <= keep)
		return;
	struct cg_chart_series rest = {.name = CG_CHART_OTHER};
	for (size_t i = keep; i < c->n; i++) {
		for (int h = 0; h < CG_CHART_HOURS; h++)
			rest.hours[h] += c->s[i].hours[h];
		rest.total += c->s[i].total;
	}
	c->n = keep;
	if (rest.total)
		c->s[c->n++] = rest;
}

void cg_chart_esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *colour(const struct cg_chart *c, size_t i)
{
	return is_other(&c->s[i]) || i >= CG_CHART_KEEP ? other_colour
							: colours[i];
}

static long hour_total(const struct cg_chart *c, int h)
{
	long t = 0;
	for (size_t i = 0; i < c->n; i++)
		t += c->s[i].hours[h];
	return t;
}

static void bars(FILE *f, const struct cg_chart *c, long max)
{
	for (int h = 0; h < CG_CHART_HOURS; h++) {
		double y = BASE, x = LEFT + h * (double)STEP;
		for (size_t i = 0; i < c->n; i++) {
			long v = c->s[i].hours[h];
			if (!v)
				continue;
			double hgt = (BASE - TOP) * (double)v / (double)max;
			y -= hgt;
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" "
				   "height=\"%.1f\" fill=\"%s\"><title>%02d:00 ",
				x, y, BAR, hgt, colour(c, i), h);
			cg_chart_esc(f, c->s[i].name);
			fprintf(f, ": %ld</title></rect>\n", v);
		}
		if (h % 3 == 0)
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"14\" "
				   "text-anchor=\"middle\" "
				   "fill=\"#1f2328\">%02d</text>\n",
				x + BAR / 2.0, BASE + 18, h);
	}
}

static void legend(FILE *f, const struct cg_chart *c)
{
	for (size_t i = 0; i < c->n; i++) {
		int x = 8 + (int)(i % 2) * LEGEND_COL;
		int y = LEGEND + (int)(i / 2) * LEGEND_ROW;
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" "
			   "fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
			   "font-size=\"15\" fill=\"#1f2328\">",
			x, y, colour(c, i), x + 20, y + 13);
		cg_chart_esc(f, c->s[i].name);
		fprintf(f, " (%ld)</text>\n", c->s[i].total);
	}
}

void cg_chart_svg(FILE *f, const struct cg_chart *c, const char *title,
		  const char *id)
{
	long max = 1;
	for (int h = 0; h < CG_CHART_HOURS; h++) {
		long t = hour_total(c, h);
		if (t > max)
			max = t;
	}
	size_t rows = (c->n + 1) / 2;
	int height = LEGEND + (int)rows * LEGEND_ROW + 4;
	if (!id)
		id = "chart";
	fprintf(f, "<svg viewBox=\"0 0 %d %d\" role=\"img\" "
		   "aria-labelledby=\"%s-title %s-desc\" "
		   "xmlns=\"http://www.w3.org/2000/svg\"><title id=\"%s-title\">",
		W, height, id, id, id);
	cg_chart_esc(f, title);
	fprintf(f, "</title><desc id=\"%s-desc\">", id);
	if (!c->n)
		fputs("No blocks.", f);
	for (size_t i = 0; i < c->n; i++) {
		cg_chart_esc(f, c->s[i].name);
		fprintf(f, " %ld%s", c->s[i].total, i + 1 < c->n ? ", " : ".");
	}
	fprintf(f, "</desc>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		   "stroke=\"#1f2328\"/>\n",
		LEFT - 4, BASE, W - 6, BASE);
	bars(f, c, max);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"14\" "
		   "text-anchor=\"end\" fill=\"#1f2328\">%ld</text>\n",
		LEFT - 6, TOP + 10, max);
	legend(f, c);
	fputs("</svg>\n", f);
}

void cg_chart_table(FILE *f, const struct cg_chart *c, const char *caption)
{
	fputs("<table class=\"blocks\"><caption>", f);
	cg_chart_esc(f, caption);
	fputs("</caption><thead><tr><th scope=\"col\">hour</th>", f);
	for (size_t i = 0; i < c->n; i++) {
		fputs("<th scope=\"col\">", f);
		cg_chart_esc(f, c->s[i].name);
		fputs("</th>", f);
	}
	fputs("<th scope=\"col\">all</th></tr></thead><tbody>\n", f);
	for (int h = 0; h < CG_CHART_HOURS; h++) {
		long t = hour_total(c, h);
		if (!t)
			continue;
		fprintf(f, "<tr><th scope=\"row\">%02d:00</th>", h);
		for (size_t i = 0; i < c->n; i++)
			fprintf(f, "<td>%ld</td>", c->s[i].hours[h]);
		fprintf(f, "<td>%ld</td></tr>\n", t);
	}
	if (!c->total)
		fprintf(f, "<tr><td colspan=\"%zu\">none</td></tr>\n", c->n + 2);
	fputs("</tbody></table>\n", f);
}
