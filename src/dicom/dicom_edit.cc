// dicom_edit.cc - a file open for de-identification: opening it,
// reading and changing top-level attributes, and the walk that applies a
// visitor's decisions through every sequence.
#include "config.h"

#include "dicom/dicom_int.h"

#include <unistd.h>

#include <cstring>

using namespace shim;

namespace
{

// Where the top-level pixel data element is in the input file, from the
// length fields read (before anything is changed).
void
locate_pixels(struct sl_dicom_file *f)
{
    DcmMetaInfo *meta = f->ff->getMetaInfo();
    DcmDataset *ds = f->ff->getDataset();
    E_TransferSyntax x = ds->getOriginalXfer();
    const bool explicit_vr = DcmXfer(x).isExplicitVR();
    unsigned long long pos = 132;
    bool known = true;

    if (!f->had_meta || x == EXS_DeflatedLittleEndianExplicit ||
        meta == nullptr)
        return;
    for (DcmObject *o : children(meta))
        pos += element_file_length(o, true, &known);
    for (DcmObject *e : children(ds)) {
        if (!known)
            break;
        unsigned long long n = element_file_length(e, explicit_vr, &known);
        if (known && e->getTag() == DCM_PixelData) {
            if (pos + n <= f->size) {
                f->pix_off = pos;
                f->pix_len = n;
            }
            return;
        }
        pos += n;
    }
}

// What sl_dicom_elem_value needs: the element, and its value once read.
struct elem_impl {
    DcmElement *el;
    bool is_string;
    bool fetched;
    bool ok;
    OFString value;
};

struct walker {
    sl_dicom_visit_fn fn;
    void *ctx;
    struct sl_err *err;
    bool pixels_changed; // the top-level pixel data was edited
    // A read-only walk of some elements (sl_dicom_file_walk_only): those
    // whose VR is only_vr or whose tag is one of only_tags; the others
    // are passed over without the element handed out being built.
    bool only = false;
    const char *only_vr = nullptr;
    const uint32_t *only_tags = nullptr;
    size_t only_n = 0;
};

// Whether a read-only walk hands this element to its visitor.
bool
wanted(const walker &w, const char *vrname, const DcmTagKey &k)
{
    const uint32_t tag = (static_cast<uint32_t>(k.getGroup()) << 16) |
                         k.getElement();

    if (w.only_vr != nullptr && std::memcmp(vrname, w.only_vr, 2) == 0)
        return true;
    for (size_t i = 0; i < w.only_n; i++)
        if (w.only_tags[i] == tag)
            return true;
    return false;
}

int walk_item(DcmItem *item, int depth, uint16_t sg, uint16_t se, walker &w);

// The two letters the walk hands out for a VR: DCMTK's valid VR name, or
// "UN" when it has none of two letters; looked up once per VR.
const char *
vr_name(DcmEVR evr)
{
    struct table {
        char names[64][3];
        table()
        {
            for (int i = 0; i < 64; i++) {
                const char *n = DcmVR(static_cast<DcmEVR>(i)).getValidVRName();
                if (n == nullptr || std::strlen(n) != 2)
                    n = "UN";
                std::memcpy(names[i], n, 3);
            }
        }
    };
    static const table t; // built once, thread-safe (C++11)
    const int i = static_cast<int>(evr);

    if (i >= 0 && i < 64)
        return t.names[i];
    const char *n = DcmVR(evr).getValidVRName();
    return n != nullptr && std::strlen(n) == 2 ? n : "UN";
}

// The private creators of an item's blocks, keyed (group << 8 | block),
// read before any element is changed.
struct creator_entry {
    uint32_t key;
    OFString name;
};

// A standard attribute written as UN (explicit VR files whose writer did
// not know it) is read with its dictionary VR when that VR is a string,
// so that its value can be seen, mapped and scanned like any other.
// Returns the element now in the item (el itself when left alone).
DcmElement *
un_to_dictionary_vr(DcmItem *item, DcmElement *el)
{
    DcmTagKey key = el->getTag();
    Uint8 *raw = nullptr;

    if (key.isPrivate() || key.getElement() == 0 || el->getLength() > 65536)
        return el;
    DcmTag dict(key);
    if (!is_string_vr(dict.getEVR()))
        return el;
    if (el->getUint8Array(raw).bad())
        return el;
    std::string v;
    if (raw != nullptr)
        v.assign(reinterpret_cast<const char *>(raw), el->getLength());
    while (!v.empty() && (v.back() == '\0' || v.back() == ' '))
        v.pop_back();
    DcmElement *ne = DcmItem::newDicomElement(key);
    if (ne == nullptr)
        return el;
    if (ne->putString(v.c_str()).bad() ||
        item->insert(ne, OFTrue /* replace the UN element */).bad()) {
        delete ne;
        return el;
    }
    return ne;
}

// Applies un_to_dictionary_vr through every sequence.
void
normalize_un(DcmItem *item)
{
    for (DcmObject *o : children(item)) {
        auto *el = static_cast<DcmElement *>(o);
        if (el->ident() == EVR_UN)
            el = un_to_dictionary_vr(item, el);
        if (el->ident() == EVR_SQ) {
            for (DcmObject *it : children(static_cast<DcmSequenceOfItems *>(el)))
                normalize_un(static_cast<DcmItem *>(it));
        }
    }
}

// Removes from item the elements of doomed (in the item's order) in one
// pass: DcmItem::remove(DcmObject *) searches from the head of the list,
// which made removing the private groups of an instance, often most of
// its elements, quadratic. Every element is taken off the head (O(1))
// and the others put back in order (DcmItem::insert looks from the tail:
// O(1) for tags in ascending order, which the list's are).
// Up to this many removed from an item are removed one by one: a search
// from the head costs about 15 instructions an element passed, a trip
// off the list and back about 400 (callgrind).
constexpr size_t DROP_ONE_BY_ONE = 16;

int
drop(DcmItem *item, const std::vector<DcmObject *> &doomed, walker &w)
{
    std::vector<DcmElement *> keep;
    size_t k = 0;
    int rc = SL_OK;

    keep.reserve(item->card());
    while (item->card() > 0) {
        DcmElement *el = item->remove(0UL);
        if (el == nullptr)
            break;
        if (k < doomed.size() && el == doomed[k]) {
            delete el;
            k++;
        } else {
            keep.push_back(el);
        }
    }
    for (DcmElement *el : keep) {
        if (item->insert(el, OFFalse, OFFalse).bad()) {
            delete el;
            rc = SL_ERR(w.err, SL_EDICOM, "cannot remove attributes");
        }
    }
    return rc;
}

int
walk_item(DcmItem *item, int depth, uint16_t sg, uint16_t se, walker &w)
{
    std::vector<creator_entry> creators;
    const std::vector<DcmObject *> els = children(item);
    std::vector<DcmObject *> doomed; // removed after the walk of this item
    bool have_creators = false;
    int rc;

    // Read before any element is changed (a full walk), or when the
    // first private element is handed out (a read-only walk).
    auto read_creators = [&]() {
        have_creators = true;
        for (DcmObject *o : els) {
            auto *el = static_cast<DcmElement *>(o);
            const DcmTagKey k = el->getTag();
            if ((k.getGroup() & 1) != 0 && k.getElement() >= 0x10 &&
                k.getElement() <= 0xFF) {
                OFString v;
                if (el->getOFStringArray(v).good())
                    creators.push_back(
                        { (static_cast<uint32_t>(k.getGroup()) << 8) |
                              k.getElement(),
                          v });
            }
        }
    };
    if (!w.only)
        read_creators();
    for (DcmObject *o : els) {
        auto *el = static_cast<DcmElement *>(o);
        const DcmTag &tag = el->getTag();
        const DcmEVR evr = el->ident();
        struct sl_dicom_elem e;
        const char *vrname;
        int op = SL_DICOM_KEEP;
        const char *nv = nullptr;

        vrname = vr_name(evr == EVR_PixelData || evr == EVR_OverlayData
                             ? el->getVR()
                             : evr);
        if (w.only && !wanted(w, vrname, tag)) {
            if (evr != EVR_SQ)
                continue;
            for (DcmObject *it : children(static_cast<DcmSequenceOfItems *>(el)))
                if ((rc = walk_item(static_cast<DcmItem *>(it), depth + 1,
                                    tag.getGroup(), tag.getElement(), w)) !=
                    SL_OK)
                    return rc;
            continue;
        }
        std::memset(&e, 0, sizeof(e));
        e.group = tag.getGroup();
        e.elem = tag.getElement();
        e.depth = depth;
        e.seq_group = sg;
        e.seq_elem = se;
        std::memcpy(e.vr, vrname, 2);
        if ((e.group & 1) != 0 && !have_creators)
            read_creators();
        if ((e.group & 1) != 0) {
            uint32_t key = 0;
            if (e.elem >= 0x10 && e.elem <= 0xFF)
                key = (static_cast<uint32_t>(e.group) << 8) | e.elem;
            else if (e.elem >= 0x1000)
                key = (static_cast<uint32_t>(e.group) << 8) | (e.elem >> 8);
            for (const creator_entry &c : creators)
                if (key != 0 && c.key == key)
                    e.creator = c.name.c_str();
        }
        elem_impl impl = { el, is_string_vr(evr), false, false, OFString() };
        e.impl = &impl;
        if (evr == EVR_SQ)
            e.items = static_cast<DcmSequenceOfItems *>(el)->card();
        if ((rc = w.fn(w.ctx, &e, &op, &nv)) != SL_OK)
            return rc;
        if (w.only)
            op = SL_DICOM_KEEP; // read-only: nothing changes
        if (op != SL_DICOM_KEEP && depth == 0 && e.group == 0x7FE0 &&
            e.elem == 0x0010)
            w.pixels_changed = true;
        switch (op) {
        case SL_DICOM_REMOVE:
            doomed.push_back(el);
            continue;
        case SL_DICOM_CLEAR:
            if (evr == EVR_SQ)
                static_cast<DcmSequenceOfItems *>(el)->clear();
            else if (el->clear().bad())
                return SL_ERR(w.err, SL_EDICOM,
                              "(%04X,%04X): cannot empty the value", e.group,
                              e.elem);
            break;
        case SL_DICOM_SET:
            if (nv == nullptr || el->putString(nv).bad())
                return SL_ERR(w.err, SL_EDICOM,
                              "(%04X,%04X): cannot replace the value", e.group,
                              e.elem);
            break;
        default:
            if (evr == EVR_SQ) {
                for (DcmObject *it :
                     children(static_cast<DcmSequenceOfItems *>(el)))
                    if ((rc = walk_item(static_cast<DcmItem *>(it), depth + 1,
                                        e.group, e.elem, w)) != SL_OK)
                        return rc;
            }
            break;
        }
    }
    if (doomed.empty())
        return SL_OK;
    if (doomed.size() <= DROP_ONE_BY_ONE) {
        // A few (a plain instance's handful of identifiers): each found
        // from the head of the list is cheaper than taking every element
        // off and putting it back (two DCMTK list operations an element,
        // 3% of a small instance's instructions).
        for (DcmObject *o : doomed)
            delete item->remove(o);
        return SL_OK;
    }
    return drop(item, doomed, w);
}

} // namespace

namespace shim
{

DcmElement *
top_element(struct sl_dicom_file *f, const DcmTagKey &key)
{
    DcmDataset *ds = f->ff->getDataset();

    if (!f->top_ok) {
        f->top.clear();
        f->top.reserve(ds->card());
        for (DcmObject *o = ds->nextInContainer(nullptr); o != nullptr;
             o = ds->nextInContainer(o))
            f->top.push_back(static_cast<DcmElement *>(o));
        f->top_ok = true;
    }
    // DcmItem keeps its elements in ascending tag order, each tag once.
    size_t lo = 0, hi = f->top.size();
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const DcmTagKey &k = f->top[mid]->getTag();
        if (k == key)
            return f->top[mid];
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return nullptr;
}

bool
top_uint16(struct sl_dicom_file *f, const DcmTagKey &key, Uint16 &v)
{
    DcmElement *el = top_element(f, key);

    if (el != nullptr && el->getUint16(v, 0).good())
        return true;
    v = 0;
    return false;
}

} // namespace shim

extern "C" int
sl_dicom_file_open(const char *path, struct sl_dicom_file **out, int *had_meta,
                   struct sl_err *err)
{
    return sl_dicom_file_open_fd(-1, path, out, had_meta, err);
}

extern "C" int
sl_dicom_file_open_fd(int in_fd, const char *path, struct sl_dicom_file **out,
                      int *had_meta, struct sl_err *err)
{
    DcmFileFormat *ff = nullptr;
    bool taken = false; // in_fd handed to load_checked, which closes it

    try {
        quiet_dcmtk();
        ff = new DcmFileFormat();
        int meta = 0;
        unsigned long long size = 0;
        int fd = -1;
        std::vector<char> buf;
        unsigned long long buf_at = 0;
        taken = true;
        int rc = load_checked(path, in_fd, *ff, false, &meta, &size, &fd,
                              &buf, &buf_at, err);
        if (had_meta != nullptr)
            *had_meta = meta;
        if (rc != SL_OK) {
            delete ff;
            return rc;
        }
        normalize_un(ff->getDataset());
        auto *f = new sl_dicom_file();
        f->top_ok = false;
        f->ff = ff;
        f->src = path;
        f->src_fd = fd;
        f->buf.swap(buf);
        f->buf_at = buf_at;
        f->size = size;
        f->had_meta = meta != 0;
        f->pixels_changed = false;
        f->pix_off = f->pix_len = 0;
        locate_pixels(f);
        *out = f;
        return SL_OK;
    } catch (...) {
        if (!taken && in_fd >= 0)
            close(in_fd);
        delete ff;
        return fail_exception(err);
    }
}

extern "C" void
sl_dicom_file_free(struct sl_dicom_file *f)
{
    if (f == nullptr)
        return;
    try {
        if (f->src_fd >= 0)
            close(f->src_fd);
        keep_buffer(SPARE_INPUT, std::move(f->buf));
        delete f->ff;
        delete f;
    } catch (...) {
    }
}
extern "C" int
sl_dicom_file_is_encapsulated(const struct sl_dicom_file *f)
{
    try {
        DcmXfer x(f->ff->getDataset()->getOriginalXfer());
        return x.isEncapsulated() ? 1 : 0;
    } catch (...) {
        return 1;
    }
}

extern "C" int
sl_dicom_file_get(struct sl_dicom_file *f, uint16_t group, uint16_t elem,
                  char **out)
{
    try {
        OFString v;
        *out = nullptr;
        DcmElement *el = top_element(f, DcmTagKey(group, elem));
        if (el != nullptr && el->getOFStringArray(v, OFFalse).good())
            *out = sl_strdup(v.c_str());
        return SL_OK;
    } catch (...) {
        return fail_exception(nullptr);
    }
}

extern "C" int
sl_dicom_file_has(struct sl_dicom_file *f, uint16_t group, uint16_t elem)
{
    try {
        return top_element(f, DcmTagKey(group, elem)) != nullptr ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

extern "C" int
sl_dicom_file_put(struct sl_dicom_file *f, uint16_t group, uint16_t elem,
                  const char *value, struct sl_err *err)
{
    try {
        f->top_ok = false;
        OFCondition c =
            f->ff->getDataset()->putAndInsertString(DcmTag(group, elem), value);
        if (c.bad())
            return cond_err(err, c, group, elem, "set");
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_file_delete(struct sl_dicom_file *f, uint16_t group, uint16_t elem)
{
    try {
        DcmElement *el = top_element(f, DcmTagKey(group, elem));
        if (el != nullptr) {
            f->top_ok = false;
            delete f->ff->getDataset()->remove(el);
        }
        return SL_OK;
    } catch (...) {
        return fail_exception(nullptr);
    }
}
extern "C" int
sl_dicom_file_add_code(struct sl_dicom_file *f, uint16_t sg, uint16_t se,
                       const char *value, const char *scheme,
                       const char *meaning, struct sl_err *err)
{
    try {
        DcmItem *it = nullptr;
        f->top_ok = false;
        OFCondition c = f->ff->getDataset()->findOrCreateSequenceItem(
            DcmTagKey(sg, se), it, -2);
        if (c.good() && it != nullptr)
            c = it->putAndInsertString(DCM_CodeValue, value);
        if (c.good())
            c = it->putAndInsertString(DCM_CodingSchemeDesignator, scheme);
        if (c.good())
            c = it->putAndInsertString(DCM_CodeMeaning, meaning);
        if (c.bad() || it == nullptr)
            return cond_err(err, c, sg, se, "add a code to");
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_file_walk(struct sl_dicom_file *f, sl_dicom_visit_fn fn, void *ctx,
                   struct sl_err *err)
{
    try {
        walker w = { fn, ctx, err, false };
        f->top_ok = false;
        int rc = walk_item(f->ff->getDataset(), 0, 0, 0, w);
        if (w.pixels_changed)
            f->pixels_changed = true;
        return rc;
    } catch (...) {
        return fail_exception(err);
    }
}
extern "C" int
sl_dicom_file_walk_only(struct sl_dicom_file *f, const char *vr,
                        const uint32_t *tags, size_t ntags,
                        sl_dicom_visit_fn fn, void *ctx, struct sl_err *err)
{
    try {
        walker w = { fn, ctx, err, false };
        w.only = true;
        w.only_vr = vr != nullptr && std::strlen(vr) == 2 ? vr : nullptr;
        w.only_tags = tags;
        w.only_n = tags != nullptr ? ntags : 0;
        // nothing changes: the index of top-level elements stays good
        return walk_item(f->ff->getDataset(), 0, 0, 0, w);
    } catch (...) {
        return fail_exception(err);
    }
}
extern "C" int
sl_dicom_file_summary(struct sl_dicom_file *f, struct sl_dicom_summary **out,
                      struct sl_err *err)
{
    try {
        return summary_of(*f->ff, f, out, err);
    } catch (...) {
        return fail_exception(err);
    }
}
extern "C" const char *
sl_dicom_elem_value(const struct sl_dicom_elem *e)
{
    try {
        auto *impl = static_cast<elem_impl *>(e->impl);
        if (impl == nullptr || !impl->is_string)
            return nullptr;
        if (!impl->fetched) {
            impl->fetched = true;
            impl->ok = impl->el->getOFStringArray(impl->value).good();
        }
        return impl->ok ? impl->value.c_str() : nullptr;
    } catch (...) {
        return nullptr;
    }
}
