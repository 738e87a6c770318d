/* date.h - civil (proleptic Gregorian) calendar arithmetic, shared by the
 * FHIR and DICOM date shifts so that both move a date the same way. */
#ifndef SL_COMMON_DATE_H
#define SL_COMMON_DATE_H

/* Days since 1970-01-01 of the date y-m-d (m 1 to 12, d 1 to 31; a day
 * past the end of its month counts on into the next). Any year, 0 and
 * negative years included (1 BC is year 0). */
long sl_days_from_civil(long y, int m, int d);

/* The date of days since 1970-01-01: the inverse of sl_days_from_civil. */
void sl_civil_from_days(long days, long *y, int *m, int *d);

#endif
