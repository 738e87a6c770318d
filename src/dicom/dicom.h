/* dicom.h - C API of the DCMTK shim (the only C++ in sluice).
 *
 * Every function returns an SL_* status from common/common.h and, on
 * failure, fills err (may be NULL) with a message that names tags and
 * problems but never attribute values (patient data) nor the input path:
 * callers prefix their own position ("file 12"). Nothing thrown inside
 * DCMTK unwinds into C. */
#ifndef SL_DICOM_H
#define SL_DICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "common/common.h"

/* Loads DCMTK's data dictionary; 0 when loaded, -1 (with a message in
 * msg) when it is missing. Also silences DCMTK's own logger, whose
 * messages may quote values. */
int sl_dicom_init(char *msg, unsigned long msglen);

/* Loads the DCMTK text data dictionary at path twice, with DCMTK's loader
 * and with the faster one sl_dicom_init() uses, and compares every
 * entry: 0 when they agree; 1 (the first difference in msg) when they do
 * not, or DCMTK refuses a file the faster one takes; 2 when the faster
 * one does not take the file (DCMTK would be left to load it). */
int sl_dicom_dict_compare(const char *path, char *msg, unsigned long msglen);

/* Sets *is_dicom to 1 when path is a DICOM Part-10 file ("DICM" at offset
 * 128) or a bare dataset without preamble and meta information (its first
 * element in group 0002 or 0008, explicit or implicit VR, either byte
 * order), 0 otherwise, reading only the first 132 bytes. SL_EIO when the
 * file cannot be opened. */
int sl_dicom_file_probe(const char *path, int *is_dicom, struct sl_err *err);
/* The same probe, for a reader that goes on to open the file: with
 * SL_PROBE_NOFOLLOW in flags, a symbolic link (as the last component of
 * path) is not opened and sets *is_link (may be NULL otherwise) with
 * SL_OK; when the file is DICOM and keep_fd is not NULL, *keep_fd is the
 * descriptor the probe read it through (read-only, close-on-exec), the
 * caller's to pass to sl_dicom_file_open_fd() or close, or -1 when the
 * probe closed it (descriptors above SL_PROBE_FD_MAX are not kept). */
#define SL_PROBE_NOFOLLOW 1
#define SL_PROBE_FD_MAX   512
int sl_dicom_file_probe_fd(const char *path, int flags, int *is_dicom,
                           int *is_link, int *keep_fd, struct sl_err *err);

/* 1 when path is named as DICOM (.dcm, .DCM, .dicom): such a file that the
 * probe does not take was meant to be delivered, so it is quarantined
 * with SL_DICOM_NOT_DICOM, not skipped as a README would be. */
int sl_dicom_named_as_dicom(const char *path);
#define SL_DICOM_NOT_DICOM                                                     \
    "named as DICOM but not DICOM by its content: no DICM prefix at offset "  \
    "128, and the first bytes are not an element of group 0002 or 0008"

/* What the pipeline needs to know about one instance. Strings are owned by
 * the summary (NULL when the attribute is absent or empty, except the
 * three UIDs, which are always set on success). */
struct sl_dicom_summary {
    char *patient_id;      /* (0010,0020) */
    char *study_uid;       /* (0020,000D) */
    char *series_uid;      /* (0020,000E) */
    char *sop_uid;         /* (0008,0018) */
    char *sop_class_uid;   /* (0008,0016) */
    char *modality;        /* (0008,0060) */
    char *study_date;      /* (0008,0020) */
    char *transfer_syntax; /* (0002,0010) from the meta header */
};

/* Reads the summary of a Part-10 file without loading large values (pixel
 * data stays on disk). Fails with SL_EDICOM and a message naming the tag
 * when the file cannot be parsed completely, when a value is shorter than
 * its declared length (a truncated file, e.g. "(7FE0,0010) Pixel Data:
 * truncated") or when a required UID is missing. SL_EIO when the file
 * cannot be opened. On success *out is owned by the caller; free it with
 * sl_dicom_summary_free(). */
int sl_dicom_summary_read(const char *path, struct sl_dicom_summary **out,
                          struct sl_err *err);
void sl_dicom_summary_free(struct sl_dicom_summary *s); /* NULL-safe */

/* ---- building synthetic instances -------------------------------------- */
struct sl_dicom_builder;

/* A new, empty dataset. Never NULL (allocation failure aborts). */
struct sl_dicom_builder *sl_dicom_builder_new(void);
void sl_dicom_builder_free(struct sl_dicom_builder *b); /* NULL-safe */

/* Sets a standard attribute from its string form; the VR comes from the
 * data dictionary (for US, "512"; multiple values separated by '\'). */
int sl_dicom_builder_set_string(struct sl_dicom_builder *b, uint16_t group,
                                uint16_t elem, const char *value,
                                struct sl_err *err);
int sl_dicom_builder_set_u16(struct sl_dicom_builder *b, uint16_t group,
                             uint16_t elem, uint16_t value, struct sl_err *err);
/* Sets (7FE0,0010) Pixel Data as OW from n 16-bit words (copied). The
 * caller sets Rows, Columns, BitsAllocated and the rest. */
int sl_dicom_builder_set_pixels16(struct sl_dicom_builder *b,
                                  const uint16_t *words, size_t n,
                                  struct sl_err *err);
/* Sets a private attribute: reserves a block of odd group `group` for
 * `creator` (reusing the block when the creator is already there) and
 * puts `value` at element offset `offset` (0x00-0xFF) of that block with
 * the given two-letter VR (string VRs such as "LO", "SH", "UT", "DS"). */
int sl_dicom_builder_set_private(struct sl_dicom_builder *b, uint16_t group,
                                 const char *creator, uint8_t offset,
                                 const char *vr, const char *value,
                                 struct sl_err *err);
/* Appends an item with one string attribute (g,e)=value to the sequence
 * (sg,se), creating the sequence when absent. Adding more attributes to
 * the last item: sl_dicom_builder_seq_set_string(). */
int sl_dicom_builder_seq_add_item(struct sl_dicom_builder *b, uint16_t sg,
                                  uint16_t se, struct sl_err *err);
int sl_dicom_builder_seq_set_string(struct sl_dicom_builder *b, uint16_t sg,
                                    uint16_t se, uint16_t group, uint16_t elem,
                                    const char *value, struct sl_err *err);
/* Writes the dataset as a Part-10 file in Explicit VR Little Endian with
 * a fresh meta header (SOP Class and Instance UIDs taken from the
 * dataset). The output is a function of the dataset only, so equal
 * datasets give byte-identical files. */
int sl_dicom_builder_save(struct sl_dicom_builder *b, const char *path,
                          struct sl_err *err);

/* ---- reading and editing a Part-10 file (the de-identification engine) --
 * One struct sl_dicom_file per instance and per thread: a handle is not
 * shared between threads, distinct handles are independent. */
struct sl_dicom_file;

/* Opens a DICOM file: Part-10 (DICM at offset 128) or, failing that, a bare
 * dataset (DCMTK detects the encoding). Values longer than 4 KiB (pixel
 * data) stay on disk and are copied through byte for byte on save. Fails
 * with SL_EDICOM and a message naming the tag when the file cannot be
 * parsed completely or a value is shorter than its declared length;
 * SL_EIO when it cannot be opened. On success *out is the caller's; free
 * it with sl_dicom_file_free(). *had_meta (may be NULL) tells whether the
 * file had a Part-10 header. */
int sl_dicom_file_open(const char *path, struct sl_dicom_file **out,
                       int *had_meta, struct sl_err *err);
/* The same, reading fd (a descriptor of path open for reading, such as
 * sl_dicom_file_probe_fd() keeps), which it takes over: closed by
 * sl_dicom_file_free() or on failure. fd -1: opens path. path is still
 * read by name for values loaded later. */
int sl_dicom_file_open_fd(int fd, const char *path,
                          struct sl_dicom_file **out, int *had_meta,
                          struct sl_err *err);
void sl_dicom_file_free(struct sl_dicom_file *f); /* NULL-safe */

/* 1 when the pixel data is encapsulated (compressed), else 0. */
int sl_dicom_file_is_encapsulated(const struct sl_dicom_file *f);

/* A top-level attribute as a string (all values, '\'-separated). *out is
 * the caller's, NULL when the attribute is absent (SL_OK either way). */
int sl_dicom_file_get(struct sl_dicom_file *f, uint16_t group, uint16_t elem,
                      char **out);
/* 1 when the top-level attribute is present (even empty), else 0. */
int sl_dicom_file_has(struct sl_dicom_file *f, uint16_t group, uint16_t elem);
/* Inserts or replaces a top-level attribute (VR from the dictionary). */
int sl_dicom_file_put(struct sl_dicom_file *f, uint16_t group, uint16_t elem,
                      const char *value, struct sl_err *err);
/* Removes a top-level attribute; SL_OK when it was absent. */
int sl_dicom_file_delete(struct sl_dicom_file *f, uint16_t group,
                         uint16_t elem);
/* Appends an item (code value, scheme designator, code meaning) to the
 * top-level code sequence (sg,se), creating the sequence when absent. */
int sl_dicom_file_add_code(struct sl_dicom_file *f, uint16_t sg, uint16_t se,
                           const char *value, const char *scheme,
                           const char *meaning, struct sl_err *err);

/* One element met by sl_dicom_file_walk. Pointers are borrowed for the
 * duration of the callback. */
struct sl_dicom_elem {
    uint16_t group, elem;
    char vr[3];         /* "PN", "SQ", "OB", … ("UN" when unknown) */
    int depth;          /* 0: top level; 1: in an item of a sequence … */
    uint16_t seq_group; /* the enclosing sequence (depth > 0) */
    uint16_t seq_elem;
    const char *creator; /* private data element: its creator (NULL when
                            the block has none); private creator element:
                            its own value; else NULL */
    unsigned long items; /* SQ: number of items */
    void *impl;          /* the shim's: see sl_dicom_elem_value() */
};

/* The value of the element the callback was given, read when first asked
 * for (most elements never need theirs): string VRs give all values
 * '\'-separated with DCMTK's padding removed; other VRs NULL. Borrowed
 * for the duration of the callback. */
const char *sl_dicom_elem_value(const struct sl_dicom_elem *e);

/* What to do with the element the callback was given. */
enum sl_dicom_op {
    SL_DICOM_KEEP = 0, /* keep; a sequence is walked into */
    SL_DICOM_REMOVE,   /* delete the element */
    SL_DICOM_CLEAR,    /* zero length (a sequence: no items) */
    SL_DICOM_SET       /* replace the value with *value (string form) */
};

/* Called for each element in order, depth first. Sets *op (and *value for
 * SL_DICOM_SET; borrowed, copied before the next call). Returns SL_OK to
 * go on, anything else to stop the walk with that status. */
typedef int (*sl_dicom_visit_fn)(void *ctx, const struct sl_dicom_elem *e,
                                 int *op, const char **value);

/* Walks the dataset (not the meta header) through every sequence, applying
 * the callback's decisions. */
int sl_dicom_file_walk(struct sl_dicom_file *f, sl_dicom_visit_fn fn, void *ctx,
                       struct sl_err *err);
/* A read-only walk of the elements whose VR is vr (two letters, or NULL)
 * or whose tag ((group << 16) | element) is one of the ntags of tags, at
 * any depth, in the same order and with the same sl_dicom_elem as
 * sl_dicom_file_walk hands out; the others are passed over without being
 * built (a first pass looking for identifiers costs a fraction of a full
 * walk). The visitor's *op is ignored: nothing is changed. */
int sl_dicom_file_walk_only(struct sl_dicom_file *f, const char *vr,
                            const uint32_t *tags, size_t ntags,
                            sl_dicom_visit_fn fn, void *ctx,
                            struct sl_err *err);

/* Writes the dataset as a Part-10 file in the transfer syntax it was read
 * in, with a new meta header (from the dataset's SOP Class and Instance
 * UIDs) and a zeroed preamble, without group lengths. Values left on disk
 * are copied through. path is created with mode 0640 under the umask (what
 * a dicom-folder target gives what it delivers: no chmod when it moves the
 * file in). f stays usable (it now holds what was written). */
int sl_dicom_file_save(struct sl_dicom_file *f, const char *path,
                       struct sl_err *err);

/* The summary of what f holds now (after sl_dicom_file_save: what was
 * written), with the checks sl_dicom_summary_read makes (the same
 * SL_EDICOM and message when a required UID is missing, empty or holds a
 * NUL byte), without reading the file again. *out as for
 * sl_dicom_summary_read. */
int sl_dicom_file_summary(struct sl_dicom_file *f,
                          struct sl_dicom_summary **out, struct sl_err *err);

/* Checks that native (uncompressed) pixel data holds at least Rows x
 * Columns x Samples per Pixel x Bits Allocated x Number of Frames bits.
 * SL_OK when it does or when there is no native pixel data; SL_EDICOM
 * naming the tag when it is shorter. Reads no pixel value. */
int sl_dicom_file_check_pixels(struct sl_dicom_file *f, struct sl_err *err);

/* Blanks (sets to 0) the rectangle x,y,w,h in every frame of native
 * (uncompressed) pixel data. SL_EDICOM when the pixel data is compressed
 * or its layout is not supported (the caller quarantines). */
int sl_dicom_file_blank(struct sl_dicom_file *f, unsigned x, unsigned y,
                        unsigned w, unsigned h, struct sl_err *err);

/* Clears, in native (uncompressed) pixel data of 8 or 16 Bits Allocated,
 * the bits of each sample outside the Bits Stored that end at High Bit:
 * overlays kept in the unused high bits (retired Overlay Bit Position)
 * go with the overlay groups that described them. Signed samples
 * (Pixel Representation 1) get copies of the sign bit above High Bit
 * instead, so their 16-bit value is unchanged when it was sign-extended.
 * Does nothing (SL_OK) when Bits Allocated is not above Bits Stored, when
 * the pixel data is compressed or absent, or when the geometry is not
 * one it can mask (other Bits Allocated, High Bit out of range). The
 * change is made when f is saved: pixel data left on disk is masked as
 * it is copied, so it is never loaded whole. */
int sl_dicom_file_mask_unused_bits(struct sl_dicom_file *f, int *masked,
                                   struct sl_err *err);

/* ---- frames as a viewer shows them, and blanking boxes in them --------
 * (burned-in text, issue 11: dicom_render.cc). Compressed pixel data is
 * decoded through DCMTK's codecs (RLE, JPEG baseline/extended/lossless,
 * JPEG-LS) and, for JPEG 2000, which Debian's DCMTK cannot decode, through
 * OpenJPEG (dicom_j2k.cc). */
struct sl_dicom_render;

/* Decodes every frame of f's pixel data for rendering. SL_EDICOM with
 * DCMTK's reason when the pixel data cannot be decoded; SL_ENOTFOUND
 * when f has no pixel data. *out is the caller's (sl_dicom_render_free);
 * it borrows f, which must outlive it and not be saved meanwhile. */
int sl_dicom_render_open(struct sl_dicom_file *f, struct sl_dicom_render **out,
                         struct sl_err *err);
void sl_dicom_render_free(struct sl_dicom_render *r); /* NULL-safe */
unsigned long sl_dicom_render_frames(const struct sl_dicom_render *r);
/* Frame i (from 0) in 8-bit grey, w x h, one byte a pixel, the way a
 * viewer shows it: the first window (or VOI LUT) of the file, else the
 * frame's minimum to maximum; MONOCHROME1 inverted; palette, RGB and YBR
 * rendered in colour, then to grey. *gray is the caller's (it shows the
 * patient's image: wipe and free it). */
int sl_dicom_render_frame(struct sl_dicom_render *r, unsigned long i,
                          unsigned char **gray, unsigned *w, unsigned *h,
                          struct sl_err *err);
/* The colour planes beside the grey frames: 0 for a grey image, 2 for a
 * colour one (RGB, YBR, PALETTE COLOR). Plane 1 is each pixel's red minus
 * its grey, plane 2 its blue minus its grey (BT.601), 128 for a grey
 * pixel, 8 bits, w x h: text whose colour has nearly its background's
 * luminance (green on mid-grey), flat in the grey frame, stands out in
 * one or both. *g is the caller's, as sl_dicom_render_frame's; NULL
 * when every pixel of the frame is grey (both planes flat). */
unsigned sl_dicom_render_planes(const struct sl_dicom_render *r);
int sl_dicom_render_plane(struct sl_dicom_render *r, unsigned long i,
                          unsigned plane, unsigned char **g, unsigned *w,
                          unsigned *h, struct sl_err *err);

/* A region of every frame, in pixels of the image. */
struct sl_dicom_box {
    unsigned x, y, w, h;
};

/* Sets every sample (all planes, all frames) inside the n boxes to the
 * darkest value a viewer shows (0; the smallest signed value; the largest
 * under MONOCHROME1; the index of the palette's darkest entry under
 * PALETTE COLOR; black in YBR_FULL, and under YBR_FULL_422 in every pair
 * of pixels a box touches, since a pair shares its colour), leaving every
 * other sample as it was. Native pixel data is changed in place. Compressed pixel data is
 * decoded, blanked and encoded again losslessly, never lossily: in its
 * own transfer syntax when that is lossless and DCMTK can encode it (RLE,
 * JPEG-LS lossless, JPEG lossless), else in JPEG-LS lossless (or RLE, or
 * Explicit VR Little Endian, whichever DCMTK manages first). xfer (at
 * least 65 bytes, may be NULL) receives the transfer syntax UID the file
 * will be written in; *changed (may be NULL) is 1 when it differs from
 * the input's. SL_EDICOM when the pixel data cannot be decoded or its
 * layout blanked. */
int sl_dicom_file_blank_boxes(struct sl_dicom_file *f,
                              const struct sl_dicom_box *boxes, size_t n,
                              char *xfer, int *changed, struct sl_err *err);
/* The transfer syntax f holds now, as a UID (at least 65 bytes). */
void sl_dicom_file_xfer(struct sl_dicom_file *f, char *xfer);

/* Writes root/DICOMDIR (General Purpose profile, file-set ID "SLUICE")
 * indexing the n Part-10 files at the root-relative paths files[] (ISO
 * 9660 names: up to 8 of A-Z 0-9 _ per component, '/'-separated). Missing
 * type 1 keys are invented as DCMTK's dcmmkdir +I does; the transfer
 * syntax is not restricted to uncompressed. */
int sl_dicom_dicomdir_write(const char *root, const char *const *files,
                            size_t n, struct sl_err *err);
/* Adds the n files (as sl_dicom_dicomdir_write() takes them) to the
 * existing root/DICOMDIR, which DCMTK writes again whole (DICOMDIR.tmp,
 * then a rename). */
int sl_dicom_dicomdir_append(const char *root, const char *const *files,
                             size_t n, struct sl_err *err);
/* Appends to out the root-relative, '/'-separated paths of the files
 * root/DICOMDIR references, in record order. */
int sl_dicom_dicomdir_list(const char *root, struct sl_strv *out,
                           struct sl_err *err);
/* Checks that sl_dicom_dicomdir_write() can index the Part-10 file at
 * path (same profile and settings), wherever it is now. SL_OK, or
 * SL_EDICOM with DCMTK's reason. */
int sl_dicom_dicomdir_check(const char *path, struct sl_err *err);

/* ---- the network: DCMTK's DcmSCU (dicom_net.cc) -------------------------
 * A DICOM node as the configuration names it. Strings are borrowed. */
struct sl_dicom_peer {
    const char *host;       /* name or address */
    int port;               /* 1..65535 */
    const char *called_ae;  /* the peer's AE title */
    const char *calling_ae; /* ours */
    int timeout;            /* seconds for connecting, ACSE and DIMSE */
    /* DICOM TLS (DCMTK's dcmtls, BCP 195 profile): on when tls_ca is set,
     * the PEM file of the CAs the peer's certificate must chain to;
     * tls_cert and tls_key (PEM, may be NULL) are sluice's own for a
     * peer that asks for a client certificate. */
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
};

/* Network failures, for the caller to word its own message: what
 * sl_dicom_echo() and the SCU functions put in *why (may be NULL). */
enum sl_dicom_net_why {
    SL_DICOM_NET_OK = 0,
    SL_DICOM_NET_UNREACHABLE, /* no TCP connection: refused, no route,
                                 unknown host */
    SL_DICOM_NET_REJECTED,    /* the peer rejected the association (AE
                                 titles not known to it, or busy) */
    SL_DICOM_NET_TIMEOUT,     /* no answer within the timeout */
    SL_DICOM_NET_ABORTED,     /* the association was aborted or closed */
    SL_DICOM_NET_NOCONTEXT,   /* the peer accepts no presentation context
                                 that was proposed */
};

/* C-ECHO: opens an association proposing Verification and common storage
 * SOP classes in common transfer syntaxes (each pair its own context),
 * sends a C-ECHO, releases. On success *accepted (may be NULL) gets one
 * line per accepted SOP class, "Name: TS name, TS name" (Verification
 * first). SL_ENET on a network failure (*why says which, err says how),
 * SL_EDICOM when the echo itself failed. */
int sl_dicom_echo(const struct sl_dicom_peer *p, struct sl_strv *accepted,
                  int *why, struct sl_err *err);

/* A C-STORE SCU that keeps its association open between instances and
 * negotiates again (adding the instance's SOP class and transfer syntax)
 * when an instance needs a context the open association lacks. */
struct sl_dicom_scu;
/* convert: 1 to send uncompressed (decoded losslessly by DCMTK) when the
 * peer does not accept the file's own compressed transfer syntax; 0 to
 * fail instead. *out is the caller's (sl_dicom_scu_free). Opens nothing
 * yet. */
int sl_dicom_scu_new(const struct sl_dicom_peer *p, int convert,
                     struct sl_dicom_scu **out, struct sl_err *err);
/* Releases the association (if open) and frees. NULL-safe. */
void sl_dicom_scu_free(struct sl_dicom_scu *s);
/* Sends the Part-10 file at path. SL_OK when a response came: *status is
 * its DIMSE status (0x0000 success, 0xB000-0xBFFF warning, others
 * failure), *xfer_sent (at least 65 bytes, may be NULL) the transfer
 * syntax sent. SL_ENET on a network failure (the association is dropped;
 * the next call opens a new one), with *why. SL_EDICOM when the peer
 * accepts no context for the instance (*why SL_DICOM_NET_NOCONTEXT) or
 * the file cannot be read or converted: the instance is refused, the
 * association stays. */
int sl_dicom_scu_store(struct sl_dicom_scu *s, const char *path,
                       unsigned *status, char *xfer_sent, int *why,
                       struct sl_err *err);
/* The name of a transfer syntax UID ("JPEG Baseline"), or the UID. */
const char *sl_dicom_xfer_name(const char *uid);

/* ---- query and retrieve: C-FIND, C-GET (dicom_qr.cc) -------------------
 * Each call opens its own association and releases it. */

/* A C-FIND at study level (Study Root): keys left NULL are not matched.
 * study_date is a DICOM date or range ("20240101-20241231", "20240101-");
 * modality matches Modalities in Study. */
struct sl_dicom_query {
    const char *study_date;
    const char *modality;
    const char *patient_id;
    const char *accession;
    const char *study_uid; /* one study (Study Instance UID) */
};
/* One study found. Strings are owned by the array (date and time NULL
 * when the node did not return them). */
struct sl_dicom_study {
    char *uid;
    char *date;
    char *time;
};
/* Appends the studies matching q to *studies (grown with realloc; *n
 * counts them). SL_ENET with *why on a network failure; SL_EDICOM when
 * the node answers the C-FIND with a failure status (named in err). */
int sl_dicom_find_studies(const struct sl_dicom_peer *p,
                          const struct sl_dicom_query *q,
                          struct sl_dicom_study **studies, size_t *n,
                          int *why, struct sl_err *err);
void sl_dicom_studies_free(struct sl_dicom_study *s, size_t n); /* NULL-safe */
/* The SOP Instance UIDs of a study, series by series (C-FIND at series
 * then image level), appended to out. */
int sl_dicom_find_instances(const struct sl_dicom_peer *p,
                            const char *study_uid, struct sl_strv *out,
                            int *why, struct sl_err *err);
/* What a C-GET ended with. */
struct sl_dicom_get_result {
    unsigned status; /* the final C-GET response status */
    unsigned completed, failed, warning;
    /* C-MOVE: associations the PACS opened to sluice's receiver; and 1
     * when the move failed with nothing arrived and the PACS never called
     * the receiver (then SL_EDICOM; not for 0xA801, destination unknown) */
    unsigned calls;
    int never_called;
};
/* C-GET of a whole study: each instance the node sends is written, as it
 * arrives and without being held in memory (DCMTK's bit-preserving
 * storage), as a Part-10 file in dir. SL_OK when the C-GET ran to its
 * final response (which may still report failed sub-operations: res);
 * SL_ENET with *why on a network failure. */
int sl_dicom_get_study(const struct sl_dicom_peer *p, const char *study_uid,
                       const char *dir, struct sl_dicom_get_result *res,
                       int *why, struct sl_err *err);

/* C-MOVE of a whole study to sluice itself: a storage SCP (DCMTK's
 * DcmStorageSCP) listens on listen_addr (an IPv4 address; NULL:
 * 127.0.0.1; 0.0.0.0: every interface) and listen_port as p->calling_ae
 * for the time of the move, accepting only associations called by
 * p->called_ae (the PACS, which must know calling_ae at this host and
 * port), and writes each instance as it arrives into dir; with p->tls_ca,
 * tls_cert and tls_key it takes TLS associations only, showing tls_cert
 * and requiring a client certificate that chains to tls_ca. Same results
 * as sl_dicom_get_study(); SL_ENET also when the port cannot be opened,
 * SL_ECONFIG when listen_addr is not an IPv4 address. */
int sl_dicom_move_study(const struct sl_dicom_peer *p, const char *study_uid,
                        const char *dir, const char *listen_addr,
                        int listen_port,
                        struct sl_dicom_get_result *res, int *why,
                        struct sl_err *err);

/* ---- a storage SCP: the dicom-listener source (dicom_listen.cc) --------
 * DCMTK's DcmSCPPool of DcmStorageSCP workers, one thread per association.
 * Strings are borrowed for the call. */
struct sl_dicom_listen_conf {
    const char *ae_title;   /* ours */
    const char *address;    /* IPv4 address to listen on (NULL: 127.0.0.1) */
    int port;
    const char *const *allow; /* "AE@ADDRESS": who may call, from where */
    size_t nallow;
    int max_assoc;          /* associations at once; more are refused */
    const char *const *sop_classes; /* UIDs; none: every storage class */
    size_t nsop;
    const char *const *xfers; /* transfer syntax UIDs; none: the common ones */
    size_t nxfer;
    int timeout;            /* seconds for ACSE and each DIMSE message */
    const char *dir;        /* instances are written here as they arrive */
    /* DICOM TLS (dcmtls, BCP 195 profile): on when tls_cert is set, with
     * tls_key its private key (PEM); a caller must then show a client
     * certificate that chains to a CA of tls_ca (PEM, required). */
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
};
struct sl_dicom_listener;
/* Opens the port and starts accepting associations from the allow-list
 * (others are refused and logged by AE title and address). Each instance
 * received is written into c->dir as "in-PID-N.part", renamed to
 * "in-PID-N.dcm" once whole and its C-STORE answered. *out is the
 * caller's (sl_dicom_listen_stop). SL_ENET when the port cannot be
 * opened; SL_ECONFIG for a bad address or allow entry. */
int sl_dicom_listen_start(const struct sl_dicom_listen_conf *c,
                          struct sl_dicom_listener **out, struct sl_err *err);
/* Waits up to ms milliseconds for the next instance received, in the
 * order of arrival: *path (caller's) its file, or NULL when none came.
 * *busy: associations open now. SL_ENET when the listener has stopped
 * on an error. */
int sl_dicom_listen_next(struct sl_dicom_listener *l, int ms, char **path,
                         int *busy);
/* Associations refused so far (not on the allow-list). */
unsigned long sl_dicom_listen_refused(const struct sl_dicom_listener *l);
/* Stops listening once the open associations end, and frees. NULL-safe. */
void sl_dicom_listen_stop(struct sl_dicom_listener *l);
/* A UID given by number, by DCMTK's name ("CTImageStorage",
 * "LittleEndianExplicit"), or for a transfer syntax by a short name
 * ("explicit", "implicit", "deflated", "jpeg-baseline", "jpeg-extended",
 * "jpeg-lossless", "jpeg-ls-lossless", "jpeg-ls", "jpeg2000-lossless",
 * "jpeg2000", "rle"); NULL when the name is unknown. */
const char *sl_dicom_uid_from_name(const char *name);

#ifdef __cplusplus
}
#endif

#endif
