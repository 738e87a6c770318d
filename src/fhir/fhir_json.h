/* fhir_json.h - FHIR JSON text from a jansson document (fhir_json.c): what
 * json_dumps() writes, byte for byte, except that decimals are the
 * shortest text that reads back as the same double (4.2, not jansson's
 * 4.2000000000000002). */
#ifndef SL_FHIR_JSON_H
#define SL_FHIR_JSON_H

#include <stddef.h>

#include <jansson.h>

/* j as JSON text (malloc'd, NUL-terminated), with json_dumps's flags
 * JSON_COMPACT, JSON_INDENT(n) and JSON_SORT_KEYS (objects are written in
 * their order otherwise, as jansson does); NULL when j is NULL. */
char *sl_fhir_json_dumps(const json_t *j, size_t flags);

/* The text of a FHIR decimal d into buf (at least 32 bytes): the shortest
 * of up to 17 significant digits that reads back as d, ".0" added to a
 * whole number, the exponent as jansson writes it. Returns the length, or
 * 0 for what JSON cannot hold (inf, nan) or a buffer too small. */
size_t sl_fhir_real_text(double d, char *buf, size_t cap);

#endif
