// dicom_dir.cc - DICOMDIR (PS3.10 media directories): written, appended
// to, listed, and the check that a file can be indexed.
#include "config.h"

#include "dicom/dicom_int.h"

#include <dcmtk/dcmdata/dcddirif.h>

using namespace shim;

/* The settings of every DICOMDIR sluice makes or checks: missing type 1
 * keys invented (dcmmkdir +I), any transfer syntax. */
static void
dicomdir_setup(DicomDirInterface &dd)
{
    quiet_dcmtk();
    dd.disableTransferSyntaxCheck(OFFalse);
    dd.enableInventMode(OFTrue);
    /* DCMTK writes DICOMDIR.tmp and renames it; a DICOMDIR.BAK would be
     * one more file in a delivery, left there by a crash. */
    dd.disableBackupMode(OFFalse);
}

/* Adds the files to the DICOMDIR dd holds, then writes it. */
static int
dicomdir_fill(DicomDirInterface &dd, const char *root,
              const char *const *files, size_t n, struct sl_err *err)
{
    OFCondition c;

    for (size_t i = 0; i < n; i++) {
        c = dd.addDicomFile(OFFilename(files[i]), OFFilename(root));
        if (c.bad())
            return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot add file %zu: %s",
                          i + 1, c.text());
    }
    c = dd.writeDicomDir();
    if (c.bad())
        return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot write: %s", c.text());
    return SL_OK;
}

extern "C" int
sl_dicom_dicomdir_write(const char *root, const char *const *files, size_t n,
                        struct sl_err *err)
{
    try {
        DicomDirInterface dd;
        std::string path = std::string(root) + "/DICOMDIR";
        dicomdir_setup(dd);
        OFCondition c =
            dd.createNewDicomDir(DicomDirInterface::AP_GeneralPurpose,
                                 OFFilename(path.c_str()), "SLUICE");
        if (c.bad())
            return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot create: %s",
                          c.text());
        return dicomdir_fill(dd, root, files, n, err);
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_dicomdir_append(const char *root, const char *const *files, size_t n,
                         struct sl_err *err)
{
    try {
        DicomDirInterface dd;
        std::string path = std::string(root) + "/DICOMDIR";
        dicomdir_setup(dd);
        OFCondition c = dd.appendToDicomDir(
            DicomDirInterface::AP_GeneralPurpose, OFFilename(path.c_str()));
        if (c.bad())
            return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot open: %s",
                          c.text());
        return dicomdir_fill(dd, root, files, n, err);
    } catch (...) {
        return fail_exception(err);
    }
}

extern "C" int
sl_dicom_dicomdir_list(const char *root, struct sl_strv *out,
                       struct sl_err *err)
{
    try {
        quiet_dcmtk();
        std::string path = std::string(root) + "/DICOMDIR";
        DcmFileFormat ff;
        DcmSequenceOfItems *seq = nullptr;
        OFCondition c = ff.loadFile(path.c_str());
        if (c.good())
            c = ff.getDataset()->findAndGetSequence(
                DCM_DirectoryRecordSequence, seq);
        if (c.bad() || seq == nullptr)
            return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot read: %s",
                          c.text());
        for (unsigned long i = 0; i < seq->card(); i++) {
            OFString id;
            if (seq->getItem(i)
                    ->findAndGetOFStringArray(DCM_ReferencedFileID, id)
                    .bad() ||
                id.empty())
                continue;
            std::string rel(id.c_str());
            for (char &ch : rel)
                if (ch == '\\')
                    ch = '/';
            sl_strv_push(out, rel.c_str());
        }
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}

/* DicomDirInterface with its application profile chosen without a
 * DICOMDIR being made (selectApplicationProfile() is protected). */
struct dicomdir_checker : DicomDirInterface {
    OFCondition select(E_ApplicationProfile p)
    {
        return selectApplicationProfile(p);
    }
};

extern "C" int
sl_dicom_dicomdir_check(const char *path, struct sl_err *err)
{
    try {
        dicomdir_checker dd;
        dicomdir_setup(dd);
        OFCondition c = dd.select(DicomDirInterface::AP_GeneralPurpose);
        if (c.good())
            c = dd.checkDicomFile(OFFilename(path), OFFilename(), OFFalse);
        if (c.bad())
            return SL_ERR(err, SL_EDICOM, "DICOMDIR: cannot index it: %s",
                          c.text());
        return SL_OK;
    } catch (...) {
        return fail_exception(err);
    }
}
