/*
 * chart: blocks per hour of one day, by category, as a stacked bar chart
 * in SVG, for the dashboard (portal) and `cafeguardctl report --html`.
 *
 * Pure: counts go in with cg_chart_add, the few largest series are kept
 * by cg_chart_fold, and the renderers write self-contained markup (no
 * script, no style sheet, no external file) to a stdio stream, which may
 * be a file or an open_memstream buffer.  Every name is escaped.
 *
 * The SVG carries <title> and <desc>; cg_chart_table writes the same
 * numbers as a table, for screen readers and for browsers without SVG.
 */
#ifndef CAFEGUARD_CHART_H
#define CAFEGUARD_CHART_H

#include <stddef.h>
#include <stdio.h>

#define CG_CHART_HOURS 24
#define CG_CHART_NAME 48   /* longest series name, with its NUL */
#define CG_CHART_COLLECT 32 /* distinct series counted before folding */
#define CG_CHART_KEEP 6	   /* series drawn on their own; the rest: "other" */
#define CG_CHART_OTHER "other"

struct cg_chart_series {
	char name[CG_CHART_NAME];
	long hours[CG_CHART_HOURS];
	long total;
};

struct cg_chart {
	struct cg_chart_series s[CG_CHART_COLLECT];
	size_t n;
	long total;
};

void cg_chart_init(struct cg_chart *c);

/* Adds count to series name (NULL or "": "other") at hour (0..23; any
 * other hour is ignored).  Past CG_CHART_COLLECT distinct names, new
 * ones are counted as "other". */
void cg_chart_add(struct cg_chart *c, const char *name, int hour, long count);

/* Orders the series by total, largest first (ties by name), and merges
 * all beyond the first keep (and any series called "other") into one
 * "other" series at the end. */
void cg_chart_fold(struct cg_chart *c, size_t keep);

/*
 * The chart as an <svg> element (viewBox 500 x 240; it scales to its
 * container): stacked bars per hour, hour marks every three hours, the
 * largest hour's total on the axis, a legend, and title and desc (the
 * description sums each series).  id makes the element ids unique on a
 * page ("chart" if NULL).  Draws at most CG_CHART_KEEP + 1 colours:
 * fold first.
 */
void cg_chart_svg(FILE *f, const struct cg_chart *c, const char *title,
		  const char *id);

/* The numbers as an HTML table: an hour per row (hours with no block
 * left out), a column per series, a total. */
void cg_chart_table(FILE *f, const struct cg_chart *c, const char *caption);

/* s with HTML's five special characters escaped (text and attribute
 * values).  NULL writes nothing. */
void cg_chart_esc(FILE *f, const char *s);

#endif
