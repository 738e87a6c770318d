/* freetext_eval.c - measures the free-text detectors (src/deid/text_detect.c)
 * on a marked test set (tests/data/freetext/sentences.txt, written by
 * tests/tools/freetext_gen.py): recall per category of the marked
 * identifiers, precision per category of what the detectors found.
 *
 *   freetext_eval [--check] [--verbose] FILE
 *
 * A line is a sentence in which each identifier is marked {kind:text};
 * lines starting with '#' are comments. An identifier counts as found
 * when the spans the scrubber would replace cover all its letters and
 * digits (whatever category found it: it is gone either way); a span
 * found counts as right when it overlaps a marked identifier, wrong when
 * it blanks text that had to survive. --check exits 1 unless every
 * category has recall >= 0.98 and precision >= 0.9 (issue 10's
 * targets); --verbose prints the misses and the false finds (the data is
 * synthetic). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deid/text_detect.h"

#define MAXLABELS 32

struct label {
    size_t a, b;
    int kind;
};

struct tally {
    long marked, found; /* recall */
    long spans, right;  /* precision */
};

static int
kind_of(const char *s, size_t n)
{
    int k;

    for (k = 0; k < SL_TEXT_NKINDS; k++)
        if (strlen(sl_text_kind_names[k]) == n &&
            strncmp(sl_text_kind_names[k], s, n) == 0)
            return k;
    return -1;
}

/* line without its marks into text; the marks into lab. -1 on a
 * malformed line. */
static int
unmark(const char *line, char *text, struct label *lab, size_t *nlab)
{
    const char *p = line;
    size_t o = 0;

    *nlab = 0;
    while (*p) {
        if (*p == '{') {
            const char *colon = strchr(p, ':'), *end = strchr(p, '}');
            int k;
            if (colon == NULL || end == NULL || colon > end ||
                *nlab == MAXLABELS ||
                (k = kind_of(p + 1, (size_t)(colon - p - 1))) < 0)
                return -1;
            lab[*nlab].a = o;
            memcpy(text + o, colon + 1, (size_t)(end - colon - 1));
            o += (size_t)(end - colon - 1);
            lab[*nlab].b = o;
            lab[*nlab].kind = k;
            (*nlab)++;
            p = end + 1;
        } else if (*p == '}') {
            return -1;
        } else
            text[o++] = *p++;
    }
    text[o] = '\0';
    return 0;
}

static int
is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

int
main(int argc, char **argv)
{
    struct tally t[SL_TEXT_NKINDS] = { 0 };
    struct label lab[MAXLABELS];
    char line[4096], text[4096];
    const char *path = NULL;
    int check = 0, verbose = 0, i, ok = 1;
    long lineno = 0, sentences = 0, survivors = 0, survivors_kept = 0;
    FILE *f;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0)
            check = 1;
        else if (strcmp(argv[i], "--verbose") == 0)
            verbose = 1;
        else
            path = argv[i];
    }
    if (path == NULL) {
        fprintf(stderr, "usage: freetext_eval [--check] [--verbose] FILE\n");
        return 1;
    }
    if ((f = fopen(path, "r")) == NULL) {
        perror(path);
        return 1;
    }
    while (fgets(line, sizeof(line), f)) {
        struct sl_text_spans sp = { 0 };
        size_t n = strcspn(line, "\n"), nlab, k, l, c;

        lineno++;
        line[n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (unmark(line, text, lab, &nlab) != 0) {
            fprintf(stderr,
                    "%s:%ld: a mark is not {kind:text} with a kind "
                    "of text_detect.h\n",
                    path, lineno);
            fclose(f);
            return 1;
        }
        sentences++;
        sl_text_detect(text, strlen(text), &sp);
        if (nlab == 0) {
            survivors++;
            survivors_kept += sp.n == 0;
        }
        for (l = 0; l < nlab; l++) {
            int found = 1;
            t[lab[l].kind].marked++;
            for (c = lab[l].a; c < lab[l].b && found; c++) {
                int covered = 0;
                if (!is_alnum((unsigned char)text[c]))
                    continue;
                for (k = 0; k < sp.n && !covered; k++)
                    covered = sp.v[k].start <= c && c < sp.v[k].end;
                found = covered;
            }
            t[lab[l].kind].found += found;
            if (!found && verbose)
                printf("missed %s: %.*s\t(line %ld)\n",
                       sl_text_kind_names[lab[l].kind],
                       (int)(lab[l].b - lab[l].a), text + lab[l].a, lineno);
        }
        for (k = 0; k < sp.n; k++) {
            int right = 0;
            for (l = 0; l < nlab && !right; l++)
                right = sp.v[k].start < lab[l].b && lab[l].a < sp.v[k].end;
            t[sp.v[k].kind].spans++;
            t[sp.v[k].kind].right += right;
            if (!right && verbose)
                printf("wrong %s: %.*s\t(line %ld)\n",
                       sl_text_kind_names[sp.v[k].kind],
                       (int)(sp.v[k].end - sp.v[k].start), text + sp.v[k].start,
                       lineno);
        }
        sl_text_spans_free(&sp);
    }
    fclose(f);

    printf("%ld sentences, %ld that must survive untouched: %ld did\n",
           sentences, survivors, survivors_kept);
    printf("%-8s %7s %6s %7s %9s %6s %9s\n", "category", "marked", "found",
           "recall", "detected", "right", "precision");
    {
        struct tally all = { 0 };
        for (i = 0; i < SL_TEXT_NKINDS; i++) {
            double r = t[i].marked ? (double)t[i].found / t[i].marked : 1;
            double p = t[i].spans ? (double)t[i].right / t[i].spans : 1;
            all.marked += t[i].marked;
            all.found += t[i].found;
            all.spans += t[i].spans;
            all.right += t[i].right;
            printf("%-8s %7ld %6ld %7.3f %9ld %6ld %9.3f\n",
                   sl_text_kind_names[i], t[i].marked, t[i].found, r,
                   t[i].spans, t[i].right, p);
            if (r < 0.98 || p < 0.9)
                ok = 0;
        }
        printf("%-8s %7ld %6ld %7.3f %9ld %6ld %9.3f\n", "all", all.marked,
               all.found, all.marked ? (double)all.found / all.marked : 1,
               all.spans, all.right,
               all.spans ? (double)all.right / all.spans : 1);
    }
    if (survivors_kept != survivors)
        ok = 0;
    if (check && !ok) {
        printf("below the targets: recall 0.98 and precision 0.9 in every "
               "category, every sentence to survive untouched\n");
        return 1;
    }
    return 0;
}
