/* fhir_json.h - FHIR JSON text from a jansson document (fhir_json.c): what
 * json_dumps() writes, byte for byte, except that decimals are written as
 * they were read (1.50 stays 1.50: FHIR counts a decimal's precision),
 * and otherwise as the shortest text that reads back as the same double
 * (4.2, not jansson's 4.2000000000000002). Documents that keep their
 * decimals' text come from sl_fhir_json_loadb or the tape reader. */
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

/* A resource's text parsed as json_loadb(text, len, flags, je) would,
 * its decimals keeping their text: the fast reader (jtape.h) when it
 * takes the text, jansson (and its error) otherwise. Texts over
 * SL_FHIR_JSON_TAPE_MAX bytes go to jansson alone (a whole .json Bundle
 * that large would be held twice more: the copy the reader decodes in
 * place and its tape), and their decimals are written in the shortest
 * form. */
#define SL_FHIR_JSON_TAPE_MAX ((size_t)64 << 20)
json_t *sl_fhir_json_loadb(const char *text, size_t len, size_t flags,
                           json_error_t *je);

#endif
