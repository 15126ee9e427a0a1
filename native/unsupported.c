/*
 * unsupported.c: the addon built on systems other than Linux. It exports nothing; the
 * TypeScript layer never loads it there and answers every call with ENOSYS and the reason.
 */
#include <node_api.h>

NAPI_MODULE_INIT() { return exports; }
