// dicom_dict.cc - DCMTK's data dictionary loaded at start-up without
// DCMTK's text loader. DcmDataDictionary::loadDictionary reads its files
// (on Debian dicom.dic and private.dic, some 8,000 lines) with several
// sscanf calls a line: 119 M instructions, about 30 ms, of a 171 M
// instruction start-up, paid by every command before its first file.
// Here the same files, from the same paths (DCMDICTPATH, else DCMTK's
// default), are read whole and their lines taken apart by hand into the
// same entries, added in the same order through DcmDataDictionary's own
// addEntry. Only the plain forms the files use are taken; a file that
// cannot be read or a line in any other form (or anything DCMTK would
// reject) leaves the whole load to DCMTK, which then reports as it
// always did. sl_dicom_dict_compare() (tests) checks entry by entry that
// both loaders agree on a file.
#include "config.h"

#include "dicom/dicom_int.h"

#include <dcmtk/dcmdata/dcdicent.h>
#include <dcmtk/dcmdata/dcdict.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace
{

// One line of a dictionary file, taken apart; the strings point into
// the file's text (dict_text), cut and squeezed in place.
struct dict_line {
    unsigned g = 0, e = 0, ug = 0, ue = 0;
    DcmDictRangeRestriction gr = DcmDictRange_Unspecified;
    DcmDictRangeRestriction er = DcmDictRange_Unspecified;
    const char *creator = nullptr; // nullptr: not private
    DcmEVR vr = EVR_UNKNOWN;
    const char *name = nullptr, *version = nullptr;
    int vm_min = 1, vm_max = 1;
};

// The files read, kept while their lines are added.
struct dict_text {
    std::vector<std::unique_ptr<char[]>> files;
    std::vector<dict_line> lines;
};

bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

// Removes every white-space character of the n bytes at p and ends them
// with a NUL (over the byte after them, a separator the caller no longer
// needs), as DCMTK's stripWhitespace leaves a field.
char *
squeeze(char *p, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++)
        if (!is_space(p[i]))
            p[o++] = p[i];
    p[o] = '\0';
    return p;
}

int
hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// 1 to 4 hex digits from *p, advancing it.
bool
hex16(const char *&p, const char *end, unsigned *v)
{
    int n = 0, d;

    *v = 0;
    while (p < end && n < 5 && (d = hex_digit(*p)) >= 0) {
        *v = *v << 4 | static_cast<unsigned>(d);
        p++;
        n++;
    }
    return n >= 1 && n <= 4;
}

// A tag part as DCMTK's parseTagPart reads it: "gggg", "gggg-GGGG" (even
// by default) or "gggg-r-GGGG" with r one of o, e, u.
bool
tag_part(const char *p, const char *end, unsigned *lo, unsigned *hi,
         DcmDictRangeRestriction *r)
{
    *r = DcmDictRange_Unspecified;
    if (!hex16(p, end, lo))
        return false;
    if (p == end) {
        *hi = *lo;
        return true;
    }
    if (*p++ != '-' || p == end)
        return false;
    if (end - p >= 3 && p[1] == '-' && hex_digit(p[2]) >= 0 &&
        (hex_digit(p[0]) < 0 || p[0] == 'e' || p[0] == 'E')) {
        // A restrictor (an 'e' could start a hex number: taken as one
        // only when followed by "-" and more hex, as sscanf would).
        switch (p[0]) {
        case 'o':
        case 'O':
            *r = DcmDictRange_Odd;
            break;
        case 'e':
        case 'E':
            *r = DcmDictRange_Even;
            break;
        case 'u':
        case 'U':
            *r = DcmDictRange_Unspecified;
            break;
        default:
            return false;
        }
        p += 2;
    } else {
        *r = DcmDictRange_Even;
    }
    return hex16(p, end, hi) && p == end;
}

bool
no_space(const char *p, const char *end)
{
    for (; p < end; p++)
        if (is_space(*p))
            return false;
    return true;
}

// "(gggg,eeee)", with ranges, or "(gggg,\"creator\",ee)". No white space
// outside the creator's quotes (DCMTK would strip it: such a file is
// left to DCMTK).
bool
tag_field(char *p, char *end, dict_line *l)
{
    if (end - p < 5 || *p != '(' || end[-1] != ')')
        return false;
    p++;
    end--;
    char *comma =
        static_cast<char *>(std::memchr(p, ',', static_cast<size_t>(end - p)));
    if (comma == nullptr || !tag_part(p, comma, &l->g, &l->ug, &l->gr))
        return false;
    p = comma + 1;
    if (p < end && *p == '"') {
        char *q = static_cast<char *>(
            std::memchr(p + 1, '"', static_cast<size_t>(end - p - 1)));
        // DCMTK keeps up to 63 bytes of a creator, and none of "".
        if (q == nullptr || q == p + 1 || q - p > 64 || q + 1 >= end ||
            q[1] != ',' || !no_space(q + 2, end) ||
            !tag_part(q + 2, end, &l->e, &l->ue, &l->er))
            return false;
        *q = '\0'; // the element part is read: the quote ends the creator
        l->creator = p + 1;
        return true;
    }
    return no_space(p, end) && tag_part(p, end, &l->e, &l->ue, &l->er);
}

// A VM as DCMTK's parseVMField reads it: "n", "N", "N-M", "N-n", "N-Nn",
// "Nn"; variable maxima as DcmVariableVM.
bool
vm_field(const char *p, int *lo, int *hi)
{
    long a = 0, b = 0;
    char *q;

    if ((p[0] == 'n' || p[0] == 'N') && p[1] == '\0') {
        *lo = 1;
        *hi = DcmVariableVM;
        return true;
    }
    if (!(*p >= '0' && *p <= '9'))
        return false;
    a = std::strtol(p, &q, 10);
    if (a > 100000)
        return false;
    *lo = static_cast<int>(a);
    if (*q == '\0') {
        *hi = *lo;
        return true;
    }
    if ((*q == 'n' || *q == 'N') && q[1] == '\0') {
        *hi = DcmVariableVM;
        return true;
    }
    if (*q++ != '-')
        return false;
    if ((*q == 'n' || *q == 'N') && q[1] == '\0') {
        *hi = DcmVariableVM;
        return true;
    }
    if (!(*q >= '0' && *q <= '9'))
        return false;
    b = std::strtol(q, &q, 10);
    if (b > 100000)
        return false;
    if (*q == '\0') {
        *hi = static_cast<int>(b);
        return true;
    }
    if ((*q == 'n' || *q == 'N') && q[1] == '\0') {
        *hi = DcmVariableVM;
        return true;
    }
    return false;
}

// One non-comment line, p to end (trailing white space gone, *end a NUL)
// into *l, its fields cut in place.
bool
parse_line(char *p, char *end, dict_line *l)
{
    char *f[6];
    size_t n[6];
    int nf = 0;

    // Tab-separated fields: 3 to 5 of them.
    for (;;) {
        char *t = static_cast<char *>(
            std::memchr(p, '\t', static_cast<size_t>(end - p)));
        if (nf == 5)
            return false;
        f[nf] = p;
        n[nf] = static_cast<size_t>((t != nullptr ? t : end) - p);
        nf++;
        if (t == nullptr)
            break;
        p = t + 1;
    }
    if (nf < 3)
        return false;
    char *tb = f[0], *te = f[0] + n[0];
    while (tb < te && is_space(*tb))
        tb++;
    if (!tag_field(tb, te, l))
        return false;
    DcmVR v(squeeze(f[1], n[1]));
    if (v.getEVR() == EVR_UNKNOWN)
        return false;
    l->vr = v.getEVR();
    l->name = squeeze(f[2], n[2]);
    l->version = nf == 5 ? squeeze(f[4], n[4]) : "DICOM";
    if (nf >= 4 && !vm_field(squeeze(f[3], n[3]), &l->vm_min, &l->vm_max))
        return false;
    return true;
}

// The lines of the file at path into *out; false when it cannot be read
// or a line is not in a form parse_line() takes.
bool
parse_file(const char *path, dict_text *out)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return false;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > (64 << 20)) {
        close(fd);
        return false;
    }
    const size_t size = static_cast<size_t>(st.st_size);
    std::unique_ptr<char[]> text(new char[size + 1]);
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, text.get() + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += static_cast<size_t>(r);
    }
    close(fd);
    if (got != size)
        return false;
    text[size] = '\0';
    char *p = text.get(), *end = p + size;
    while (p < end) {
        char *nl = static_cast<char *>(
            std::memchr(p, '\n', static_cast<size_t>(end - p)));
        char *le = nl != nullptr ? nl : end;
        char *next = nl != nullptr ? nl + 1 : end;
        // DCMTK reads lines of up to 2,047 bytes; a NUL would cut one.
        if (le - p >= DCM_MAXDICTLINESIZE - 1 ||
            std::memchr(p, '\0', static_cast<size_t>(le - p)) != nullptr)
            return false;
        while (le > p && is_space(le[-1]))
            le--;
        const char *s = p;
        while (s < le && is_space(*s))
            s++;
        if (s < le && *s != '#') {
            dict_line l;
            *le = '\0';
            if (!parse_line(p, le, &l))
                return false;
            out->lines.push_back(l);
        }
        p = next;
    }
    out->files.push_back(std::move(text));
    return true;
}

// The files DCMTK's loadExternalDictionaries would read, in its order.
std::vector<std::string>
dictionary_paths()
{
    std::vector<std::string> v;
    const char *env = std::getenv(DCM_DICT_ENVIRONMENT_VARIABLE);

    if (env == nullptr || *env == '\0')
        env = DCM_DICT_DEFAULT_PATH;
    std::string s(env);
    size_t at = 0;
    for (;;) {
        size_t sep = s.find(ENVIRONMENT_PATH_SEPARATOR, at);
        std::string part = s.substr(at, sep == std::string::npos
                                            ? std::string::npos
                                            : sep - at);
        if (!part.empty())
            v.push_back(part);
        if (sep == std::string::npos)
            break;
        at = sep + 1;
    }
    return v;
}

void
add_lines(DcmDataDictionary &d, const std::vector<dict_line> &lines)
{
    for (const dict_line &l : lines) {
        auto *e = new DcmDictEntry(
            static_cast<Uint16>(l.g), static_cast<Uint16>(l.e),
            static_cast<Uint16>(l.ug), static_cast<Uint16>(l.ue), DcmVR(l.vr),
            l.name, l.vm_min, l.vm_max, l.version, OFTrue, l.creator);
        e->setGroupRangeRestriction(l.gr);
        e->setElementRangeRestriction(l.er);
        d.addEntry(e);
    }
}

// Builds the global dictionary: DCMTK creates it with its external files
// hidden (DCMDICTPATH set to a list of no files for the moment), then
// the lines read here are added. Runs once, before the first use of
// dcmDataDict; leaves everything to DCMTK when a file is not in the
// expected form. setenv() is not safe while another thread reads the
// environment: sluice gets here through sl_dicom_init(), which the
// stages and targets call when they are made, before the pipeline
// starts its threads.
void
load_fast()
{
    dict_text t;

    t.lines.reserve(8192);
    for (const std::string &p : dictionary_paths())
        if (!parse_file(p.c_str(), &t))
            return;
    if (t.lines.empty())
        return;
    const char *was = std::getenv(DCM_DICT_ENVIRONMENT_VARIABLE);
    std::string saved = was != nullptr ? was : "";
    const char none[] = {ENVIRONMENT_PATH_SEPARATOR, '\0'};
    if (setenv(DCM_DICT_ENVIRONMENT_VARIABLE, none, 1) != 0)
        return;
    DcmDataDictionary &d = dcmDataDict.wrlock();
    // Already built before this (another DCMTK call came first): it has
    // its entries, nothing to add.
    const bool fresh = d.numberOfEntries() == 0;
    if (fresh)
        add_lines(d, t.lines);
    dcmDataDict.wrunlock();
    if (was != nullptr)
        setenv(DCM_DICT_ENVIRONMENT_VARIABLE, saved.c_str(), 1);
    else
        unsetenv(DCM_DICT_ENVIRONMENT_VARIABLE);
}

bool
same_entry(const DcmDictEntry *a, const DcmDictEntry *b)
{
    auto eq = [](const char *x, const char *y) {
        return (x == nullptr && y == nullptr) ||
               (x != nullptr && y != nullptr && std::strcmp(x, y) == 0);
    };
    return a->getGroup() == b->getGroup() &&
           a->getElement() == b->getElement() &&
           a->getUpperGroup() == b->getUpperGroup() &&
           a->getUpperElement() == b->getUpperElement() &&
           a->getGroupRangeRestriction() == b->getGroupRangeRestriction() &&
           a->getElementRangeRestriction() ==
               b->getElementRangeRestriction() &&
           a->getEVR() == b->getEVR() && a->getVMMin() == b->getVMMin() &&
           a->getVMMax() == b->getVMMax() &&
           eq(a->getTagName(), b->getTagName()) &&
           eq(a->getStandardVersion(), b->getStandardVersion()) &&
           eq(a->getPrivateCreator(), b->getPrivateCreator());
}

} // namespace

namespace shim
{

void
load_dictionary()
{
    static std::once_flag once;
    std::call_once(once, [] {
        try {
            load_fast();
        } catch (...) {
            // Left to DCMTK's own loader on its first use.
        }
    });
}

} // namespace shim

extern "C" int
sl_dicom_dict_compare(const char *path, char *msg, unsigned long msglen)
{
    try {
        dict_text t;
        if (!parse_file(path, &t)) {
            std::snprintf(msg, msglen, "%s: not in the form read fast", path);
            return 2;
        }
        DcmDataDictionary theirs(OFFalse, OFFalse), ours(OFFalse, OFFalse);
        if (!theirs.loadDictionary(path, OFTrue)) {
            // Taken here, refused there: DCMTK would fail to start.
            std::snprintf(msg, msglen, "%s: read fast, but DCMTK refuses it",
                          path);
            return 1;
        }
        add_lines(ours, t.lines);
        if (theirs.numberOfNormalTagEntries() !=
                ours.numberOfNormalTagEntries() ||
            theirs.numberOfRepeatingTagEntries() !=
                ours.numberOfRepeatingTagEntries()) {
            std::snprintf(msg, msglen,
                          "%s: %d and %d entries, %d and %d repeating", path,
                          theirs.numberOfNormalTagEntries(),
                          ours.numberOfNormalTagEntries(),
                          theirs.numberOfRepeatingTagEntries(),
                          ours.numberOfRepeatingTagEntries());
            return 1;
        }
        for (auto it = theirs.normalBegin(); it != theirs.normalEnd(); ++it) {
            const DcmDictEntry *a = *it;
            const DcmDictEntry *b =
                ours.findEntry(a->getKey(), a->getPrivateCreator());
            if (b == nullptr || !same_entry(a, b)) {
                std::snprintf(msg, msglen, "%s: (%04X,%04X) differs", path,
                              a->getGroup(), a->getElement());
                return 1;
            }
        }
        auto r = ours.repeatingBegin();
        for (auto it = theirs.repeatingBegin(); it != theirs.repeatingEnd();
             ++it, ++r) {
            if (!same_entry(*it, *r)) {
                std::snprintf(msg, msglen, "%s: repeating (%04X,%04X) differs",
                              path, (*it)->getGroup(), (*it)->getElement());
                return 1;
            }
        }
        return 0;
    } catch (...) {
        std::snprintf(msg, msglen, "DCMTK failed comparing dictionaries");
        return 2;
    }
}
