/* fp_func.c - FHIRPath functions over collections: existence, filtering
 * and projection, subsetting, combining, aggregates, the tree and types.
 * Strings, maths and conversions are in fp_func_str.c, FHIR's additions
 * in fp_func_fhir.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/fhir.h"
#include "fhirpath/fp_int.h"

/* ---- helpers ----------------------------------------------------------- */
int
fp_arg(struct fp_ctx *cx, const struct fp_node *n, int k, struct fp_coll *out)
{
    const struct fp_coll *save = cx->arg_focus;
    static const struct fp_coll none;
    int rc;

    rc = fp_eval(cx, n->args[k], save ? save : &none, out);
    cx->arg_focus = save;
    return rc;
}

int
fp_arg_str(struct fp_ctx *cx, const struct fp_node *n, int k, char **s)
{
    struct fp_coll c = {0};
    struct fp_item it;
    int rc;

    *s = NULL;
    if ((rc = fp_arg(cx, n, k, &c)) != SL_OK)
        goto out;
    if (c.n > 1) {
        rc = fp_err(cx, n, SL_EPARSE, "%s(): argument %d must be one string",
                    n->name, k + 1);
        goto out;
    }
    if (c.n == 1) {
        fp_item_system(&c.v[0], &it);
        if (it.kind == FK_STR || it.kind == FK_DATE || it.kind == FK_DATETIME ||
            it.kind == FK_TIME)
            *s = sl_strdup(fp_item_str(&it));
        else
            rc = fp_err(cx, n, SL_EPARSE, "%s(): argument %d must be a "
                        "string", n->name, k + 1);
        fp_item_clear(&it);
    }
out:
    fp_coll_free(&c);
    return rc;
}

int
fp_arg_int(struct fp_ctx *cx, const struct fp_node *n, int k, long *v,
           int *empty)
{
    struct fp_coll c = {0};
    struct fp_item it;
    int rc;

    *empty = 1;
    if ((rc = fp_arg(cx, n, k, &c)) != SL_OK)
        goto out;
    if (c.n > 1) {
        rc = fp_err(cx, n, SL_EPARSE, "%s(): argument %d must be one integer",
                    n->name, k + 1);
        goto out;
    }
    if (c.n == 1) {
        fp_item_system(&c.v[0], &it);
        if (it.kind == FK_INT) {
            *v = (long)json_integer_value(it.j);
            *empty = 0;
        } else {
            rc = fp_err(cx, n, SL_EPARSE, "%s(): argument %d must be an "
                        "integer", n->name, k + 1);
        }
        fp_item_clear(&it);
    }
out:
    fp_coll_free(&c);
    return rc;
}

int
fp_single(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
          struct fp_item *it)
{
    if (in->n == 0)
        return 1;
    if (in->n > 1)
        return fp_err(cx, n, SL_EPARSE, "%s() needs a single item, not a "
                      "collection of %zu", n->name, in->n);
    fp_item_system(&in->v[0], it);
    return 0;
}

/* Evaluates argument k with $this = in->v[i]. */
static int
lambda(struct fp_ctx *cx, const struct fp_node *n, int k,
       const struct fp_coll *in, size_t i, struct fp_coll *out)
{
    struct fp_coll one = {0};
    const struct fp_item *save_item = cx->this_item;
    const struct fp_coll *save_focus = cx->arg_focus;
    long save_index = cx->index;
    int rc;

    fp_coll_add(&one, &in->v[i]);
    cx->this_item = &in->v[i];
    cx->index = (long)i;
    rc = fp_eval(cx, n->args[k], &one, out);
    cx->this_item = save_item;
    cx->index = save_index;
    cx->arg_focus = save_focus;
    fp_coll_free(&one);
    return rc;
}

/* The boolean of argument k for item i: 1, 0, -1 (empty). */
static int
lambda_bool(struct fp_ctx *cx, const struct fp_node *n, int k,
            const struct fp_coll *in, size_t i, int *b)
{
    struct fp_coll r = {0};
    int rc;

    if ((rc = lambda(cx, n, k, in, i, &r)) == SL_OK) {
        *b = fp_coll_bool(&r);
        if (*b == -2)
            rc = fp_err(cx, n, SL_EPARSE, "%s(): the criteria give several "
                        "items for one input", n->name);
    }
    fp_coll_free(&r);
    return rc;
}

static int
has_item(const struct fp_coll *c, const struct fp_item *it)
{
    size_t i;
    for (i = 0; i < c->n; i++)
        if (fp_item_equal(&c->v[i], it) == 1)
            return 1;
    return 0;
}

/* The type name of an is()/as()/ofType() argument, written as a path. */
static int
type_arg(struct fp_ctx *cx, const struct fp_node *n, char *buf, size_t len)
{
    const struct fp_node *a = n->args[0];

    if (a->kind == FN_MEMBER && a->left == NULL) {
        snprintf(buf, len, "%s", a->name);
        return SL_OK;
    }
    if (a->kind == FN_MEMBER && a->left && a->left->kind == FN_MEMBER &&
        a->left->left == NULL) {
        snprintf(buf, len, "%s.%s", a->left->name, a->name);
        return SL_OK;
    }
    return fp_err(cx, n, SL_EPARSE, "%s() needs a type name", n->name);
}

/* ---- existence ------------------------------------------------------------ */
static int
f_empty(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
        struct fp_coll *out)
{
    (void)cx, (void)n;
    fp_add_bool(out, in->n == 0);
    return SL_OK;
}

static int
f_exists(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
         struct fp_coll *out)
{
    size_t i;
    int b, rc;

    if (n->nargs == 0) {
        fp_add_bool(out, in->n > 0);
        return SL_OK;
    }
    for (i = 0; i < in->n; i++) {
        if ((rc = lambda_bool(cx, n, 0, in, i, &b)) != SL_OK)
            return rc;
        if (b == 1) {
            fp_add_bool(out, 1);
            return SL_OK;
        }
    }
    fp_add_bool(out, 0);
    return SL_OK;
}

static int
f_all(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
      struct fp_coll *out)
{
    size_t i;
    int b, rc;

    for (i = 0; i < in->n; i++) {
        if ((rc = lambda_bool(cx, n, 0, in, i, &b)) != SL_OK)
            return rc;
        if (b != 1) {
            fp_add_bool(out, 0);
            return SL_OK;
        }
    }
    fp_add_bool(out, 1);
    return SL_OK;
}

/* allTrue, anyTrue, allFalse, anyFalse */
static int
f_bools(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
        struct fp_coll *out)
{
    int want = strstr(n->name, "True") != NULL, all = n->name[1] == 'l';
    size_t i;

    for (i = 0; i < in->n; i++) {
        struct fp_item s;
        int b;
        fp_item_system(&in->v[i], &s);
        if (s.kind != FK_BOOL) {
            fp_item_clear(&s);
            return fp_err(cx, n, SL_EPARSE, "%s() needs booleans", n->name);
        }
        b = json_is_true(s.j);
        fp_item_clear(&s);
        if (all && b != want) {
            fp_add_bool(out, 0);
            return SL_OK;
        }
        if (!all && b == want) {
            fp_add_bool(out, 1);
            return SL_OK;
        }
    }
    fp_add_bool(out, all);
    return SL_OK;
}

static int
f_subset(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
         struct fp_coll *out)
{
    struct fp_coll other = {0};
    const struct fp_coll *a, *b;
    size_t i;
    int rc, v = 1;

    if ((rc = fp_arg(cx, n, 0, &other)) != SL_OK)
        goto out;
    a = strcmp(n->name, "subsetOf") == 0 ? in : &other;
    b = a == in ? &other : in;
    for (i = 0; v && i < a->n; i++)
        v = has_item(b, &a->v[i]);
    fp_add_bool(out, v);
out:
    fp_coll_free(&other);
    return rc;
}

static int
f_count(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
        struct fp_coll *out)
{
    (void)cx, (void)n;
    fp_add_int(out, (json_int_t)in->n);
    return SL_OK;
}

static int
f_distinct(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
           struct fp_coll *out)
{
    struct fp_coll d = {0};
    size_t i;

    (void)cx;
    for (i = 0; i < in->n; i++)
        if (!has_item(&d, &in->v[i]))
            fp_coll_add(&d, &in->v[i]);
    if (strcmp(n->name, "isDistinct") == 0)
        fp_add_bool(out, d.n == in->n);
    else
        for (i = 0; i < d.n; i++)
            fp_coll_add(out, &d.v[i]);
    fp_coll_free(&d);
    return SL_OK;
}

/* ---- filtering and projection ---------------------------------------------- */
static int
f_where(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
        struct fp_coll *out)
{
    size_t i;
    int b, rc;

    for (i = 0; i < in->n; i++) {
        if ((rc = lambda_bool(cx, n, 0, in, i, &b)) != SL_OK)
            return rc;
        if (b == 1)
            fp_coll_add(out, &in->v[i]);
    }
    return SL_OK;
}

static int
f_select(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
         struct fp_coll *out)
{
    size_t i;
    int rc;

    for (i = 0; i < in->n; i++)
        if ((rc = lambda(cx, n, 0, in, i, out)) != SL_OK)
            return rc;
    return SL_OK;
}

static int
f_repeat(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
         struct fp_coll *out)
{
    struct fp_coll work = {0}, next = {0};
    size_t i, k, rounds = 0;
    int rc = SL_OK;

    for (i = 0; i < in->n; i++)
        fp_coll_add(&work, &in->v[i]);
    while (work.n > 0 && rounds++ < 10000) {
        for (i = 0; i < work.n; i++)
            if ((rc = lambda(cx, n, 0, &work, i, &next)) != SL_OK)
                goto out;
        fp_coll_free(&work);
        for (k = 0; k < next.n; k++) {
            if (has_item(out, &next.v[k]))
                continue;
            fp_coll_add(out, &next.v[k]);
            fp_coll_add(&work, &next.v[k]);
        }
        fp_coll_free(&next);
    }
out:
    fp_coll_free(&work);
    fp_coll_free(&next);
    return rc;
}

static int
f_oftype(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
         struct fp_coll *out)
{
    char t[128];
    size_t i;
    int rc;

    if ((rc = type_arg(cx, n, t, sizeof(t))) != SL_OK)
        return rc;
    if (strcmp(n->name, "ofType") != 0 && in->n > 1)
        return fp_err(cx, n, SL_EPARSE, "%s() needs a single item", n->name);
    for (i = 0; i < in->n; i++) {
        int is = fp_is_type(&in->v[i], t);
        if (strcmp(n->name, "is") == 0)
            fp_add_bool(out, is);
        else if (is)
            fp_coll_add(out, &in->v[i]);
    }
    return SL_OK;
}

/* ---- subsetting ---------------------------------------------------------- */
static int
f_subsetting(struct fp_ctx *cx, const struct fp_node *n,
             const struct fp_coll *in, struct fp_coll *out)
{
    const char *f = n->name;
    long k = 0;
    int empty = 0, rc;
    size_t i, from = 0, to = in->n;

    if (n->nargs == 1 && (rc = fp_arg_int(cx, n, 0, &k, &empty)) != SL_OK)
        return rc;
    if (strcmp(f, "single") == 0) {
        if (in->n > 1)
            return fp_err(cx, n, SL_EPARSE, "single() was given %zu items",
                          in->n);
    } else if (strcmp(f, "first") == 0) {
        to = in->n ? 1 : 0;
    } else if (strcmp(f, "last") == 0) {
        from = in->n ? in->n - 1 : 0;
    } else if (strcmp(f, "tail") == 0) {
        from = in->n ? 1 : 0;
    } else if (strcmp(f, "skip") == 0) {
        from = empty || k < 0 ? 0 : (size_t)k < in->n ? (size_t)k : in->n;
    } else { /* take */
        to = empty || k < 0 ? 0 : (size_t)k < in->n ? (size_t)k : in->n;
    }
    for (i = from; i < to; i++)
        fp_coll_add(out, &in->v[i]);
    return SL_OK;
}

/* intersect, exclude, union, combine */
static int
f_sets(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
       struct fp_coll *out)
{
    struct fp_coll other = {0};
    const char *f = n->name;
    size_t i;
    int rc;

    if ((rc = fp_arg(cx, n, 0, &other)) != SL_OK)
        goto out;
    if (strcmp(f, "intersect") == 0) {
        for (i = 0; i < in->n; i++)
            if (has_item(&other, &in->v[i]) && !has_item(out, &in->v[i]))
                fp_coll_add(out, &in->v[i]);
    } else if (strcmp(f, "exclude") == 0) {
        for (i = 0; i < in->n; i++)
            if (!has_item(&other, &in->v[i]))
                fp_coll_add(out, &in->v[i]);
    } else if (strcmp(f, "union") == 0) {
        for (i = 0; i < in->n; i++)
            if (!has_item(out, &in->v[i]))
                fp_coll_add(out, &in->v[i]);
        for (i = 0; i < other.n; i++)
            if (!has_item(out, &other.v[i]))
                fp_coll_add(out, &other.v[i]);
    } else {
        for (i = 0; i < in->n; i++)
            fp_coll_add(out, &in->v[i]);
        for (i = 0; i < other.n; i++)
            fp_coll_add(out, &other.v[i]);
    }
out:
    fp_coll_free(&other);
    return rc;
}

/* ---- logic and utility ---------------------------------------------------- */
static int
f_not(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
      struct fp_coll *out)
{
    int b = fp_coll_bool(in);

    if (b == -2)
        return fp_err(cx, n, SL_EPARSE, "not() needs a single boolean");
    if (b >= 0)
        fp_add_bool(out, !b);
    return SL_OK;
}

static int
f_iif(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
      struct fp_coll *out)
{
    struct fp_coll c = {0};
    int rc, b;

    (void)in;
    if ((rc = fp_arg(cx, n, 0, &c)) != SL_OK)
        goto out;
    if ((b = fp_coll_bool(&c)) == -2) {
        rc = fp_err(cx, n, SL_EPARSE, "iif() needs a single boolean "
                    "criterion");
        goto out;
    }
    if (b == 1)
        rc = fp_arg(cx, n, 1, out);
    else if (n->nargs > 2)
        rc = fp_arg(cx, n, 2, out);
out:
    fp_coll_free(&c);
    return rc;
}

static int
f_trace(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
        struct fp_coll *out)
{
    size_t i;

    /* trace() goes nowhere: its values may be patient data, and sluice
     * logs none (the name is checked, the collection passed through). */
    (void)cx, (void)n;
    for (i = 0; i < in->n; i++)
        fp_coll_add(out, &in->v[i]);
    return SL_OK;
}

static int
f_aggregate(struct fp_ctx *cx, const struct fp_node *n,
            const struct fp_coll *in, struct fp_coll *out)
{
    struct fp_coll total = {0}, next = {0};
    const struct fp_coll *save = cx->total;
    size_t i;
    int rc = SL_OK;

    if (n->nargs > 1 && (rc = fp_arg(cx, n, 1, &total)) != SL_OK)
        goto out;
    for (i = 0; i < in->n; i++) {
        cx->total = &total;
        rc = lambda(cx, n, 0, in, i, &next);
        cx->total = save;
        if (rc != SL_OK)
            goto out;
        fp_coll_move(&total, &next);
    }
    fp_coll_move(out, &total);
out:
    cx->total = save;
    fp_coll_free(&total);
    fp_coll_free(&next);
    return rc;
}

/* sum, min, max, avg (the aggregates FHIRPath added after N1, which the
 * reference engine has) */
static int
f_agg(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
      struct fp_coll *out)
{
    const char *f = n->name;
    double total = 0, x;
    json_int_t itotal = 0;
    int ints = 1, cmp;
    size_t i, best = 0;

    if (in->n == 0)
        return SL_OK;
    if (strcmp(f, "min") == 0 || strcmp(f, "max") == 0) {
        for (i = 1; i < in->n; i++) {
            int r = fp_item_compare(&in->v[i], &in->v[best], &cmp);
            if (r == -2)
                return fp_err(cx, n, SL_EPARSE, "%s(): the items cannot be "
                              "compared", f);
            if (r == 0 && (f[1] == 'i' ? cmp < 0 : cmp > 0))
                best = i;
        }
        {
            struct fp_item s;
            fp_item_system(&in->v[best], &s);
            fp_coll_take(out, &s);
        }
        return SL_OK;
    }
    for (i = 0; i < in->n; i++) {
        struct fp_item s;
        fp_item_system(&in->v[i], &s);
        if (!fp_item_num(&s, &x)) {
            fp_item_clear(&s);
            return fp_err(cx, n, SL_EPARSE, "%s() needs numbers", f);
        }
        if (s.kind != FK_INT ||
            __builtin_add_overflow(itotal, json_integer_value(s.j), &itotal))
            ints = 0; /* a decimal, or an integer sum too large */
        total += x;
        fp_item_clear(&s);
    }
    if (strcmp(f, "avg") == 0)
        fp_add_dec(out, total / (double)in->n);
    else if (ints)
        fp_add_int(out, itotal);
    else
        fp_add_dec(out, total);
    return SL_OK;
}

/* ---- the tree -------------------------------------------------------------- */
static int
f_children(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
           struct fp_coll *out)
{
    struct fp_coll work = {0}, next = {0};
    size_t i;
    int depth = 0;

    (void)cx;
    for (i = 0; i < in->n; i++)
        fp_children_all(&in->v[i], &work);
    if (strcmp(n->name, "children") == 0) {
        fp_coll_move(out, &work);
        return SL_OK;
    }
    while (work.n > 0 && depth++ < 1000) {
        for (i = 0; i < work.n; i++)
            fp_children_all(&work.v[i], &next);
        for (i = 0; i < work.n; i++) /* moved, not copied */
            fp_coll_take(out, &work.v[i]);
        work.n = 0;
        fp_coll_move(&work, &next);
    }
    fp_coll_free(&work);
    return SL_OK;
}

static const struct fp_fn_entry fns[] = {
    {"empty", 0, 0, f_empty},         {"exists", 0, 1, f_exists},
    {"all", 1, 1, f_all},             {"allTrue", 0, 0, f_bools},
    {"anyTrue", 0, 0, f_bools},       {"allFalse", 0, 0, f_bools},
    {"anyFalse", 0, 0, f_bools},      {"subsetOf", 1, 1, f_subset},
    {"supersetOf", 1, 1, f_subset},   {"count", 0, 0, f_count},
    {"distinct", 0, 0, f_distinct},   {"isDistinct", 0, 0, f_distinct},
    {"where", 1, 1, f_where},         {"select", 1, 1, f_select},
    {"repeat", 1, 1, f_repeat},       {"ofType", 1, 1, f_oftype},
    {"is", 1, 1, f_oftype},           {"as", 1, 1, f_oftype},
    {"single", 0, 0, f_subsetting},   {"first", 0, 0, f_subsetting},
    {"last", 0, 0, f_subsetting},     {"tail", 0, 0, f_subsetting},
    {"skip", 1, 1, f_subsetting},     {"take", 1, 1, f_subsetting},
    {"intersect", 1, 1, f_sets},      {"exclude", 1, 1, f_sets},
    {"union", 1, 1, f_sets},          {"combine", 1, 1, f_sets},
    {"not", 0, 0, f_not},             {"iif", 2, 3, f_iif},
    {"trace", 1, 2, f_trace},         {"aggregate", 1, 2, f_aggregate},
    {"children", 0, 0, f_children},   {"descendants", 0, 0, f_children},
    {"sum", 0, 0, f_agg},             {"min", 0, 0, f_agg},
    {"max", 0, 0, f_agg},             {"avg", 0, 0, f_agg},
    {NULL, 0, 0, NULL},
};

static const struct fp_fn_entry *
find(const struct fp_fn_entry *t, const char *name)
{
    for (; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

const struct fp_fn_entry *
fp_fn_find(const char *name)
{
    const struct fp_fn_entry *f = find(fns, name);

    if (f == NULL)
        f = find(fp_fns_str, name);
    if (f == NULL)
        f = find(fp_fns_fhir, name);
    return f;
}

int
fp_call(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
        struct fp_coll *out)
{
    const struct fp_fn_entry *f = n->fn ? n->fn : fp_fn_find(n->name);

    if (f == NULL)
        return fp_err(cx, n, SL_EPARSE, "unknown function %s()", n->name);
    if (n->nargs < f->min || n->nargs > f->max)
        return fp_err(cx, n, SL_EPARSE, "%s() takes %d to %d arguments, not "
                      "%d", n->name, f->min, f->max, n->nargs);
    return f->fn(cx, n, in, out);
}
