#ifndef DOCKET_CLMDB_SHIM_H
#define DOCKET_CLMDB_SHIM_H
/* The LMDB C API, from Debian's liblmdb-dev. */
#include <lmdb.h>
#endif
