/* trace.h: what cmd/rk-trace.c and the files beside this one share */
#ifndef RK_TRACE_CMD_H
#define RK_TRACE_CMD_H

#include <stdio.h>

#include "think/think.h"
#include "store/store.h"

enum { FMT_AUTO, FMT_JSON, FMT_TEXT };

extern const char *dflag;	/* the database */
extern int fflag;		/* FMT_* */
extern struct rk_style style;

/* the options of a command and its operands */
struct args {
	struct rk_filter f;
	char	 before[25];
	int	 argc;
	char	**argv;
};

void	 usage(void) __attribute__((noreturn));
int	 text_output(void);
/* open_store(): a missing database is created, an error, or empty */
enum { STORE_CREATE = 1, STORE_READ = 0, STORE_EMPTY_IF_MISSING = 2 };
struct rk_store *open_store(int how);
void	 store_failed(struct rk_store *, int status);
void	 close_store(struct rk_store *);
void	 parse_args(int argc, char *argv[], const char *allowed,
	    struct args *);

int	 cmd_ls(int, char *[]);
int	 cmd_last(int, char *[]);
int	 cmd_search(int, char *[]);
int	 cmd_export(int, char *[]);
int	 cmd_show(int, char *[]);
int	 cmd_rm(int, char *[]);
int	 cmd_merge(int, char *[]);
int	 cmd_done(int, char *[]);
int	 cmd_prune(int, char *[]);
int	 store_mode(int argc, char *argv[], int quiet, int nostore,
	    long expect);

#endif
