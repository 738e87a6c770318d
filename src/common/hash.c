/* hash.c - FNV-1a (see hash.h). */
#include "config.h"

#include "common/hash.h"

uint64_t
sl_fnv1a64(const char *s)
{
    return sl_fnv1a64_cont(SL_FNV1A64_OFFSET, s);
}
