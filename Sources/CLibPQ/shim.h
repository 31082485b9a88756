#ifndef DABBA_CLIBPQ_SHIM_H
#define DABBA_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
