#ifndef DABBA_CSQLITE_SHIM_H
#define DABBA_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
