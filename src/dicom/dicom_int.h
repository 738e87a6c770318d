// dicom_int.h - what the files of the DCMTK shim share among themselves
// (C++ only; callers use dicom.h). Every file includes DCMTK through here
// so that osconfig.h comes first.
//
//   dicom_util.cc    quiet DCMTK, tag names, exceptions into statuses
//   dicom_dict.cc    the data dictionary loaded at start-up
//   dicom_read.cc    the probe, checked loading, summaries
//   dicom_build.cc   synthetic instances
//   dicom_edit.cc    a file open for de-identification: get, put, walk
//   dicom_save.cc    writing it back, pixel data copied as bytes
//   dicom_pixels.cc  checking, blanking and masking native pixel data
//   dicom_dir.cc     DICOMDIR
//   dicom_render.cc  frames decoded and rendered to 8 bits, boxes blanked
//   dicom_net.cc     the network: C-ECHO and C-STORE through DcmSCU
//   dicom_qr.cc      query and retrieve: C-FIND and C-GET through DcmSCU
//   dicom_listen.cc  a storage SCP pool: the dicom-listener source
#ifndef SL_DICOM_INT_H
#define SL_DICOM_INT_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "dicom/dicom.h"

// Which bits of each sample of native pixel data hold the stored value
// (sl_dicom_file_mask_unused_bits()): the others are cleared, or for
// signed samples the bits above High Bit become copies of the sign bit.
struct sl_pixel_mask {
    bool on = false;
    unsigned bits = 0;   // Bits Allocated: 8 or 16
    unsigned stored = 0; // Bits Stored, < bits
    unsigned low = 0;    // the lowest stored bit: High Bit + 1 - stored
    bool is_signed = false;

    unsigned apply(unsigned w) const
    {
        unsigned v = (w >> low) & ((1u << stored) - 1);
        if (is_signed && ((v >> (stored - 1)) & 1))
            v |= ~((1u << stored) - 1);
        return (v << low) & ((1u << bits) - 1);
    }
};

// A file open for reading and editing (sl_dicom_file_open()).
struct sl_dicom_file {
    DcmFileFormat *ff;
    std::string src;         // the input file, for the pixel data fast path
    unsigned long long size; // its size when opened
    bool had_meta;
    bool pixels_changed; // blanked: the pixel data must be re-encoded
    unsigned long long pix_off, pix_len; // where it is in src (0: unknown)
    int src_fd; // src, open for reading (-1: not)
    // Bytes of src read while parsing, from offset buf_at (all of a file
    // of up to 64 KiB): the pixel data is taken from here, not read again,
    // when it lies inside.
    std::vector<char> buf;
    unsigned long long buf_at;
    // The top-level elements in tag order, for look-ups by tag without a
    // walk of DCMTK's list from its head each time (top_element());
    // top_ok is cleared by whatever adds, removes or replaces one.
    std::vector<DcmElement *> top;
    bool top_ok = false;
    // Applied to the pixel data when it is written.
    sl_pixel_mask mask;
};

namespace shim
{

// ---- dicom_j2k.cc ---------------------------------------------------------

// Registers the JPEG 2000 decoder (OpenJPEG) with DCMTK's codec list,
// once per process.
void register_j2k_decoder();

// ---- dicom_util.cc --------------------------------------------------------

// Silences DCMTK's own logger once per process (its messages may quote
// attribute values) and builds the data dictionary (load_dictionary()).
void quiet_dcmtk();
// "(7FE0,0010) Pixel Data" for a tag, into buf.
void tag_text(const DcmTagKey &key, char *buf, size_t len);
// A copy of s (the caller's), or nullptr when s is NULL or empty.
char *dup_or_null(const char *s);
// SL_EDICOM "(gggg,eeee) Name: cannot <what>: <DCMTK's reason>".
int cond_err(struct sl_err *err, const OFCondition &cond, uint16_t g,
             uint16_t e, const char *what);
// Inside a catch block: the exception in flight as a status (SL_ENOMEM
// for std::bad_alloc, SL_EDICOM otherwise), with a message in err.
int fail_exception(struct sl_err *err);
// 1 for the VRs whose value is text.
bool is_string_vr(DcmEVR evr);
// The calling thread's spare buffer of a kind (0: the input read while
// parsing, 1: the output's), with the capacity it had and the size it
// was given back with, every byte zero; and giving one back (wiped; kept
// when it is the larger, up to 1 MiB).
enum { SPARE_INPUT = 0, SPARE_OUTPUT = 1 };
std::vector<char> spare_buffer(int which);
void keep_buffer(int which, std::vector<char> &&v);

// The elements of an item or the items of a sequence, in order.
// getElement(i) and getItem(i) walk the list from its head each time
// (DcmList::seek_to), which made every loop over a dataset quadratic.
template <class C>
std::vector<DcmObject *>
children(C *c)
{
    std::vector<DcmObject *> v;

    v.reserve(c->card());
    for (DcmObject *o = c->nextInContainer(nullptr); o != nullptr;
         o = c->nextInContainer(o))
        v.push_back(o);
    return v;
}

// The top-level element of f with tag key, or nullptr: what
// findAndGetElement(key, el, OFFalse) finds, by binary search.
DcmElement *top_element(struct sl_dicom_file *f, const DcmTagKey &key);
// findAndGetUint16(key, v) through top_element(): false, and v = 0, when
// there is no such element or no value.
bool top_uint16(struct sl_dicom_file *f, const DcmTagKey &key, Uint16 &v);

// ---- dicom_dict.cc --------------------------------------------------------

// Builds DCMTK's global data dictionary from its text files, faster than
// DCMTK's own loader (which it leaves the files to when they are not in
// the expected form). Once per process, before anything else touches
// dcmDataDict; later calls return at once.
void load_dictionary();

// ---- dicom_pixels.cc ------------------------------------------------------

// Applies m to n bytes of pixel data p (16 bits allocated: n even, words
// in the byte order big or little endian), in place, in one pass of word
// operations: samples m leaves alone come out as they were, so there is
// no need to check first whether any must change.
void mask_pixels(unsigned char *p, unsigned long long n, const sl_pixel_mask &m,
                 bool big);
// Applies f->mask to the top-level pixel data in memory (loading it) and
// marks it changed. SL_EDICOM when its encoding is not one it can mask.
int mask_in_memory(struct sl_dicom_file *f, struct sl_err *err);
// The native pixel data pd in memory (loaded; 16 bits: words in the
// host's order, *words true; else bytes), in *out, once it is known to
// hold frames of frame_bytes each; SL_EDICOM naming (7FE0,0010) when it
// is shorter.
int native_pixels(DcmElement *pd, unsigned long frame_bytes, long frames,
                  Uint8 **out, bool *words, struct sl_err *err);

// ---- dicom_read.cc --------------------------------------------------------

// Bytes element o occupies in a file, from the length fields DCMTK read;
// *known set to false for an encoding it cannot account for.
unsigned long long element_file_length(DcmObject *o, bool explicit_vr,
                                       bool *known);
// Loads path into ff with values over 4 KiB left on disk, checking that
// it parsed completely and that no value runs past the end of the file.
// require_meta: refuse a file without the Part-10 "DICM" prefix. fd: the
// file already open (taken over, closed whatever happens), or -1 to open
// path. Out parameters may be nullptr: whether it had one, its size,
// (keep_fd) the descriptor it was read through, then the caller's to
// close, and (keep_buf) the last bytes read through it, from offset
// *buf_at.
int load_checked(const char *path, int fd, DcmFileFormat &ff,
                 bool require_meta,
                 int *had_meta, unsigned long long *size, int *keep_fd,
                 std::vector<char> *keep_buf, unsigned long long *buf_at,
                 struct sl_err *err);
// The summary of what ff holds, with the checks a reader of it makes;
// f (or nullptr) is the open file ff is, to look elements up in.
int summary_of(DcmFileFormat &ff, struct sl_dicom_file *f,
               struct sl_dicom_summary **out, struct sl_err *err);

// ---- dicom_net.cc ---------------------------------------------------------

} // namespace shim
class DcmSCU;
class OFCondition;
class DcmTLSTransportLayer;
struct in_addr;
namespace shim
{
// A DcmSCU set up for peer p (AE titles, timeouts, non-blocking DIMSE),
// not yet connected; the caller deletes it.
DcmSCU *new_scu(const struct sl_dicom_peer *p);
// With p->tls_ca set, makes scu (after initNetwork(), before negotiating)
// talk TLS to the peer; else does nothing. SL_ENET with a message naming
// the file at fault when the certificates cannot be loaded.
int use_tls(DcmSCU *scu, const struct sl_dicom_peer *p, struct sl_err *err);
// SL_ENET with a message saying what went wrong on the network and what
// to check (what: "C-ECHO", "C-FIND"...); *why (may be NULL) says which.
int net_err(struct sl_err *err, const struct sl_dicom_peer *p,
            const OFCondition &c, int *why, const char *what);
// The IPv4 address the next listening socket DCMTK binds on this thread
// is given (dicom_listen.cc: DCMTK 3.6.7 always binds INADDR_ANY), or
// nullptr for DCMTK's own; a points to storage that outlives the bind.
void bind_address(const struct in_addr *a);
// A TLS layer for a storage SCP of ours into out: certificate cert with
// its key, callers' certificates required to chain to ca (all PEM). SL_OK,
// or SL_ECONFIG naming the file at fault (what: "DICOM listener", ...).
int tls_acceptor(const char *what, const char *ca, const char *cert,
                 const char *key, std::unique_ptr<DcmTLSTransportLayer> &out,
                 struct sl_err *err);

} // namespace shim

#endif
