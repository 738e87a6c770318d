// dicom_util.cc - what every file of the DCMTK shim uses: DCMTK kept
// quiet, tags named in messages, exceptions turned into statuses.
#include "config.h"

#include "dicom/dicom_int.h"

#include <dcmtk/oflog/oflog.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>

namespace shim
{

// DCMTK logs parse warnings to stderr on its own, and some of them quote
// attribute values: keep it silent and report through sl_err instead.
void
quiet_dcmtk()
{
    static std::once_flag once;
    std::call_once(once, [] { OFLog::configure(OFLogger::OFF_LOG_LEVEL); });
    // Every entry point comes here first: the dictionary is built before
    // DCMTK's first look at it would load it the slow way.
    load_dictionary();
}

// "(7FE0,0010) Pixel Data" for a tag: the dictionary keyword split into
// words ("SOPInstanceUID" -> "SOP Instance UID").
void
tag_text(const DcmTagKey &key, char *buf, size_t len)
{
    DcmTag tag(key);
    const char *kw = tag.getTagName();
    char name[96];
    size_t o = 0;

    if (kw == nullptr || std::strcmp(kw, DcmTag_ERROR_TagName) == 0)
        kw = key.isPrivate() ? "private attribute" : "unknown attribute";
    for (size_t i = 0; kw[i] != '\0' && o + 2 < sizeof(name); i++) {
        unsigned char c = static_cast<unsigned char>(kw[i]);
        unsigned char prev = i > 0 ? static_cast<unsigned char>(kw[i - 1]) : 0;
        unsigned char next = static_cast<unsigned char>(kw[i + 1]);
        if (i > 0 && std::isupper(c) &&
            (std::islower(prev) || std::isdigit(prev) ||
             (std::isupper(prev) && std::islower(next))))
            name[o++] = ' ';
        name[o++] = static_cast<char>(c);
    }
    name[o] = '\0';
    std::snprintf(buf, len, "(%04X,%04X) %s", key.getGroup(), key.getElement(),
                  name);
}

char *
dup_or_null(const char *s)
{
    if (s == nullptr || *s == '\0')
        return nullptr;
    return sl_strdup(s);
}

int
cond_err(struct sl_err *err, const OFCondition &cond, uint16_t g, uint16_t e,
         const char *what)
{
    char tag[128];

    tag_text(DcmTagKey(g, e), tag, sizeof(tag));
    return SL_ERR(err, SL_EDICOM, "%s: cannot %s: %s", tag, what, cond.text());
}

int
fail_exception(struct sl_err *err)
{
    try {
        throw;
    } catch (const std::bad_alloc &) {
        return SL_ERR(err, SL_ENOMEM, "out of memory in DCMTK");
    } catch (...) {
        return SL_ERR(err, SL_EDICOM, "DCMTK failed");
    }
}

bool
is_string_vr(DcmEVR evr)
{
    switch (evr) {
    case EVR_AE:
    case EVR_AS:
    case EVR_CS:
    case EVR_DA:
    case EVR_DS:
    case EVR_DT:
    case EVR_IS:
    case EVR_LO:
    case EVR_LT:
    case EVR_PN:
    case EVR_SH:
    case EVR_ST:
    case EVR_TM:
    case EVR_UC:
    case EVR_UI:
    case EVR_UR:
    case EVR_UT:
        return true;
    default:
        return false;
    }
}

// One spare buffer of each kind per thread: malloc hands out and takes
// back buffers of tens or hundreds of KiB by consolidating its free lists
// (and trimming the heap), a cost paid twice per instance otherwise.
namespace
{
thread_local std::vector<char> spares[2];
}

std::vector<char>
spare_buffer(int which)
{
    std::vector<char> v;

    v.swap(spares[which]);
    return v;
}

void
keep_buffer(int which, std::vector<char> &&v)
{
    // The input's bytes hold the patient's data: wiped whether the buffer
    // is kept or freed (a memset the compiler may not remove).
    if (!v.empty())
        explicit_bzero(v.data(), v.size());
    if (v.capacity() > spares[which].capacity() && v.capacity() <= (1 << 20)) {
        // Kept at its size, all zeros now: the next resize() up to it
        // does not write the zeros a second time (it did, 21 KB a small
        // instance, as much as the wipe).
        spares[which].swap(v);
    }
}

} // namespace shim
