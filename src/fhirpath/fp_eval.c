/* fp_eval.c - evaluation of the syntax tree: navigation with FHIR types
 * (choice elements, primitives with extensions, contained resources),
 * variables, operators with FHIRPath's empty-collection semantics, and
 * the public entry points. The functions are in fp_func.c. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/fhir.h"
#include "fhirpath/fp_int.h"

struct sl_fp_result *fp_result_new(struct fp_coll *c);

int
fp_err(struct fp_ctx *cx, const struct fp_node *n, int code, const char *fmt,
       ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cx->err->code != SL_OK) /* keep the first, innermost error */
        return cx->err->code;
    return SL_ERR(cx->err, code, "column %d: %s", n ? n->pos : 0, msg);
}

/* ---- types of children ------------------------------------------------- */
/* Sets a child's type and children base from its table resolution. */
static void
child_type(const char *canon, const char *type, json_t *v, char *otype,
           size_t tlen, char *opath, size_t plen)
{
    const char *rt = json_string_value(json_object_get(v, "resourceType"));

    if (rt != NULL && (strcmp(type, "Resource") == 0 || type[0] == '\0' ||
                       sl_fhir_type_is_resource(rt))) {
        fp_strlcpy(otype, rt, tlen);
        fp_strlcpy(opath, rt, plen);
    } else if (type[0] == '@') {
        fp_strlcpy(otype, "BackboneElement", tlen);
        fp_strlcpy(opath, type + 1, plen);
    } else if (strcmp(type, "BackboneElement") == 0 ||
               strcmp(type, "Element") == 0) {
        fp_strlcpy(otype, type, tlen);
        fp_strlcpy(opath, canon, plen);
    } else {
        fp_strlcpy(otype, type, tlen);
        fp_strlcpy(opath, type, plen);
    }
}

/* Adds the values of key (and its "_key" sibling) of object o. */
static void
add_member(const struct fp_item *it, json_t *o, const char *key,
           struct fp_coll *out)
{
    json_t *v = json_object_get(o, key), *x = NULL;
    char ukey[128], canon[256], type[64], ctype[40], cpath[112];
    size_t i, n;

    if (strlen(key) + 2 > sizeof(ukey))
        return;
    ukey[0] = '_';
    fp_strlcpy(ukey + 1, key, sizeof(ukey) - 1);
    x = json_object_get(o, ukey);
    if (v == NULL && x == NULL)
        return;
    type[0] = '\0';
    canon[0] = '\0';
    if (it->path[0] == '\0' ||
        !sl_fhir_elem_resolve(it->path, key, canon, sizeof(canon), type,
                              sizeof(type)))
        type[0] = canon[0] = '\0';
    if (json_is_array(v) || (v == NULL && json_is_array(x))) {
        n = json_is_array(v) ? json_array_size(v) : json_array_size(x);
        for (i = 0; i < n; i++) {
            json_t *e = json_array_get(v, i), *ex = json_array_get(x, i);
            if (json_is_null(e))
                e = NULL;
            if (json_is_null(ex))
                ex = NULL;
            if (e == NULL && ex == NULL)
                continue;
            child_type(canon, type, e, ctype, sizeof(ctype), cpath,
                       sizeof(cpath));
            fp_add_node(out, e, ex, ctype, cpath);
        }
        return;
    }
    if (json_is_null(v))
        v = NULL;
    if (v == NULL && !json_is_object(x))
        return;
    child_type(canon, type, v, ctype, sizeof(ctype), cpath, sizeof(cpath));
    fp_add_node(out, v, json_is_object(x) ? x : NULL, ctype, cpath);
}

void
fp_children_named(const struct fp_item *it, const char *name,
                  struct fp_coll *out)
{
    json_t *o = it->j;
    size_t nl = strlen(name);
    const char *k;
    json_t *v;

    if (it->kind != FK_NODE)
        return;
    if (!json_is_object(o)) {
        /* a primitive: its id and extensions live in "_name" */
        if (json_is_object(it->ext) &&
            (strcmp(name, "extension") == 0 || strcmp(name, "id") == 0)) {
            struct fp_item e = *it;
            snprintf(e.path, sizeof(e.path), "Element");
            add_member(&e, it->ext, name, out);
        }
        return;
    }
    {
        char ukey[128];
        ukey[0] = '_';
        fp_strlcpy(ukey + 1, name, sizeof(ukey) - 1);
        if (json_object_get(o, name) || json_object_get(o, ukey)) {
            add_member(it, o, name, out);
            return;
        }
    }
    /* a choice element: value finds valueQuantity, valueString... but
     * ElementDefinition.max is not maxValueQuantity: where the type is
     * known, only NAME[x] elements are choices */
    if (it->path[0] != '\0') {
        char choice[256];
        snprintf(choice, sizeof(choice), "%s.%s[x]", it->path, name);
        if (sl_fhir_type_lookup(choice) == NULL)
            return;
    }
    json_object_foreach(o, k, v) {
        if (strncmp(k, name, nl) == 0 && isupper((unsigned char)k[nl])) {
            add_member(it, o, k, out);
        } else if (k[0] == '_' && strncmp(k + 1, name, nl) == 0 &&
                   isupper((unsigned char)k[nl + 1]) &&
                   json_object_get(o, k + 1) == NULL) {
            add_member(it, o, k + 1, out);
        }
    }
}

void
fp_children_all(const struct fp_item *it, struct fp_coll *out)
{
    const char *k;
    json_t *v;

    if (it->kind != FK_NODE)
        return;
    if (!json_is_object(it->j)) {
        if (json_is_object(it->ext)) {
            struct fp_item e = *it;
            snprintf(e.path, sizeof(e.path), "Element");
            json_object_foreach(it->ext, k, v) add_member(&e, it->ext, k, out);
        }
        return;
    }
    json_object_foreach(it->j, k, v) {
        if (strcmp(k, "resourceType") == 0)
            continue;
        if (k[0] == '_') {
            if (json_object_get(it->j, k + 1) == NULL)
                add_member(it, it->j, k + 1, out);
            continue;
        }
        add_member(it, it->j, k, out);
    }
}

/* ---- types ----------------------------------------------------------------- */
/* Is type a kind of name, other than name itself? Only these names have
 * subtypes in R4 (and in FHIRPath's view of its primitives). */
static int
fhir_base_of(const char *type, const char *name)
{
    switch (name[0]) {
    case 'R':
        return strcmp(name, "Resource") == 0 && sl_fhir_type_is_resource(type);
    case 'D':
        return strcmp(name, "DomainResource") == 0 &&
               sl_fhir_type_is_resource(type) && strcmp(type, "Bundle") != 0 &&
               strcmp(type, "Binary") != 0 && strcmp(type, "Parameters") != 0;
    case 'E':
        return strcmp(name, "Element") == 0 && !sl_fhir_type_is_resource(type);
    case 'Q':
        return strcmp(name, "Quantity") == 0 &&
               (strcmp(type, "Age") == 0 || strcmp(type, "Duration") == 0 ||
                strcmp(type, "Distance") == 0 || strcmp(type, "Count") == 0 ||
                strcmp(type, "SimpleQuantity") == 0 ||
                strcmp(type, "MoneyQuantity") == 0);
    case 's':
        return strcmp(name, "string") == 0 &&
               (strcmp(type, "code") == 0 || strcmp(type, "id") == 0 ||
                strcmp(type, "markdown") == 0);
    case 'u':
        return strcmp(name, "uri") == 0 &&
               (strcmp(type, "url") == 0 || strcmp(type, "canonical") == 0 ||
                strcmp(type, "oid") == 0 || strcmp(type, "uuid") == 0);
    case 'i':
        return strcmp(name, "integer") == 0 &&
               (strcmp(type, "positiveInt") == 0 ||
                strcmp(type, "unsignedInt") == 0);
    default:
        return 0;
    }
}

int
fp_is_type(const struct fp_item *it, const char *name)
{
    static const char *const sys[] = {
        "", "Boolean", "Integer", "Decimal", "String", "Date", "DateTime",
        "Time", "Quantity"};
    int system = strncmp(name, "System.", 7) == 0;
    int fhir = strncmp(name, "FHIR.", 5) == 0;

    if (system)
        name += 7;
    else if (fhir)
        name += 5;
    if (it->kind != FK_NODE)
        return !fhir && strcmp(sys[it->kind], name) == 0;
    if (system || it->type[0] == '\0')
        return 0;
    return strcmp(it->type, name) == 0 || fhir_base_of(it->type, name);
}

/* ---- resolve() ------------------------------------------------------------- */
static json_t *
find_in(json_t *res, const char *ref)
{
    json_t *entries, *e, *c;
    size_t i;
    const char *rt, *id;
    char key[512];

    if (res == NULL)
        return NULL;
    if (ref[0] == '#') {
        if (ref[1] == '\0')
            return res;
        json_array_foreach(json_object_get(res, "contained"), i, c) {
            id = json_string_value(json_object_get(c, "id"));
            if (id && strcmp(id, ref + 1) == 0)
                return c;
        }
        return NULL;
    }
    entries = json_object_get(res, "entry");
    json_array_foreach(entries, i, e) {
        const char *full = json_string_value(json_object_get(e, "fullUrl"));
        json_t *r = json_object_get(e, "resource");
        size_t fl, rl = strlen(ref);
        if (full && strcmp(full, ref) == 0)
            return r;
        rt = json_string_value(json_object_get(r, "resourceType"));
        id = json_string_value(json_object_get(r, "id"));
        if (rt && id) {
            snprintf(key, sizeof(key), "%s/%s", rt, id);
            if (strcmp(key, ref) == 0)
                return r;
        }
        /* a relative reference matches the end of an absolute fullUrl */
        fl = full ? strlen(full) : 0;
        if (full && strchr(ref, ':') == NULL && fl > rl &&
            strcmp(full + fl - rl, ref) == 0 && full[fl - rl - 1] == '/')
            return r;
    }
    return NULL;
}

json_t *
fp_resolve_ref(struct fp_ctx *cx, const char *ref)
{
    json_t *r = NULL;
    const struct sl_fp_env *env = cx->env;

    if (ref == NULL)
        return NULL;
    if (env && env->resource && ref[0] == '#')
        r = find_in(env->resource, ref);
    if (r == NULL && env && env->root)
        r = find_in(env->root, ref);
    if (r == NULL && ref[0] == '#')
        r = find_in(cx->focus, ref);
    if (r == NULL && cx->focus &&
        json_object_get(cx->focus, "entry") != NULL)
        r = find_in(cx->focus, ref);
    return r;
}

/* ---- operators ------------------------------------------------------------- */
int
fp_coll_bool(const struct fp_coll *c)
{
    struct fp_item s;
    int b;

    if (c->n == 0)
        return -1;
    if (c->n > 1)
        return -2;
    fp_item_system(&c->v[0], &s);
    b = s.kind == FK_BOOL ? json_is_true(s.j) : 1;
    fp_item_clear(&s);
    return b;
}

static int
logic(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *focus,
      struct fp_coll *out)
{
    struct fp_coll a = {0}, b = {0};
    int l, r, v = -1, rc;
    const char *op = n->name;

    if ((rc = fp_eval(cx, n->left, focus, &a)) != SL_OK)
        goto out;
    if ((l = fp_coll_bool(&a)) == -2) {
        rc = fp_err(cx, n, SL_EPARSE, "'%s' needs a single boolean on its "
                    "left", op);
        goto out;
    }
    /* short cuts that need not evaluate the right side */
    if ((strcmp(op, "and") == 0 && l == 0) ||
        (strcmp(op, "or") == 0 && l == 1) ||
        (strcmp(op, "implies") == 0 && l == 0)) {
        fp_add_bool(out, strcmp(op, "and") != 0);
        goto out;
    }
    if ((rc = fp_eval(cx, n->args[0], focus, &b)) != SL_OK)
        goto out;
    if ((r = fp_coll_bool(&b)) == -2) {
        rc = fp_err(cx, n, SL_EPARSE, "'%s' needs a single boolean on its "
                    "right", op);
        goto out;
    }
    if (strcmp(op, "and") == 0)
        v = r == 0 ? 0 : (l == 1 && r == 1) ? 1 : -1;
    else if (strcmp(op, "or") == 0)
        v = r == 1 ? 1 : (l == 0 && r == 0) ? 0 : -1;
    else if (strcmp(op, "xor") == 0)
        v = l < 0 || r < 0 ? -1 : l != r;
    else /* implies: l is true or empty here */
        v = r == 1 ? 1 : (l == 1 && r == 0) ? 0 : -1;
    if (v >= 0)
        fp_add_bool(out, v);
out:
    fp_coll_free(&a);
    fp_coll_free(&b);
    return rc;
}

static int
coll_has(const struct fp_coll *c, const struct fp_item *it)
{
    size_t i;
    for (i = 0; i < c->n; i++)
        if (fp_item_equal(&c->v[i], it) == 1)
            return 1;
    return 0;
}

static int
equality(const char *op, const struct fp_coll *a, const struct fp_coll *b,
         struct fp_coll *out)
{
    int neg = op[0] == '!', equiv = op[neg] == '~', v = 1;
    size_t i, k;

    if (equiv) {
        if (a->n != b->n)
            v = 0;
        for (i = 0; v && i < a->n; i++) {
            int found = 0;
            for (k = 0; !found && k < b->n; k++)
                found = fp_item_equiv(&a->v[i], &b->v[k]);
            v = found;
        }
        fp_add_bool(out, neg ? !v : v);
        return SL_OK;
    }
    if (a->n == 0 || b->n == 0)
        return SL_OK;
    if (a->n != b->n)
        v = 0;
    for (i = 0; v == 1 && i < a->n; i++)
        v = fp_item_equal(&a->v[i], &b->v[i]);
    if (v >= 0)
        fp_add_bool(out, neg ? !v : v);
    return SL_OK;
}

static int
arith(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *a0,
      const struct fp_coll *b0, struct fp_coll *out)
{
    const char *op = n->name;
    struct fp_item a, b;
    double x, y;
    int rc = SL_OK;

    if (strcmp(op, "&") == 0) {
        char *s = a0->n ? fp_item_to_string(&a0->v[0]) : NULL;
        char *t = b0->n ? fp_item_to_string(&b0->v[0]) : NULL;
        char *u = sl_asprintf("%s%s", s ? s : "", t ? t : "");
        fp_add_str(out, FK_STR, u);
        free(s), free(t), free(u);
        return SL_OK;
    }
    if (a0->n == 0 || b0->n == 0)
        return SL_OK;
    if (a0->n > 1 || b0->n > 1)
        return fp_err(cx, n, SL_EPARSE, "'%s' needs single values", op);
    fp_item_system(&a0->v[0], &a);
    fp_item_system(&b0->v[0], &b);
    if (fp_item_num(&a, &x) && fp_item_num(&b, &y)) {
        int ints = a.kind == FK_INT && b.kind == FK_INT;
        json_int_t ia = ints ? json_integer_value(a.j) : 0;
        json_int_t ib = ints ? json_integer_value(b.j) : 0;
        json_int_t ir;
        /* integer overflow gives empty, as FHIRPath says */
        switch (op[0]) {
        case '+':
            if (!ints)
                fp_add_dec(out, x + y);
            else if (!__builtin_add_overflow(ia, ib, &ir))
                fp_add_int(out, ir);
            break;
        case '-':
            if (!ints)
                fp_add_dec(out, x - y);
            else if (!__builtin_sub_overflow(ia, ib, &ir))
                fp_add_int(out, ir);
            break;
        case '*':
            if (!ints)
                fp_add_dec(out, x * y);
            else if (!__builtin_mul_overflow(ia, ib, &ir))
                fp_add_int(out, ir);
            break;
        case '/':
            if (y != 0)
                fp_add_dec(out, x / y);
            break;
        case 'd': /* div */
            if (y == 0 || (ints && ib == -1 && ia == INT64_MIN))
                break;
            ints ? fp_add_int(out, ia / ib) : fp_add_int_d(out, trunc(x / y));
            break;
        case 'm': /* mod */
            if (y == 0 || (ints && ib == -1 && ia == INT64_MIN))
                break;
            ints ? fp_add_int(out, ia % ib) : fp_add_dec(out, fmod(x, y));
            break;
        }
    } else if (a.kind == FK_STR && b.kind == FK_STR && op[0] == '+') {
        char *u = sl_asprintf("%s%s", fp_item_str(&a), fp_item_str(&b));
        fp_add_str(out, FK_STR, u);
        free(u);
    } else if ((a.kind == FK_DATE || a.kind == FK_DATETIME ||
                a.kind == FK_TIME) &&
               b.kind == FK_QTY && (op[0] == '+' || op[0] == '-')) {
        if (fp_date_add(&a, &b, op[0] == '+' ? 1 : -1, out) != 0)
            rc = fp_err(cx, n, SL_EPARSE, "'%s': the quantity is not a "
                        "calendar duration (year, month, week, day, hour, "
                        "minute, second, millisecond, or 'wk', 'd', 'h', "
                        "'min', 's', 'ms')", op);
    } else if (a.kind == FK_QTY && b.kind == FK_QTY &&
               (op[0] == '+' || op[0] == '-')) {
        double v;
        const char *u = json_string_value(json_object_get(a.j, "unit"));
        if (fp_qty_convert(json_number_value(json_object_get(b.j, "value")),
                           json_string_value(json_object_get(b.j, "unit")), u,
                           &v) == 0)
            fp_add_qty(out, json_number_value(json_object_get(a.j, "value")) +
                                (op[0] == '+' ? v : -v),
                       u);
    } else if (a.kind == FK_QTY && fp_item_num(&b, &y) &&
               (op[0] == '*' || op[0] == '/')) {
        x = json_number_value(json_object_get(a.j, "value"));
        if (op[0] == '*' || y != 0)
            fp_add_qty(out, op[0] == '*' ? x * y : x / y,
                       json_string_value(json_object_get(a.j, "unit")));
    } else {
        rc = fp_err(cx, n, SL_EPARSE, "'%s' cannot be applied to %s and %s",
                    op, fp_item_typename(&a), fp_item_typename(&b));
    }
    fp_item_clear(&a);
    fp_item_clear(&b);
    return rc;
}

static int
binop(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *focus,
      struct fp_coll *out)
{
    struct fp_coll a = {0}, b = {0};
    const char *op = n->name;
    int rc, cmp;
    size_t i;

    if (strcmp(op, "and") == 0 || strcmp(op, "or") == 0 ||
        strcmp(op, "xor") == 0 || strcmp(op, "implies") == 0)
        return logic(cx, n, focus, out);
    if ((rc = fp_eval(cx, n->left, focus, &a)) != SL_OK ||
        (rc = fp_eval(cx, n->args[0], focus, &b)) != SL_OK)
        goto out;
    if (strcmp(op, "|") == 0) {
        for (i = 0; i < a.n; i++)
            if (!coll_has(out, &a.v[i]))
                fp_coll_add(out, &a.v[i]);
        for (i = 0; i < b.n; i++)
            if (!coll_has(out, &b.v[i]))
                fp_coll_add(out, &b.v[i]);
    } else if (strcmp(op, "=") == 0 || strcmp(op, "!=") == 0 ||
               strcmp(op, "~") == 0 || strcmp(op, "!~") == 0) {
        rc = equality(op, &a, &b, out);
    } else if (strcmp(op, "in") == 0 || strcmp(op, "contains") == 0) {
        struct fp_coll *x = op[0] == 'i' ? &a : &b, *c = op[0] == 'i' ? &b : &a;
        if (x->n > 1)
            rc = fp_err(cx, n, SL_EPARSE, "'%s' needs a single item", op);
        else if (x->n == 1)
            fp_add_bool(out, coll_has(c, &x->v[0]));
    } else if (op[0] == '<' || op[0] == '>') {
        if (a.n == 0 || b.n == 0)
            goto out;
        if (a.n > 1 || b.n > 1) {
            rc = fp_err(cx, n, SL_EPARSE, "'%s' needs single values", op);
            goto out;
        }
        switch (fp_item_compare(&a.v[0], &b.v[0], &cmp)) {
        case 0:
            fp_add_bool(out, op[0] == '<' ? (op[1] ? cmp <= 0 : cmp < 0)
                                          : (op[1] ? cmp >= 0 : cmp > 0));
            break;
        case -1:
            break; /* different precisions: unknown */
        default:
            rc = fp_err(cx, n, SL_EPARSE, "'%s' cannot compare %s with %s",
                        op, fp_item_typename(&a.v[0]),
                        fp_item_typename(&b.v[0]));
        }
    } else {
        rc = arith(cx, n, &a, &b, out);
    }
out:
    fp_coll_free(&a);
    fp_coll_free(&b);
    return rc;
}

/* ---- variables ----------------------------------------------------------- */
static void
add_root(struct fp_coll *out, json_t *j)
{
    const char *rt = json_string_value(json_object_get(j, "resourceType"));
    fp_add_node(out, j, NULL, rt ? rt : "", rt ? rt : "");
}

/* The focus as an element at path: a type name or an element path. */
static void
add_typed(struct fp_coll *out, json_t *j, json_t *ext, const char *path)
{
    const char *t = sl_fhir_type_lookup(path);
    char type[64];

    if (t == NULL || t[0] == '=') { /* a type name, or not in the table */
        fp_add_node(out, j, ext, t ? path : "", t ? path : "");
        return;
    }
    fp_strlcpy(type, t, sizeof(type));
    type[strcspn(type, "|")] = '\0';
    if (type[0] == '@')
        fp_add_node(out, j, ext, "BackboneElement", type + 1);
    else if (strcmp(type, "BackboneElement") == 0 || strcmp(type, "Element") == 0)
        fp_add_node(out, j, ext, type, path);
    else
        fp_add_node(out, j, ext, type, type);
}

static int
variable(struct fp_ctx *cx, const struct fp_node *n, struct fp_coll *out)
{
    const struct sl_fp_env *env = cx->env;
    const char *v = n->name;

    if (strcmp(v, "resource") == 0) {
        add_root(out, env && env->resource ? env->resource : cx->focus);
    } else if (strcmp(v, "rootResource") == 0) {
        add_root(out, env && env->root ? env->root
                      : env && env->resource ? env->resource
                                             : cx->focus);
    } else if (strcmp(v, "context") == 0) {
        add_root(out, env && env->context ? env->context : cx->focus);
    } else if (strcmp(v, "ucum") == 0) {
        fp_add_str(out, FK_STR, "http://unitsofmeasure.org");
    } else if (strcmp(v, "sct") == 0) {
        fp_add_str(out, FK_STR, "http://snomed.info/sct");
    } else if (strcmp(v, "loinc") == 0) {
        fp_add_str(out, FK_STR, "http://loinc.org");
    } else if (strncmp(v, "vs-", 3) == 0 || strncmp(v, "ext-", 4) == 0) {
        char *u = sl_asprintf("http://hl7.org/fhir/%s/%s",
                              v[0] == 'v' ? "ValueSet" : "StructureDefinition",
                              v + (v[0] == 'v' ? 3 : 4));
        fp_add_str(out, FK_STR, u);
        free(u);
    } else {
        return fp_err(cx, n, SL_EPARSE, "unknown variable %%%s", v);
    }
    return SL_OK;
}

/* ---- the tree ---------------------------------------------------------------- */
#define FP_MAX_EVAL_DEPTH 400

int
fp_eval(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *focus,
        struct fp_coll *out)
{
    struct fp_coll in = {0};
    int rc = SL_OK;
    size_t i;

    if (++cx->depth > FP_MAX_EVAL_DEPTH) {
        cx->depth--;
        return fp_err(cx, n, SL_EPARSE, "the evaluation is nested too deeply");
    }
    switch (n->kind) {
    case FN_EMPTY:
        break;
    case FN_LIT:
        fp_coll_add(out, &n->lit);
        break;
    case FN_THIS:
        if (cx->this_item)
            fp_coll_add(out, cx->this_item);
        else
            for (i = 0; i < focus->n; i++)
                fp_coll_add(out, &focus->v[i]);
        break;
    case FN_INDEX:
        if (cx->this_item)
            fp_add_int(out, cx->index);
        break;
    case FN_TOTAL:
        if (cx->total)
            for (i = 0; i < cx->total->n; i++)
                fp_coll_add(out, &cx->total->v[i]);
        break;
    case FN_VAR:
        rc = variable(cx, n, out);
        break;
    case FN_MEMBER:
        if (n->left) {
            if ((rc = fp_eval(cx, n->left, focus, &in)) != SL_OK)
                break;
            focus = &in;
        } else if (isupper((unsigned char)n->name[0])) {
            /* Patient.name: a leading type name selects the focus */
            int any = 0;
            for (i = 0; i < focus->n; i++)
                if (focus->v[i].kind == FK_NODE &&
                    fp_is_type(&focus->v[i], n->name)) {
                    fp_coll_add(out, &focus->v[i]);
                    any = 1;
                }
            if (any)
                break;
        }
        for (i = 0; i < focus->n; i++)
            fp_children_named(&focus->v[i], n->name, out);
        break;
    case FN_CALL:
        if (n->left) {
            if ((rc = fp_eval(cx, n->left, focus, &in)) != SL_OK)
                break;
            cx->arg_focus = focus;
            rc = fp_call(cx, n, &in, out);
        } else {
            cx->arg_focus = focus;
            rc = fp_call(cx, n, focus, out);
        }
        break;
    case FN_BINOP:
        rc = binop(cx, n, focus, out);
        break;
    case FN_NEG:
        if ((rc = fp_eval(cx, n->left, focus, &in)) != SL_OK)
            break;
        for (i = 0; i < in.n; i++) {
            struct fp_item s;
            fp_item_system(&in.v[i], &s);
            if (s.kind == FK_INT && json_integer_value(s.j) != INT64_MIN)
                fp_add_int(out, -json_integer_value(s.j));
            else if (s.kind == FK_INT)
                ; /* overflow: empty */
            else if (s.kind == FK_DEC)
                fp_add_dec(out, -json_real_value(s.j));
            else if (s.kind == FK_QTY)
                fp_add_qty(out, -json_number_value(json_object_get(s.j, "value")),
                           json_string_value(json_object_get(s.j, "unit")));
            else
                rc = fp_err(cx, n, SL_EPARSE, "'-' needs a number");
            fp_item_clear(&s);
        }
        break;
    case FN_INDEXER: {
        struct fp_coll ix = {0};
        if ((rc = fp_eval(cx, n->left, focus, &in)) != SL_OK ||
            (rc = fp_eval(cx, n->args[0], focus, &ix)) != SL_OK) {
            fp_coll_free(&ix);
            break;
        }
        if (ix.n == 1 && ix.v[0].kind == FK_INT) {
            json_int_t k = json_integer_value(ix.v[0].j);
            if (k >= 0 && (size_t)k < in.n)
                fp_coll_add(out, &in.v[k]);
        } else if (ix.n != 0) {
            rc = fp_err(cx, n, SL_EPARSE, "an index must be one integer");
        }
        fp_coll_free(&ix);
        break;
    }
    case FN_IS:
    case FN_AS:
        if ((rc = fp_eval(cx, n->left, focus, &in)) != SL_OK)
            break;
        if (in.n > 1) {
            rc = fp_err(cx, n, SL_EPARSE, "'%s' needs a single item",
                        n->kind == FN_IS ? "is" : "as");
            break;
        }
        if (n->kind == FN_IS) {
            if (in.n == 1)
                fp_add_bool(out, fp_is_type(&in.v[0], n->name));
        } else if (in.n == 1 && fp_is_type(&in.v[0], n->name)) {
            fp_coll_add(out, &in.v[0]);
        }
        break;
    }
    fp_coll_free(&in);
    cx->depth--;
    return rc;
}

/* ---- the public API --------------------------------------------------------- */
int
sl_fp_eval(const struct sl_fp_expr *e, const struct sl_fp_env *env,
           json_t *focus, struct sl_fp_result **out, struct sl_err *err)
{
    struct sl_err local = {0};
    struct fp_ctx cx;
    struct fp_coll in = {0}, res = {0};
    int rc;

    if (err == NULL)
        err = &local;
    err->code = SL_OK;
    err->msg[0] = '\0';
    memset(&cx, 0, sizeof(cx));
    cx.env = env;
    cx.focus = focus;
    cx.err = err;
    if (focus != NULL && env != NULL && env->focus_path != NULL &&
        json_object_get(focus, "resourceType") == NULL)
        add_typed(&in, focus, env->focus_ext, env->focus_path);
    else if (focus != NULL)
        add_root(&in, focus);
    rc = fp_eval(&cx, e->root, &in, &res);
    fp_coll_free(&in);
    if (rc != SL_OK) {
        fp_coll_free(&res);
        return rc;
    }
    *out = fp_result_new(&res);
    return SL_OK;
}

int
sl_fp_eval_bool(const struct sl_fp_expr *e, const struct sl_fp_env *env,
                json_t *focus, int *value, struct sl_err *err)
{
    struct sl_fp_result *r = NULL;
    struct sl_err local = {0};
    int rc, b;

    if (err == NULL)
        err = &local;
    if ((rc = sl_fp_eval(e, env, focus, &r, err)) != SL_OK)
        return rc;
    b = fp_coll_bool((const struct fp_coll *)r); /* the result wraps a coll */
    sl_fp_result_free(r);
    if (b == -2)
        return SL_ERR(err, SL_EPARSE, "the expression gives several items "
                      "where one boolean is needed");
    *value = b;
    return SL_OK;
}
