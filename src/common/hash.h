/* hash.h - FNV-1a, the one non-cryptographic string hash of sluice: the
 * slots of in-memory hash tables and indexes. Never for anything a reader
 * could attack or that must stay secret (that is HMAC, in keys.h). */
#ifndef SL_COMMON_HASH_H
#define SL_COMMON_HASH_H

#include <stdint.h>

/* The 64-bit FNV-1a parameters (FNV's reference). */
#define SL_FNV1A64_OFFSET 14695981039346656037ULL
#define SL_FNV1A64_PRIME  1099511628211ULL

/* The standard offset basis with its last digit lost: the seed the FHIR
 * engine's tables and the DICOM export's key index were written with. It
 * hashes as well as the real one; they keep it so that their tables, the
 * bits the FHIR engine's learned-value set sets and the order of
 * anything that follows a hash stay as they were. New users take
 * SL_FNV1A64_OFFSET. */
#define SL_FNV1A64_OFFSET_SHORT 1469598103934665603ULL

/* One byte more into the hash h. */
static inline uint64_t
sl_fnv1a64_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * SL_FNV1A64_PRIME;
}

/* FNV-1a of s from the hash h of what came before it (or a seed such as
 * SL_FNV1A64_OFFSET_SHORT): sl_fnv1a64_cont(sl_fnv1a64(a), b) is the hash
 * of a and b joined. Inline: the FHIR engine hashes every element path. */
static inline uint64_t
sl_fnv1a64_cont(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++)
        h = sl_fnv1a64_step(h, (unsigned char)*s);
    return h;
}

/* FNV-1a of the NUL-terminated s with the standard offset basis. */
uint64_t sl_fnv1a64(const char *s);

#endif
