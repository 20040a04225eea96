/*
 * Private to cafeguardctl: the commands that live outside ctl.c (its
 * table names them).  Each takes the command's own argv (argv[0] is the
 * command name) and returns the tool's exit status.
 */
#ifndef CAFEGUARD_CTL_INTERNAL_H
#define CAFEGUARD_CTL_INTERNAL_H

#define CG_CTL_DEFAULT_CONF CAFEGUARD_SYSCONFDIR "/cafeguard.conf"

/* ctl_log.c */
int cg_ctl_log(int argc, char **argv);
/* ctl_report.c */
int cg_ctl_report(int argc, char **argv);
/* ctl_passwd.c */
int cg_ctl_passwd(int argc, char **argv);

#endif
