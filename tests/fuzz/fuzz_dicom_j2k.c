/* fuzz_dicom_j2k.c - fuzz target for the JPEG 2000 decoder that sluice
 * registers with DCMTK (src/dicom/dicom_j2k.cc, over OpenJPEG): the input
 * is one JPEG 2000 codestream, wrapped here as the only fragment of the
 * encapsulated pixel data of a small DICOM file (64 x 64, 8 bits, one
 * sample; JPEG 2000 Image Compression, 1.2.840.10008.1.2.4.91), which is
 * then opened and every frame rendered as clean-pixel-data="ocr" and
 * sluice inspect-pixels do. Checked: a rendered frame is 64 x 64; a
 * failure has a message that names JPEG 2000 or the pixel data. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dicom/dicom.h"
#include "fuzz.h"

struct w {
    unsigned char *p;
    size_t n, cap;
};

static void
put(struct w *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void
u16(struct w *b, unsigned v)
{
    unsigned char c[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
    put(b, c, 2);
}

static void
u32(struct w *b, unsigned long v)
{
    unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8),
                           (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
    put(b, c, 4);
}

/* An explicit VR little endian element with a short length. */
static void
el(struct w *b, unsigned g, unsigned e, const char *vr, const void *v,
   size_t n)
{
    u16(b, g);
    u16(b, e);
    put(b, vr, 2);
    u16(b, (unsigned)n);
    put(b, v, n);
}

static void
el_us(struct w *b, unsigned g, unsigned e, unsigned v)
{
    unsigned char c[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
    el(b, g, e, "US", c, 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static const char ts[] = "1.2.840.10008.1.2.4.91";
    static const char sc[] = "1.2.840.10008.5.1.4.1.1.7";
    struct w b = { 0 }, meta = { 0 };
    struct sl_dicom_file *f = NULL;
    struct sl_dicom_render *r = NULL;
    struct sl_err err;
    unsigned char pre[128] = { 0 };
    unsigned long i, n;
    char *path;
    int rc;

    if (!ready) {
        char msg[256];
        if (sl_dicom_init(msg, sizeof(msg)) != 0) {
            fprintf(stderr, "%s\n", msg);
            abort();
        }
        ready = 1;
    }
    if (size > 1 << 20)
        return 0;
    put(&b, pre, sizeof(pre));
    put(&b, "DICM", 4);
    el(&meta, 0x0002, 0x0002, "UI", sc, sizeof(sc)); /* even with the NUL */
    el(&meta, 0x0002, 0x0003, "UI", "1.2.3.4", 8);
    el(&meta, 0x0002, 0x0010, "UI", ts, sizeof(ts) - 1); /* 22: even */
    {
        unsigned char len[4] = { (unsigned char)meta.n,
                                 (unsigned char)(meta.n >> 8), 0, 0 };
        el(&b, 0x0002, 0x0000, "UL", len, 4);
    }
    put(&b, meta.p, meta.n);
    el(&b, 0x0008, 0x0016, "UI", sc, sizeof(sc));
    el(&b, 0x0008, 0x0018, "UI", "1.2.3.4", 8);
    el(&b, 0x0008, 0x0060, "CS", "OT", 2);
    el_us(&b, 0x0028, 0x0002, 1);
    el(&b, 0x0028, 0x0004, "CS", "MONOCHROME2 ", 12);
    el_us(&b, 0x0028, 0x0010, 64);
    el_us(&b, 0x0028, 0x0011, 64);
    el_us(&b, 0x0028, 0x0100, 8);
    el_us(&b, 0x0028, 0x0101, 8);
    el_us(&b, 0x0028, 0x0102, 7);
    el_us(&b, 0x0028, 0x0103, 0);
    /* (7FE0,0010) OB, undefined length: an empty offset table, the
     * codestream (padded to an even length), the delimiter */
    u16(&b, 0x7FE0);
    u16(&b, 0x0010);
    put(&b, "OB\0\0", 4);
    u32(&b, 0xFFFFFFFFUL);
    u16(&b, 0xFFFE);
    u16(&b, 0xE000);
    u32(&b, 0);
    u16(&b, 0xFFFE);
    u16(&b, 0xE000);
    u32(&b, (unsigned long)(size + (size & 1)));
    put(&b, data, size);
    if (size & 1)
        put(&b, "", 1);
    u16(&b, 0xFFFE);
    u16(&b, 0xE0DD);
    u32(&b, 0);

    path = fuzz_util_write("in.dcm", b.p, b.n);
    rc = sl_dicom_file_open(path, &f, NULL, &err);
    if (rc == SL_OK) {
        rc = sl_dicom_render_open(f, &r, &err);
        if (rc == SL_OK) {
            n = sl_dicom_render_frames(r);
            for (i = 0; i < n; i++) {
                unsigned char *g = NULL;
                unsigned w = 0, h = 0;

                rc = sl_dicom_render_frame(r, i, &g, &w, &h, &err);
                if (rc == SL_OK)
                    FUZZ_ASSERT(g != NULL && w == 64 && h == 64);
                else
                    FUZZ_ASSERT(err.msg[0] != '\0');
                free(g);
            }
        } else {
            FUZZ_ASSERT(strstr(err.msg, "JPEG 2000") != NULL ||
                        strstr(err.msg, "Pixel Data") != NULL);
        }
    }
    sl_dicom_render_free(r);
    sl_dicom_file_free(f);
    (void)unlink(path);
    free(path);
    free(b.p);
    free(meta.p);
    return 0;
}
