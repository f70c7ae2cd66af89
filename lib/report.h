/*
 * report.c: runs as plain text for people.  Nothing here changes a record.
 */
#ifndef RK_REPORT_H
#define RK_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "store.h"

struct rk_style {
	int	width;		/* wrap lines at this many columns */
	int	bold;		/* bold headers: a terminal, no NO_COLOR */
};

/* the style for fp: its width and boldness if it is a terminal */
void	 rk_style_for(FILE *, struct rk_style *);

/* the whole report of one run */
void	 rk_report(FILE *, const json_t *rec, const struct rk_style *);

/* one line of a listing, and the header line above the first */
void	 rk_report_header(FILE *, const struct rk_style *);
void	 rk_report_row(FILE *, const struct rk_run *,
	    const struct rk_style *);

/* a listing line as a JSON object */
json_t	*rk_run_json(const struct rk_run *);

#endif
