/*
 * Test helper shared by the listfile unit tests (single lines and whole
 * files): short names for formats, line results and skip reasons, so
 * that tables of cases fit on a line.
 */
#ifndef CAFEGUARD_LISTFILE_TESTUTIL_H
#define CAFEGUARD_LISTFILE_TESTUTIL_H

#include "cafeguard/listfile.h"

#define FA     CG_LIST_AUTO
#define FH     CG_LIST_HOSTS
#define FD     CG_LIST_DOMAINS
#define FB     CG_LIST_ADBLOCK
#define FX     CG_LIST_HASHED
#define EMPTY  CG_LINE_EMPTY
#define ENTRY  CG_LINE_ENTRY
#define SKIP   CG_LINE_SKIPPED
#define NONE   CG_SKIP__COUNT
#define BAD    CG_SKIP_BAD_NAME
#define IP     CG_SKIP_IP_LITERAL
#define EXC    CG_SKIP_EXCEPTION
#define COSM   CG_SKIP_COSMETIC
#define URL    CG_SKIP_URL_RULE
#define WRONG  CG_SKIP_WRONG_FORMAT
#define TOOLNG CG_SKIP_TOO_LONG

#endif
