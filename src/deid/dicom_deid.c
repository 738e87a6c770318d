/* dicom_deid.c - compiling the <dicom> sections of a profile chain into
 * the engine's rules and options, the action they make of a rule, and
 * --explain. Below dicom_deid_file.c, which it never calls.
 *
 * <dicom> content (schema: profiles/deid/dicom-profile.xsd):
 *   base="dicom-basic.xml"   the generated PS3.15 table, resolved against
 *                            the document's folder, then sl_profile_dir()
 *   options="a b …"          options by name (also <option name="a"/>,
 *                            <option name="a" enabled="no"/> to drop one)
 *   <rule tag="(0010,1010)" action="K"/>            per tag
 *   <rule tag="(60xx,xxxx)" action="K"/>            per group pattern
 *   <rule tag="(0009,xx10)" creator="ACME" action="K"/>  private
 *   <rule vr="PN" action="X"/>                      per VR
 *   <rule tag="(0070,0006)" in="(0070,0008)" action="D"/>  per tag, only
 *                            inside items of the sequence named by in=
 *   <rule vr="LT" action="scrub"/>   text kept, scrubbed of identifiers
 *   <rule private="all" action="K"/>                every private attribute
 *   <pixels modality="US" manufacturer="…" model="…" rows="480"
 *           columns="640" sop-class="…">            images it names
 *     <blank x="0" y="0" width="640" height="40"/>  regions to blank
 *   </pixels>   (no <blank>: such images were reviewed, no burned-in text)
 *   <unused-pixel-bits action="zero|keep"/>  bits of native pixel data
 *                            outside Bits Stored (overlays) zeroed or kept
 *   clean-pixel-data="ocr"   burned-in text found by OCR and blanked in
 *                            the images that would be quarantined for it
 *                            ("none": quarantined), with
 *   ocr-min-confidence="60"  the confidence (0-100) a word needs
 * A later document overrides an earlier one; within a level, a tag in a
 * sequence beats a tag, which beats a group pattern, which beats a VR. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "deid/dicom_deid_int.h"
#include "dicom/dicom.h"

const struct sl_dd_option_def sl_dd_options[SL_DDO_COUNT] = {
    { "retain-safe-private", "113111", "Retain Safe Private Option" },
    { "retain-uids", "113110", "Retain UIDs Option" },
    { "retain-device-identity", "113109", "Retain Device Identity Option" },
    { "retain-institution-identity", "113112",
      "Retain Institution Identity Option" },
    { "retain-patient-characteristics", "113108",
      "Retain Patient Characteristics Option" },
    { "retain-longitudinal-full-dates", "113106",
      "Retain Longitudinal Temporal Information Full Dates Option" },
    { "retain-longitudinal-modified-dates", "113107",
      "Retain Longitudinal Temporal Information Modified Dates Option" },
    { "clean-descriptors", "113105", "Clean Descriptors Option" },
    { "clean-structured-content", "113104", "Clean Structured Content Option" },
    { "clean-graphics", "113103", "Clean Graphics Option" },
};

static void
strfreezero(char *s)
{
    if (s != NULL)
        sl_freezero(s, strlen(s));
}

void
sl_dicom_deid_info_clear(struct sl_dicom_deid_info *info)
{
    if (info == NULL)
        return;
    free(info->patient);
    free(info->study_uid);
    free(info->series_uid);
    free(info->sop_uid);
    free(info->modality);
    strfreezero(info->orig_patient);
    strfreezero(info->orig_study_uid);
    strfreezero(info->orig_series_uid);
    strfreezero(info->orig_sop_uid);
    strfreezero(info->orig_accession);
    free(info->accession);
    sl_dicom_summary_free(info->written);
    free(info->written_why);
    memset(info, 0, sizeof(*info));
}

static int
option_index(const char *name)
{
    int i;

    for (i = 0; i < SL_DDO_COUNT; i++)
        if (strcmp(name, sl_dd_options[i].name) == 0)
            return i;
    return -1;
}

/* An attribute as a string the caller frees (NULL when absent). */
static char *
prop(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s;

    if (v == NULL)
        return NULL;
    s = sl_strdup((const char *)v);
    xmlFree(v);
    return s;
}

static int
is_elem(xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "(gggg,eeee)" with 'x' for any digit into value and mask. */
static int
parse_tag(const char *s, uint32_t *tag, uint32_t *mask)
{
    const char *p = s;
    int i;

    *tag = 0;
    *mask = 0;
    if (*p == '(')
        p++;
    for (i = 0; i < 8; i++) {
        int v;
        if (i == 4) {
            if (*p != ',')
                return -1;
            p++;
        }
        *tag <<= 4;
        *mask <<= 4;
        if (*p == 'x' || *p == 'X') {
            p++;
            continue;
        }
        if ((v = hexval((unsigned char)*p)) < 0)
            return -1;
        *tag |= (uint32_t)v;
        *mask |= 0xF;
        p++;
    }
    if (*p == ')')
        p++;
    return *p == '\0' ? 0 : -1;
}

static struct sl_dd_rule *
rule_add(struct sl_dicom_deid *d)
{
    struct sl_dd_rule *r;

    if (d->nrules == d->caprules) {
        d->caprules = d->caprules ? d->caprules * 2 : 1024;
        d->rules = sl_realloc(d->rules, d->caprules * sizeof(*d->rules));
    }
    r = &d->rules[d->nrules++];
    memset(r, 0, sizeof(*r));
    atomic_init(&r->hits, 0);
    return r;
}

/* Reads one <rule> or <safe-private> into a new rule at level. */
static int
parse_rule(struct sl_dicom_deid *d, xmlNode *n, int level, int safe,
           const char *where, struct sl_err *err)
{
    struct sl_dd_rule *r;
    char *tag = prop(n, "tag"), *priv = prop(n, "private"), *vr = prop(n, "vr"),
         *action = prop(n, "action"), *in = prop(n, "in");
    int line = (int)xmlGetLineNo(n), i, rc = SL_OK;

    r = rule_add(d);
    r->level = level;
    r->name = prop(n, "name");
    r->src = prop(n, "src");
    r->creator = prop(n, "creator");
    if (safe) {
        r->action = SL_DDA_NONE;
        r->opt[SL_DDO_SAFE_PRIVATE] = SL_DDA_K;
        if (r->src == NULL)
            r->src = sl_asprintf("PS3.15 %s Table E.3.10-1",
                                 d->edition ? d->edition : "");
    } else {
        r->action = sl_dd_action_parse(action);
        if (r->action == SL_DDA_NONE) {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: <rule>: unknown action '%s'",
                        where, line, action ? action : "");
            goto out;
        }
        for (i = 0; i < SL_DDO_COUNT; i++) {
            char *v = prop(n, sl_dd_options[i].name);
            if (v != NULL) {
                r->opt[i] = sl_dd_action_parse(v);
                if (r->opt[i] == SL_DDA_NONE)
                    rc = SL_ERR(err, SL_ECONFIG,
                                "%s:%d: <rule>: unknown action for %s", where,
                                line, sl_dd_options[i].name);
                free(v);
                if (rc != SL_OK)
                    goto out;
            }
        }
    }
    if (priv != NULL && strcmp(priv, "all") == 0) {
        r->kind = SL_DDK_PRIV_ALL;
    } else if (vr != NULL && tag == NULL) {
        if (strlen(vr) != 2) {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: <rule>: bad vr", where, line);
            goto out;
        }
        r->kind = SL_DDK_VR;
        memcpy(r->vr, vr, 2);
    } else if (tag != NULL && parse_tag(tag, &r->tag, &r->mask) == 0) {
        if (((r->tag >> 16) & 1) != 0 && (r->mask >> 16) == 0xFFFF) {
            /* (gggg,xxee): a private element of a named creator. */
            if (r->creator == NULL || (r->mask & 0xFF00) != 0) {
                rc = SL_ERR(err, SL_ECONFIG,
                            "%s:%d: a private rule needs tag=\"(gggg,xxee)\" "
                            "and creator=",
                            where, line);
                goto out;
            }
            r->kind = SL_DDK_PRIVATE;
            r->tag &= 0xFFFF00FF;
            r->mask = 0xFFFF00FF;
        } else {
            r->kind = SL_DDK_TAG;
        }

        if (vr != NULL && strlen(vr) == 2)
            memcpy(r->vr, vr, 2);
    } else {
        rc = SL_ERR(err, SL_ECONFIG,
                    "%s:%d: <rule> needs tag=\"(gggg,eeee)\", vr= or "
                    "private=\"all\"",
                    where, line);
        goto out;
    }
    if (in != NULL) {
        uint32_t in_mask;
        if (r->kind != SL_DDK_TAG || r->mask != 0xFFFFFFFF ||
            parse_tag(in, &r->in, &in_mask) != 0 || in_mask != 0xFFFFFFFF) {
            rc = SL_ERR(err, SL_ECONFIG,
                        "%s:%d: <rule in=\"(gggg,eeee)\">: a sequence tag, "
                        "on a rule for one standard tag",
                        where, line);
            goto out;
        }
    }
out:
    free(tag);
    free(priv);
    free(vr);
    free(action);
    free(in);
    return rc;
}

static int
parse_ulong(const char *s, unsigned *out)
{
    long v;

    if (s == NULL || sl_parse_long(s, 0, 65535, &v) != SL_OK)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int
parse_pixels(struct sl_dicom_deid *d, xmlNode *n, const char *where,
             struct sl_err *err)
{
    struct sl_dd_pixels *px;
    xmlNode *c;
    char *s;
    long v;
    int rc = SL_OK;

    d->pixels = sl_realloc(d->pixels, (d->npixels + 1) * sizeof(*d->pixels));
    px = &d->pixels[d->npixels++];
    memset(px, 0, sizeof(*px));
    px->modality = prop(n, "modality");
    px->manufacturer = prop(n, "manufacturer");
    px->model = prop(n, "model");
    px->sop_class = prop(n, "sop-class");
    if ((s = prop(n, "rows")) != NULL) {
        if (sl_parse_long(s, 1, 65535, &v) != SL_OK)
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: <pixels>: bad rows", where,
                        (int)xmlGetLineNo(n));
        px->rows = v;
        free(s);
    }
    if (rc == SL_OK && (s = prop(n, "columns")) != NULL) {
        if (sl_parse_long(s, 1, 65535, &v) != SL_OK)
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: <pixels>: bad columns", where,
                        (int)xmlGetLineNo(n));
        px->columns = v;
        free(s);
    }
    for (c = n->children; c != NULL && rc == SL_OK; c = c->next) {
        struct sl_dd_region g;
        char *x, *y, *w, *h;
        if (!is_elem(c, "blank"))
            continue;
        x = prop(c, "x");
        y = prop(c, "y");
        w = prop(c, "width");
        h = prop(c, "height");
        if (parse_ulong(x, &g.x) || parse_ulong(y, &g.y) ||
            parse_ulong(w, &g.w) || parse_ulong(h, &g.h))
            rc = SL_ERR(err, SL_ECONFIG,
                        "%s:%d: <blank> needs x, y, width and height", where,
                        (int)xmlGetLineNo(c));
        else {
            px->regions = sl_realloc(px->regions,
                                     (px->nregions + 1) * sizeof(*px->regions));
            px->regions[px->nregions++] = g;
        }
        free(x);
        free(y);
        free(w);
        free(h);
    }
    return rc;
}

static int
set_options(struct sl_dicom_deid *d, const char *list, int on,
            const char *where, int line, struct sl_err *err)
{
    const char *p = list;
    const char *sep = " \t\r\n,";

    for (;;) {
        size_t n;
        char name[64];
        int i;

        p += strspn(p, sep);
        if (*p == '\0')
            break;
        n = strcspn(p, sep);
        snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), p);
        p += n;
        if ((i = option_index(name)) < 0)
            return SL_ERR(err, SL_ECONFIG, "%s:%d: unknown DICOM option '%s'",
                          where, line, name);
        d->options[i] = on;
    }
    return SL_OK;
}

/* clean-pixel-data="ocr|none" and ocr-min-confidence on <dicom>. */
static int
parse_ocr(struct sl_dicom_deid *d, xmlNode *dicom, int level,
          const char *where, struct sl_err *err)
{
    char *cpd = prop(dicom, "clean-pixel-data");
    char *conf = prop(dicom, "ocr-min-confidence");
    int rc = SL_OK;

    if (cpd != NULL) {
        if (strcmp(cpd, "ocr") == 0 || strcmp(cpd, "none") == 0) {
            d->ocr = strcmp(cpd, "ocr") == 0;
            free(d->ocr_src);
            d->ocr_src = sl_strdup(level > 0 ? where : "");
        } else {
            rc = SL_ERR(err, SL_ECONFIG,
                        "%s:%d: <dicom clean-pixel-data> must be \"ocr\" "
                        "or \"none\"",
                        where, (int)xmlGetLineNo(dicom));
        }
    }
    if (rc == SL_OK && conf != NULL) {
        char *end = NULL;
        double v = strtod(conf, &end);
        if (end == conf || *end != '\0' || v < 0 || v > 100)
            rc = SL_ERR(err, SL_ECONFIG,
                        "%s:%d: <dicom ocr-min-confidence> must be a number "
                        "from 0 to 100",
                        where, (int)xmlGetLineNo(dicom));
        else
            d->ocr_min_conf = (float)v;
    }
    free(cpd);
    free(conf);
    return rc;
}

/* Reads the children (and attributes) of a <dicom> element at level. */
static int
parse_dicom(struct sl_dicom_deid *d, xmlNode *dicom, int level,
            const char *where, struct sl_err *err)
{
    xmlNode *c;
    char *opts = prop(dicom, "options");
    int rc = SL_OK;

    if (opts != NULL)
        rc = set_options(d, opts, 1, where, (int)xmlGetLineNo(dicom), err);
    free(opts);
    if (rc == SL_OK)
        rc = parse_ocr(d, dicom, level, where, err);
    for (c = dicom->children; c != NULL && rc == SL_OK; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_elem(c, "rule")) {
            rc = parse_rule(d, c, level, 0, where, err);
        } else if (is_elem(c, "safe-private")) {
            rc = parse_rule(d, c, level, 1, where, err);
        } else if (is_elem(c, "option")) {
            char *name = prop(c, "name"), *en = prop(c, "enabled");
            int on = en == NULL || strcmp(en, "no") != 0;
            rc = set_options(d, name ? name : "", on, where,
                             (int)xmlGetLineNo(c), err);
            free(name);
            free(en);
        } else if (is_elem(c, "pixels")) {
            rc = parse_pixels(d, c, where, err);
        } else if (is_elem(c, "unused-pixel-bits")) {
            char *a = prop(c, "action");
            if (a != NULL &&
                (strcmp(a, "zero") == 0 || strcmp(a, "keep") == 0)) {
                d->zero_unused_bits = strcmp(a, "zero") == 0;
                free(d->unused_bits_src);
                d->unused_bits_src = prop(c, "src");
                if (d->unused_bits_src == NULL)
                    d->unused_bits_src =
                        sl_strdup(level > 0 ? "site profile" : "");
            } else {
                rc = SL_ERR(err, SL_ECONFIG,
                            "%s:%d: <unused-pixel-bits> needs "
                            "action=\"zero\" or action=\"keep\"",
                            where, (int)xmlGetLineNo(c));
            }
            free(a);
        } else if (is_elem(c, "option-def")) {
            char *name = prop(c, "name");
            if (name == NULL || option_index(name) < 0)
                rc = SL_ERR(err, SL_ECONFIG,
                            "%s:%d: option '%s' unknown to this sluice", where,
                            (int)xmlGetLineNo(c), name ? name : "");
            free(name);
        } else {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: unexpected <%s> in <dicom>",
                        where, (int)xmlGetLineNo(c), (const char *)c->name);
        }
    }
    return rc;
}

/* Finds the base table: beside the document, then in the profile folder
 * (sl_profile_dir). Caller frees. */
static char *
find_base(const struct sl_profile_doc *doc, const char *base)
{
    char *dir, *p;

    if (base[0] == '/')
        return sl_strdup(base);
    if (doc->path != NULL) {
        dir = sl_path_dir(doc->path);
        p = sl_path_resolve(dir, base);
        free(dir);
        if (sl_path_exists(p))
            return p;
        free(p);
    }
    dir = sl_profile_dir();
    p = sl_path_join(dir, base);
    free(dir);
    if (sl_path_exists(p))
        return p;
    free(p);
    return NULL;
}

static int
load_base(struct sl_dicom_deid *d, const struct sl_profile_doc *doc,
          const char *base, struct sl_err *err)
{
    char *path = find_base(doc, base);
    xmlDoc *x = NULL;
    xmlNode *root;
    int rc;

    if (path == NULL)
        return SL_ERR(err, SL_ECONFIG, "%s: <dicom base=\"%s\">: not found",
                      doc->path ? doc->path : "profile", base);
    x = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    if (x == NULL || (root = xmlDocGetRootElement(x)) == NULL ||
        !is_elem(root, "dicom")) {
        rc = SL_ERR(err, SL_ECONFIG, "%s: not a <dicom> rule table", path);
        goto out;
    }
    free(d->edition);
    d->edition = prop(root, "version");
    rc = parse_dicom(d, root, 0, path, err);
out:
    xmlFreeDoc(x);
    free(path);
    return rc;
}

/* "PS3.15 2023b Basic Profile; sluice basic 1 <- site-x 3", at most 64
 * characters (LO). */
static char *
method_text(const struct sl_dicom_deid *d, const struct sl_profile_chain *c)
{
    struct sl_buf b;
    size_t i;

    sl_buf_init(&b);
    sl_buf_addf(&b, "PS3.15 %s Basic Profile; sluice",
                d->edition ? d->edition : "");
    for (i = 0; i < c->n; i++) {
        if (c->docs[i].name == NULL)
            continue;
        sl_buf_addf(&b, "%s %s", i > 0 ? " <-" : "", c->docs[i].name);
        if (c->docs[i].version != NULL)
            sl_buf_addf(&b, " %s", c->docs[i].version);
    }
    if (b.len > 64) {
        b.len = 64;
        b.data[64] = '\0';
    }
    /* LO forbids backslashes and control characters. */
    for (i = 0; i < b.len; i++)
        if (b.data[i] == '\\' || (unsigned char)b.data[i] < 0x20)
            b.data[i] = ' ';
    return sl_buf_steal(&b);
}

static int
by_tag_then_order(const void *a, const void *b)
{
    const struct sl_dd_rule *x = *(const struct sl_dd_rule *const *)a;
    const struct sl_dd_rule *y = *(const struct sl_dd_rule *const *)b;

    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    return x < y ? -1 : x > y; /* document order */
}

/* Sorts the rules into the lookup indexes (after every rule is read, so
 * that the pointers stay valid). */
static void
build_index(struct sl_dicom_deid *d)
{
    size_t i;

    d->exact = sl_calloc(d->nrules + 1, sizeof(*d->exact));
    d->loose = sl_calloc(d->nrules + 1, sizeof(*d->loose));
    d->priv = sl_calloc(d->nrules + 1, sizeof(*d->priv));
    for (i = 0; i < d->nrules; i++) {
        struct sl_dd_rule *r = &d->rules[i];
        switch (r->kind) {
        case SL_DDK_TAG:
            if (r->mask == 0xFFFFFFFF)
                d->exact[d->nexact++] = r;
            else
                d->loose[d->nloose++] = r;
            break;
        case SL_DDK_VR:
            d->loose[d->nloose++] = r;
            break;
        case SL_DDK_PRIVATE:
            d->priv[d->npriv++] = r;
            break;
        case SL_DDK_PRIV_ALL:
            if (d->priv_all == NULL || r->level >= d->priv_all->level)
                d->priv_all = r;
            break;
        }
    }
    qsort(d->exact, d->nexact, sizeof(*d->exact), by_tag_then_order);
    qsort(d->priv, d->npriv, sizeof(*d->priv), by_tag_then_order);
}

/* The action an option set makes of a rule: a retaining K beats a C,
 * which beats any other option's action, which beats the basic one. */
int
sl_dd_effective(const struct sl_dicom_deid *d, const struct sl_dd_rule *r)
{
    int o, k = 0, c = 0, other = SL_DDA_NONE;

    for (o = 0; o < SL_DDO_COUNT; o++) {
        if (!d->options[o] || r->opt[o] == SL_DDA_NONE)
            continue;
        if (r->opt[o] == SL_DDA_K)
            k = 1;
        else if (r->opt[o] == SL_DDA_C)
            c = 1;
        else
            other = r->opt[o];
    }
    if (k)
        return SL_DDA_K;
    if (c)
        return SL_DDA_C;
    if (other != SL_DDA_NONE)
        return other;
    return r->action;
}

void
sl_dicom_deid_free(struct sl_dicom_deid *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->nrules; i++) {
        free(d->rules[i].creator);
        free(d->rules[i].name);
        free(d->rules[i].src);
    }
    free(d->rules);
    free(d->exact);
    free(d->loose);
    free(d->priv);
    for (i = 0; i < d->npixels; i++) {
        free(d->pixels[i].modality);
        free(d->pixels[i].manufacturer);
        free(d->pixels[i].model);
        free(d->pixels[i].sop_class);
        free(d->pixels[i].regions);
    }
    free(d->pixels);
    free(d->unused_bits_src);
    sl_dd_ocr_fini(d);
    free(d->ocr_src);
    free(d->method);
    free(d->edition);
    free(d);
}

int
sl_dicom_deid_new(const struct sl_profile_chain *chain,
                  const struct sl_keys *keys, struct sl_dicom_deid **out,
                  struct sl_err *err)
{
    struct sl_dicom_deid *d = sl_calloc(1, sizeof(*d));
    int based = 0, rc = SL_OK;
    size_t i;

    d->keys = keys;
    d->memo_id = sl_dd_memo_id();
    d->ocr_min_conf = 60;
    atomic_init(&d->files, 0);
    atomic_init(&d->quarantined, 0);
    /* Bases first (level 0), then each document's own content. */
    for (i = 0; i < chain->n && rc == SL_OK; i++) {
        const struct sl_profile_doc *doc = &chain->docs[i];
        char *base;
        if (doc->dicom == NULL || (base = prop(doc->dicom, "base")) == NULL)
            continue;
        if (!based)
            rc = load_base(d, doc, base, err);
        based = 1;
        free(base);
    }
    if (rc == SL_OK && !based)
        rc = SL_ERR(err, SL_ECONFIG,
                    "%s: no <dicom base=\"…\"> in the profile or what it "
                    "extends: DICOM de-identification needs the PS3.15 table",
                    chain->n > 0 && chain->docs[chain->n - 1].path
                        ? chain->docs[chain->n - 1].path
                        : "profile");
    for (i = 0; i < chain->n && rc == SL_OK; i++) {
        const struct sl_profile_doc *doc = &chain->docs[i];
        if (doc->dicom != NULL)
            rc = parse_dicom(d, doc->dicom, (int)i + 1,
                             doc->path ? doc->path : "profile", err);
    }
    if (rc != SL_OK)
        goto out;
    build_index(d);
    if (d->ocr && (rc = sl_dd_ocr_init(d, err)) != SL_OK)
        goto out;
    d->method = method_text(d, chain);
    *out = d;
    d = NULL; /* ownership moves to the caller */
out:
    sl_dicom_deid_free(d);
    return rc;
}

/* A rule's tag, pattern, private block or VR, as --explain prints it. */
static void
rule_what(const struct sl_dd_rule *r, char *what, size_t len)
{
    switch (r->kind) {
    case SL_DDK_TAG:
        snprintf(what, len, "(%04X,%04X)", r->tag >> 16,
                 r->tag & 0xFFFF);
        /* Patterns: show the x's. */
        if (r->mask != 0xFFFFFFFF) {
            int k;
            for (k = 0; k < 8; k++)
                if (((r->mask >> (28 - 4 * k)) & 0xF) == 0)
                    what[1 + k + (k >= 4)] = 'x';
        }
        if (r->in != 0)
            snprintf(what + 11, len - 11, " in (%04X,%04X)",
                     r->in >> 16, r->in & 0xFFFF);
        break;
    case SL_DDK_PRIVATE:
        snprintf(what, len, "(%04X,xx%02X) %s", r->tag >> 16,
                 r->tag & 0xFF, r->creator);
        break;
    case SL_DDK_PRIV_ALL:
        snprintf(what, len, "private attributes");
        break;
    default:
        snprintf(what, len, "VR %s", r->vr);
        break;
    }
}

void
sl_dicom_deid_explain(const struct sl_dicom_deid *d, FILE *f)
{
    size_t i;
    int o, any = 0;

    fprintf(f, "DICOM profile: %s\noptions:", d->method);
    for (o = 0; o < SL_DDO_COUNT; o++)
        if (d->options[o]) {
            fprintf(f, " %s", sl_dd_options[o].name);
            any = 1;
        }
    fprintf(f, "%s\n", any ? "" : " none (Basic Profile)");
    fprintf(f, "unused pixel bits: %s%s%s\n",
            d->zero_unused_bits ? "zeroed" : "kept",
            d->unused_bits_src && d->unused_bits_src[0] ? " - " : "",
            d->unused_bits_src ? d->unused_bits_src : "");
    fprintf(f, "instances: %lu, quarantined: %lu\n",
            (unsigned long)atomic_load(&d->files),
            (unsigned long)atomic_load(&d->quarantined));
    sl_dd_ocr_explain(d, f);
    for (i = 0; i < d->nrules; i++) {
        const struct sl_dd_rule *r = &d->rules[i];
        unsigned long hits = atomic_load(&r->hits);
        char what[64];

        if (hits == 0 && r->level == 0)
            continue;
        rule_what(r, what, sizeof(what));
        /* The action as the options make it, for what was used. */
        fprintf(f, "  %-24s %-30.30s %-9s %s: %lu\n", what,
                r->name ? r->name : "",
                sl_dd_action_name(sl_dd_effective(d, r)),
                r->src ? r->src : (r->level > 0 ? "site profile" : ""), hits);
    }
}

void
sl_dicom_deid_rule_counts(const struct sl_dicom_deid *d,
                          void (*fn)(void *arg, const char *rule, uint64_t n),
                          void *arg)
{
    size_t i;

    for (i = 0; i < d->nrules; i++) {
        const struct sl_dd_rule *r = &d->rules[i];
        unsigned long hits = atomic_load(&r->hits);
        char what[64], label[200];

        if (hits == 0)
            continue;
        rule_what(r, what, sizeof(what));
        snprintf(label, sizeof(label), "%s%s%s %s", what, r->name ? " " : "",
                 r->name ? r->name : "",
                 sl_dd_action_name(sl_dd_effective(d, r)));
        fn(arg, label, hits);
    }
}

