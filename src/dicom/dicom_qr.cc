// dicom_qr.cc - query and retrieve through DCMTK's DcmSCU: C-FIND at
// study, series and image level (Study Root), and C-GET of a study whose
// instances DCMTK writes to disk as they arrive (bit-preserving storage).
// Messages name the node, the operation and DIMSE statuses, never a value
// of a query or an answer.
#include "config.h"

#include "dicom/dicom_int.h"

#include <dcmtk/dcmnet/dstorscp.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace
{

// An association for q/r: the FIND or GET model of Study Root, and for a
// C-GET every common storage class in the SCP role (the node sends the
// instances on this association), offered in the usual syntaxes so the
// node can send what it holds without converting.
int
open_qr(const struct sl_dicom_peer *p, bool get, std::unique_ptr<DcmSCU> &out,
        int *why, struct sl_err *err, const char *what)
{
    bool move = std::strcmp(what, "C-MOVE") == 0;
    std::unique_ptr<DcmSCU> scu(shim::new_scu(p));
    OFList<OFString> ts;
    OFCondition c;
    int rc;

    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    ts.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu->addPresentationContext(
        get    ? UID_GETStudyRootQueryRetrieveInformationModel
        : move ? UID_MOVEStudyRootQueryRetrieveInformationModel
               : UID_FINDStudyRootQueryRetrieveInformationModel,
        ts);
    if (get) {
        OFList<OFString> store;
        for (const char *x :
             { UID_LittleEndianExplicitTransferSyntax,
               UID_LittleEndianImplicitTransferSyntax,
               UID_JPEGProcess14SV1TransferSyntax,
               UID_JPEGLSLosslessTransferSyntax, UID_RLELosslessTransferSyntax,
               UID_JPEGProcess1TransferSyntax, UID_JPEGProcess2_4TransferSyntax,
               UID_JPEG2000LosslessOnlyTransferSyntax,
               UID_JPEG2000TransferSyntax,
               UID_DeflatedExplicitVRLittleEndianTransferSyntax })
            store.push_back(x);
        // 127 contexts at most with the GET model's
        for (int i = 0; i < numberOfDcmLongSCUStorageSOPClassUIDs && i < 120;
             i++)
            scu->addPresentationContext(dcmLongSCUStorageSOPClassUIDs[i], store,
                                        ASC_SC_ROLE_SCP);
    }
    if ((c = scu->initNetwork()).bad())
        return SL_ERR(err, SL_ENET, "cannot set up the network: %s", c.text());
    if ((rc = shim::use_tls(scu.get(), p, err)) != SL_OK)
        return rc;
    if ((c = scu->negotiateAssociation()).bad())
        return shim::net_err(err, p, c, why, what);
    out = std::move(scu);
    return SL_OK;
}

bool
is_pending(Uint16 st)
{
    return st == 0xFF00 || st == 0xFF01;
}

// Sends one C-FIND and hands each pending answer's dataset to fn.
template <class F>
int
find(DcmSCU *scu, const struct sl_dicom_peer *p, DcmDataset *q, F fn, int *why,
     struct sl_err *err)
{
    T_ASC_PresentationContextID id = scu->findPresentationContextID(
        UID_FINDStudyRootQueryRetrieveInformationModel, "");
    OFList<QRResponse *> rsp;
    OFCondition c;
    int rc = SL_OK;

    if (id == 0)
        return SL_ERR(err, SL_EDICOM,
                      "DICOM node %s:%d: C-FIND: the node does not accept "
                      "the Study Root Query/Retrieve FIND model",
                      p->host, p->port);
    c = scu->sendFINDRequest(id, q, &rsp);
    if (c.bad())
        rc = shim::net_err(err, p, c, why, "C-FIND");
    for (QRResponse *r : rsp) {
        if (rc == SL_OK && is_pending(r->m_status) && r->m_dataset != nullptr)
            fn(r->m_dataset);
        else if (rc == SL_OK && r->m_status != 0x0000 &&
                 !is_pending(r->m_status))
            rc = SL_ERR(err, SL_EDICOM,
                        "DICOM node %s:%d: C-FIND answered with status "
                        "0x%04X",
                        p->host, p->port, r->m_status);
        delete r;
    }
    return rc;
}

char *
get_str(DcmDataset *d, const DcmTagKey &k)
{
    OFString v;

    if (d->findAndGetOFString(k, v).bad() || v.empty())
        return nullptr;
    return sl_strdup(v.c_str());
}

} // namespace

extern "C" int
sl_dicom_find_studies(const struct sl_dicom_peer *p,
                      const struct sl_dicom_query *q,
                      struct sl_dicom_study **studies, size_t *n, int *why,
                      struct sl_err *err)
{
    int rc;

    if (why != nullptr)
        *why = SL_DICOM_NET_OK;
    shim::quiet_dcmtk();
    try {
        std::unique_ptr<DcmSCU> scu;
        DcmDataset ds;

        if ((rc = open_qr(p, false, scu, why, err, "C-FIND")) != SL_OK)
            return rc;
        ds.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
        ds.putAndInsertString(DCM_StudyInstanceUID,
                              q->study_uid ? q->study_uid : "");
        ds.putAndInsertString(DCM_StudyDate,
                              q->study_date ? q->study_date : "");
        ds.putAndInsertString(DCM_StudyTime, "");
        ds.putAndInsertString(DCM_PatientID,
                              q->patient_id ? q->patient_id : "");
        ds.putAndInsertString(DCM_AccessionNumber,
                              q->accession ? q->accession : "");
        ds.putAndInsertString(DCM_ModalitiesInStudy,
                              q->modality ? q->modality : "");
        rc = find(
            scu.get(), p, &ds,
            [&](DcmDataset *a) {
                char *uid = get_str(a, DCM_StudyInstanceUID);
                if (uid == nullptr)
                    return; // an answer without its key: nothing to get
                *studies = static_cast<struct sl_dicom_study *>(
                    sl_realloc(*studies, (*n + 1) * sizeof(**studies)));
                (*studies)[*n].uid = uid;
                (*studies)[*n].date = get_str(a, DCM_StudyDate);
                (*studies)[*n].time = get_str(a, DCM_StudyTime);
                (*n)++;
            },
            why, err);
        if (scu->isConnected())
            scu->releaseAssociation();
        return rc;
    } catch (...) {
        return shim::fail_exception(err);
    }
}

extern "C" void
sl_dicom_studies_free(struct sl_dicom_study *s, size_t n)
{
    if (s == nullptr)
        return;
    for (size_t i = 0; i < n; i++) {
        std::free(s[i].uid);
        std::free(s[i].date);
        std::free(s[i].time);
    }
    std::free(s);
}

extern "C" int
sl_dicom_find_instances(const struct sl_dicom_peer *p, const char *study_uid,
                        struct sl_strv *out, int *why, struct sl_err *err)
{
    int rc;

    if (why != nullptr)
        *why = SL_DICOM_NET_OK;
    shim::quiet_dcmtk();
    try {
        std::unique_ptr<DcmSCU> scu;
        std::vector<std::string> series;
        DcmDataset ds;

        if ((rc = open_qr(p, false, scu, why, err, "C-FIND")) != SL_OK)
            return rc;
        ds.putAndInsertString(DCM_QueryRetrieveLevel, "SERIES");
        ds.putAndInsertString(DCM_StudyInstanceUID, study_uid);
        ds.putAndInsertString(DCM_SeriesInstanceUID, "");
        rc = find(
            scu.get(), p, &ds,
            [&](DcmDataset *a) {
                OFString v;
                if (a->findAndGetOFString(DCM_SeriesInstanceUID, v).good() &&
                    !v.empty())
                    series.push_back(v.c_str());
            },
            why, err);
        for (size_t i = 0; rc == SL_OK && i < series.size(); i++) {
            DcmDataset im;
            im.putAndInsertString(DCM_QueryRetrieveLevel, "IMAGE");
            im.putAndInsertString(DCM_StudyInstanceUID, study_uid);
            im.putAndInsertString(DCM_SeriesInstanceUID, series[i].c_str());
            im.putAndInsertString(DCM_SOPInstanceUID, "");
            rc = find(
                scu.get(), p, &im,
                [&](DcmDataset *a) {
                    OFString v;
                    if (a->findAndGetOFString(DCM_SOPInstanceUID, v).good() &&
                        !v.empty())
                        sl_strv_push(out, v.c_str());
                },
                why, err);
        }
        if (scu->isConnected())
            scu->releaseAssociation();
        return rc;
    } catch (...) {
        return shim::fail_exception(err);
    }
}

extern "C" int
sl_dicom_get_study(const struct sl_dicom_peer *p, const char *study_uid,
                   const char *dir, struct sl_dicom_get_result *res, int *why,
                   struct sl_err *err)
{
    int rc;

    if (why != nullptr)
        *why = SL_DICOM_NET_OK;
    std::memset(res, 0, sizeof(*res));
    shim::quiet_dcmtk();
    try {
        std::unique_ptr<DcmSCU> scu;
        OFList<RetrieveResponse *> rsp;
        T_ASC_PresentationContextID id;
        DcmDataset ds;
        OFCondition c;

        if ((rc = open_qr(p, true, scu, why, err, "C-GET")) != SL_OK)
            return rc;
        id = scu->findPresentationContextID(
            UID_GETStudyRootQueryRetrieveInformationModel, "");
        if (id == 0) {
            scu->releaseAssociation();
            return SL_ERR(err, SL_EDICOM,
                          "DICOM node %s:%d: C-GET: the node does not "
                          "accept the Study Root Query/Retrieve GET model",
                          p->host, p->port);
        }
        // written to disk as received, never whole in memory
        scu->setStorageMode(DCMSCU_STORAGE_BIT_PRESERVING);
        scu->setStorageDir(dir);
        ds.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
        ds.putAndInsertString(DCM_StudyInstanceUID, study_uid);
        c = scu->sendCGETRequest(id, &ds, &rsp);
        if (c.bad())
            rc = shim::net_err(err, p, c, why, "C-GET");
        for (RetrieveResponse *r : rsp) {
            res->status = r->m_status;
            res->completed = r->m_numberOfCompletedSubops;
            res->failed = r->m_numberOfFailedSubops;
            res->warning = r->m_numberOfWarningSubops;
            delete r;
        }
        if (rc == SL_OK && scu->isConnected())
            scu->releaseAssociation();
        return rc;
    } catch (...) {
        return shim::fail_exception(err);
    }
}

// ---- C-MOVE to our own storage SCP
// -------------------------------------------

namespace
{

// The storage SCP of one C-MOVE: only the PACS may call it, and it stops
// listening once told to (polled every second of idle time).
class MoveSCP : public DcmStorageSCP
{
  public:
    std::atomic<bool> stop{ false };
    // instances written by this move (DCMTK's notification is const)
    mutable std::atomic<unsigned> stored{ 0 };
    // associations the PACS (its AE title) asked for, and those of
    // another AE title: did the PACS reach us at all?
    std::atomic<unsigned> calls{ 0 }, strangers{ 0 };
    std::string peer_ae;

  protected:
    void notifyInstanceStored(const OFString &, const OFString &,
                              const OFString &, DcmDataset *) const override
    {
        stored++;
    }
    OFBool checkCallingAETitleAccepted(const OFString &ae) override
    {
        bool ok = peer_ae == ae.c_str();

        (ok ? calls : strangers)++;
        return ok;
    }
    OFBool stopAfterConnectionTimeout() override
    {
        return stop.load();
    }
    OFBool stopAfterCurrentAssociation() override
    {
        return stop.load();
    }
};

// Wakes a listener waiting for a connection (it polls for the stop flag
// only once a second otherwise): a connection it accepts and drops.
void
wake(const struct in_addr &at, int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return;
    std::memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr = at;
    if (a.sin_addr.s_addr == htonl(INADDR_ANY))
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)connect(fd, reinterpret_cast<struct sockaddr *>(&a), sizeof(a));
    close(fd);
}

} // namespace

extern "C" int
sl_dicom_move_study(const struct sl_dicom_peer *p, const char *study_uid,
                    const char *dir, const char *listen_addr, int listen_port,
                    struct sl_dicom_get_result *res, int *why,
                    struct sl_err *err)
{
    int rc = SL_OK;

    if (why != nullptr)
        *why = SL_DICOM_NET_OK;
    std::memset(res, 0, sizeof(*res));
    shim::quiet_dcmtk();
    try {
        // declared before the SCP, which borrows it
        std::unique_ptr<DcmTLSTransportLayer> tls;
        MoveSCP scp;
        // (TCP_NODELAY: see new_scu(), which runs before the SCP accepts)
        std::unique_ptr<DcmSCU> scu;
        OFList<RetrieveResponse *> rsp;
        OFList<OFString> store;
        T_ASC_PresentationContextID id;
        DcmDataset ds;
        OFCondition c;
        std::thread listener;
        struct in_addr at;

        if (inet_pton(AF_INET, listen_addr ? listen_addr : "127.0.0.1", &at) !=
            1)
            return SL_ERR(err, SL_ECONFIG,
                          "C-MOVE: listen-address must be an IPv4 address "
                          "(127.0.0.1, 0.0.0.0 for every interface)");
        scp.peer_ae = p->called_ae;
        scp.setAETitle(p->calling_ae);
        scp.setPort(static_cast<Uint16>(listen_port));
        scp.setConnectionBlockingMode(DUL_NOBLOCK);
        scp.setConnectionTimeout(1);
        scp.setACSETimeout(static_cast<Uint32>(p->timeout));
        scp.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        scp.setDIMSETimeout(static_cast<Uint32>(p->timeout));
        scp.setHostLookupEnabled(OFFalse);
        scp.setVerbosePCMode(OFFalse);
        // written to disk as received, named by SOP Instance UID
        scp.setDirectoryGenerationMode(DcmStorageSCP::DGM_NoSubdirectory);
        scp.setFilenameGenerationMode(DcmStorageSCP::FGM_SOPInstanceUID);
        scp.setDatasetStorageMode(DcmStorageSCP::DGM_StoreBitPreserving);
        if ((c = scp.setOutputDirectory(dir)).bad())
            return SL_ERR(err, SL_EIO,
                          "C-MOVE: cannot store into the work "
                          "folder: %s",
                          c.text());
        for (const char *x :
             { UID_LittleEndianExplicitTransferSyntax,
               UID_LittleEndianImplicitTransferSyntax,
               UID_JPEGProcess14SV1TransferSyntax,
               UID_JPEGLSLosslessTransferSyntax, UID_RLELosslessTransferSyntax,
               UID_JPEGProcess1TransferSyntax, UID_JPEGProcess2_4TransferSyntax,
               UID_JPEG2000LosslessOnlyTransferSyntax,
               UID_JPEG2000TransferSyntax,
               UID_DeflatedExplicitVRLittleEndianTransferSyntax })
            store.push_back(x);
        // An SCP offers 128 presentation contexts at most: past them
        // DCMTK adds nothing, and in the order of its list of every
        // storage class (186) ultrasound, XA, XRF and VL photographic
        // came too late and their studies could not be moved here. Its
        // list of the common ones (120, which holds them) goes first.
        for (int i = 0; i < numberOfDcmLongSCUStorageSOPClassUIDs; i++)
            scp.addPresentationContext(dcmLongSCUStorageSOPClassUIDs[i], store);
        for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; i++) {
            bool dup = false;
            for (int k = 0; k < numberOfDcmLongSCUStorageSOPClassUIDs; k++)
                dup = dup || std::strcmp(dcmAllStorageSOPClassUIDs[i],
                                         dcmLongSCUStorageSOPClassUIDs[k]) == 0;
            if (!dup)
                scp.addPresentationContext(dcmAllStorageSOPClassUIDs[i], store);
        }
        scp.setEnableVerification();
        // DICOM TLS: the PACS's association to us too, when sluice has a
        // certificate of its own; the PACS's must chain to tls_ca
        if (p->tls_ca != nullptr && p->tls_cert != nullptr &&
            p->tls_key != nullptr) {
            if ((rc = shim::tls_acceptor("C-MOVE receiver", p->tls_ca,
                                         p->tls_cert, p->tls_key, tls, err)) !=
                SL_OK)
                return rc;
            scp.getConfig().setTransportLayer(tls.get());
        }
        // on the configured address only, not every interface (the
        // socket is bound by this thread, in openListenPort())
        shim::bind_address(&at);
        c = scp.openListenPort();
        shim::bind_address(nullptr);
        if (c.bad())
            return SL_ERR(err, SL_ENET,
                          "C-MOVE: cannot listen on %s port %d for the "
                          "instances (in use, or not allowed?): %s",
                          listen_addr ? listen_addr : "127.0.0.1", listen_port,
                          c.text());
        listener = std::thread([&scp] { scp.acceptAssociations(); });
        rc = open_qr(p, false, scu, why, err, "C-MOVE");
        if (rc == SL_OK) {
            id = scu->findPresentationContextID(
                UID_MOVEStudyRootQueryRetrieveInformationModel, "");
            if (id == 0) {
                rc = SL_ERR(err, SL_EDICOM,
                            "DICOM node %s:%d: C-MOVE: the node does not "
                            "accept the Study Root Query/Retrieve MOVE "
                            "model",
                            p->host, p->port);
            } else {
                ds.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
                ds.putAndInsertString(DCM_StudyInstanceUID, study_uid);
                c = scu->sendMOVERequest(id, p->calling_ae, &ds, &rsp);
                if (c.bad())
                    rc = shim::net_err(err, p, c, why, "C-MOVE");
                for (RetrieveResponse *r : rsp) {
                    res->status = r->m_status;
                    res->completed = r->m_numberOfCompletedSubops;
                    res->failed = r->m_numberOfFailedSubops;
                    res->warning = r->m_numberOfWarningSubops;
                    delete r;
                }
                // Nothing arrived and the final answer is a failure.
                // The PACS that never asked our receiver for an
                // association did not know the destination (0xA801),
                // may not move there, or cannot reach this host and port:
                // every study would end the same, so the run stops (a
                // resume tries again once it is fixed). One that did
                // ask, and whose instances were all refused (a class or
                // transfer syntax the receiver does not take), failed
                // this study only: SL_OK with the counts, and the caller
                // quarantines the study and goes on, as for a C-GET.
                // (A PACS that stops at a failed sub-operation may give
                // no counts in its final answer: what arrived tells.)
                if (rc == SL_OK && res->status != 0x0000 &&
                    res->status != 0xB000 && res->completed == 0 &&
                    scp.stored.load() == 0 &&
                    (res->status == 0xA801 || scp.calls.load() == 0)) {
                    res->never_called = res->status != 0xA801;
                    rc = SL_ERR(err, SL_EDICOM,
                                "DICOM node %s:%d: C-MOVE refused with "
                                "status 0x%04X%s (does the node know AE "
                                "title '%s' at this host and port %d?)",
                                p->host, p->port, res->status,
                                scp.strangers.load() > 0
                                    ? ": the node called sluice's receiver "
                                      "with another AE title than its "
                                      "called-ae"
                                    : ", it never called sluice's receiver",
                                p->calling_ae, listen_port);
                }
            }
            if (scu->isConnected())
                scu->releaseAssociation();
        }
        res->calls = scp.calls.load();
        scp.stop = true;
        wake(at, listen_port);
        listener.join();
        return rc;
    } catch (...) {
        return shim::fail_exception(err);
    }
}
