// dicom_net.cc - the network side of the shim: DCMTK's DcmSCU for C-ECHO
// and C-STORE. Never a hand-written DIMSE: association, presentation
// contexts, PDUs and conversion between transfer syntaxes are DCMTK's.
// Messages name hosts, ports, AE titles, SOP classes, transfer syntaxes
// and DIMSE statuses: nothing from a dataset's attributes.
#include "config.h"

#include "dicom/dicom_int.h"

#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace
{

// The decoders a lossless conversion to an uncompressed transfer syntax
// needs (registering twice is harmless: DCMTK keeps one of each).
void
register_decoders()
{
    static std::once_flag once;
    std::call_once(once, [] {
        DcmRLEDecoderRegistration::registerCodecs();
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
    });
}

bool
is_uncompressed(const std::string &ts)
{
    return ts == UID_LittleEndianImplicitTransferSyntax ||
           ts == UID_LittleEndianExplicitTransferSyntax ||
           ts == UID_BigEndianExplicitTransferSyntax;
}

// What went wrong on the network, from DCMTK's condition.
int
classify(const OFCondition &c)
{
    const char *t = c.text();

    if (c == DUL_ASSOCIATIONREJECTED)
        return SL_DICOM_NET_REJECTED;
    if (c == DUL_READTIMEOUT || c == DIMSE_NODATAAVAILABLE ||
        (t != nullptr && (std::strstr(t, "timed out") != nullptr ||
                          std::strstr(t, "Timeout") != nullptr ||
                          std::strstr(t, "timeout") != nullptr)))
        return SL_DICOM_NET_TIMEOUT;
    if (c.code() == DULC_TCPINITERROR)
        return SL_DICOM_NET_UNREACHABLE;
    if (c == NET_EC_NoAcceptablePresentationContexts)
        return SL_DICOM_NET_NOCONTEXT;
    return SL_DICOM_NET_ABORTED;
}

// Proposed by sluice echo: each (class, syntax) pair in its own context,
// so that the answer tells which syntaxes the peer takes for each class.
const char *const echo_classes[] = {
    UID_CTImageStorage,
    UID_MRImageStorage,
    UID_ComputedRadiographyImageStorage,
    UID_DigitalXRayImageStorageForPresentation,
    UID_DigitalMammographyXRayImageStorageForPresentation,
    UID_UltrasoundImageStorage,
    UID_UltrasoundMultiframeImageStorage,
    UID_SecondaryCaptureImageStorage,
    UID_EnhancedCTImageStorage,
    UID_EnhancedMRImageStorage,
    UID_PositronEmissionTomographyImageStorage,
    UID_NuclearMedicineImageStorage,
    UID_XRayAngiographicImageStorage,
};
// and the Study Root query/retrieve models a dimse source needs, in the
// two uncompressed syntaxes
const char *const echo_qr[] = {
    UID_FINDStudyRootQueryRetrieveInformationModel,
    UID_GETStudyRootQueryRetrieveInformationModel,
    UID_MOVEStudyRootQueryRetrieveInformationModel,
};
const char *const echo_syntaxes[] = {
    UID_LittleEndianImplicitTransferSyntax,
    UID_LittleEndianExplicitTransferSyntax,
    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
    UID_JPEGProcess1TransferSyntax,
    UID_JPEGProcess14SV1TransferSyntax,
    UID_JPEGLSLosslessTransferSyntax,
    UID_JPEG2000LosslessOnlyTransferSyntax,
    UID_RLELosslessTransferSyntax,
};

const char *
uid_name(const char *uid)
{
    const char *n = dcmFindNameOfUID(uid, nullptr);
    return n != nullptr ? n : uid;
}

// "JPEG Baseline", "Little Endian Explicit" (DCMTK's names)
const char *
xfer_name(const char *uid)
{
    DcmXfer x(uid);
    return x.getXfer() == EXS_Unknown ? uid : x.getXferName();
}

} // namespace

namespace shim
{

// SL_ENET with a message saying what happened and what to check.
int
net_err(struct sl_err *err, const struct sl_dicom_peer *p, const OFCondition &c,
        int *why, const char *what)
{
    int w = classify(c);

    if (why != nullptr)
        *why = w;
    switch (w) {
    case SL_DICOM_NET_REJECTED:
        return SL_ERR(err, SL_ENET,
                      "DICOM node %s:%d: %s: association rejected by the "
                      "peer (check that it knows calling AE title '%s' and "
                      "that its own is '%s'): %s",
                      p->host, p->port, what, p->calling_ae, p->called_ae,
                      c.text());
    case SL_DICOM_NET_UNREACHABLE:
        return SL_ERR(err, SL_ENET,
                      "DICOM node %s:%d: %s: cannot connect (host and port "
                      "right, peer running?): %s",
                      p->host, p->port, what, c.text());
    case SL_DICOM_NET_TIMEOUT:
        return SL_ERR(err, SL_ENET,
                      "DICOM node %s:%d: %s: no answer within %d s: %s",
                      p->host, p->port, what, p->timeout, c.text());
    case SL_DICOM_NET_NOCONTEXT:
        return SL_ERR(err, SL_ENET,
                      "DICOM node %s:%d: %s: the peer accepted none of the "
                      "presentation contexts proposed",
                      p->host, p->port, what);
    default:
        return SL_ERR(err, SL_ENET,
                      "DICOM node %s:%d: %s: association lost: %s", p->host,
                      p->port, what, c.text());
    }
}

// DcmSCU keeps useSecureConnection() for subclasses (dcmtls's DcmTLSSCU
// is one): every SCU of the shim is one of these, so use_tls() can call
// it with a layer of its own making.
class SCU : public DcmSCU
{
  public:
    using DcmSCU::useSecureConnection;
};

// A DcmSCU set up for peer p, not yet connected.
DcmSCU *
new_scu(const struct sl_dicom_peer *p)
{
    DcmSCU *scu;
    static std::once_flag once;

    // DCMTK (3.6.2 on) leaves Nagle's algorithm on unless TCP_NODELAY is
    // set: a command and its dataset then wait for the peer's delayed ACK,
    // some 40 ms each exchange (half the time of a pull from Orthanc).
    // An explicit setting of the user's is kept.
    std::call_once(once, [] { setenv("TCP_NODELAY", "1", 0); });
    scu = new SCU();

    scu->setAETitle(p->calling_ae);
    scu->setPeerHostName(p->host);
    scu->setPeerPort(static_cast<Uint16>(p->port));
    scu->setPeerAETitle(p->called_ae);
    scu->setConnectionTimeout(p->timeout);
    scu->setACSETimeout(static_cast<Uint32>(p->timeout));
    // the DIMSE timeout applies in non-blocking mode only
    scu->setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scu->setDIMSETimeout(static_cast<Uint32>(p->timeout));
    scu->setVerbosePCMode(OFFalse);
    return scu;
}

// One TLS layer per set of certificate files, kept for the process: an
// association borrows it (DCMTK does not take it over).
int
use_tls(DcmSCU *scu, const struct sl_dicom_peer *p, struct sl_err *err)
{
    static std::mutex mu;
    static std::map<std::string, std::unique_ptr<DcmTLSTransportLayer>> layers;
    std::string key;
    DcmTLSTransportLayer *t;
    OFCondition c;

    if (p->tls_ca == nullptr)
        return SL_OK;
    key = std::string(p->tls_ca) + '\n' + (p->tls_cert ? p->tls_cert : "") +
          '\n' + (p->tls_key ? p->tls_key : "");
    {
        std::lock_guard<std::mutex> g(mu);
        auto i = layers.find(key);
        if (i == layers.end()) {
            std::unique_ptr<DcmTLSTransportLayer> n(
                new DcmTLSTransportLayer(NET_REQUESTOR, nullptr, OFTrue));
            if ((c = n->setTLSProfile(TSP_Profile_BCP195)).good())
                c = n->activateCipherSuites();
            if (c.bad())
                return SL_ERR(err, SL_ENET,
                              "DICOM node %s:%d: TLS: cannot set up: %s",
                              p->host, p->port, c.text());
            if ((c = n->addTrustedCertificateFile(p->tls_ca, DCF_Filetype_PEM))
                    .bad())
                return SL_ERR(err, SL_ENET,
                              "DICOM node %s:%d: TLS: cannot read the CA "
                              "certificates of tls-ca-file %s: %s",
                              p->host, p->port, p->tls_ca, c.text());
            n->setCertificateVerification(DCV_requireCertificate);
            if (p->tls_cert != nullptr && p->tls_key != nullptr) {
                if ((c = n->setPrivateKeyFile(p->tls_key, DCF_Filetype_PEM))
                        .bad() ||
                    (c = n->setCertificateFile(p->tls_cert, DCF_Filetype_PEM))
                        .bad())
                    return SL_ERR(err, SL_ENET,
                                  "DICOM node %s:%d: TLS: cannot read "
                                  "tls-cert-file %s or tls-key-file: %s",
                                  p->host, p->port, p->tls_cert, c.text());
                if (!n->checkPrivateKeyMatchesCertificate())
                    return SL_ERR(err, SL_ENET,
                                  "DICOM node %s:%d: TLS: tls-key-file is "
                                  "not the key of tls-cert-file %s",
                                  p->host, p->port, p->tls_cert);
            }
            i = layers.emplace(key, std::move(n)).first;
        }
        t = i->second.get();
    }
    if ((c = static_cast<SCU *>(scu)->useSecureConnection(t)).bad())
        return SL_ERR(err, SL_ENET, "DICOM node %s:%d: TLS: %s", p->host,
                      p->port, c.text());
    return SL_OK;
}

} // namespace shim

using shim::net_err;
using shim::new_scu;

extern "C" const char *
sl_dicom_xfer_name(const char *uid)
{
    if (uid == nullptr)
        return "?";
    return xfer_name(uid);
}

extern "C" int
sl_dicom_echo(const struct sl_dicom_peer *p, struct sl_strv *accepted, int *why,
              struct sl_err *err)
{
    DcmSCU *scu = nullptr;
    int rc = SL_OK;

    if (why != nullptr)
        *why = SL_DICOM_NET_OK;
    shim::quiet_dcmtk();
    try {
        OFList<OFString> ts;
        OFCondition c;

        scu = new_scu(p);
        ts.push_back(UID_LittleEndianExplicitTransferSyntax);
        ts.push_back(UID_LittleEndianImplicitTransferSyntax);
        scu->addPresentationContext(UID_VerificationSOPClass, ts);
        for (const char *cls : echo_qr)
            for (const char *x : { UID_LittleEndianExplicitTransferSyntax,
                                   UID_LittleEndianImplicitTransferSyntax }) {
                OFList<OFString> one;
                one.push_back(x);
                scu->addPresentationContext(cls, one);
            }
        for (const char *cls : echo_classes)
            for (const char *x : echo_syntaxes) {
                OFList<OFString> one;
                one.push_back(x);
                scu->addPresentationContext(cls, one);
            }
        if ((c = scu->initNetwork()).bad()) {
            rc =
                SL_ERR(err, SL_ENET, "cannot set up the network: %s", c.text());
            goto out;
        }
        if ((rc = shim::use_tls(scu, p, err)) != SL_OK)
            goto out;
        if ((c = scu->negotiateAssociation()).bad()) {
            rc = net_err(err, p, c, why, "C-ECHO");
            goto out;
        }
        if ((c = scu->sendECHORequest(0)).bad()) {
            if (scu->findPresentationContextID(UID_VerificationSOPClass, "") ==
                0) {
                if (why != nullptr)
                    *why = SL_DICOM_NET_NOCONTEXT;
                rc = SL_ERR(err, SL_EDICOM,
                            "DICOM node %s:%d: C-ECHO: the peer does not "
                            "accept the Verification SOP class",
                            p->host, p->port);
            } else {
                rc = net_err(err, p, c, why, "C-ECHO");
            }
            goto out;
        }
        if (accepted != nullptr) {
            std::string line = "Verification SOP Class:";
            const char *sep = " ";
            for (const char *x : { UID_LittleEndianExplicitTransferSyntax,
                                   UID_LittleEndianImplicitTransferSyntax })
                if (scu->findPresentationContextID(UID_VerificationSOPClass,
                                                   x) != 0) {
                    line += sep;
                    line += xfer_name(x);
                    sep = "; ";
                }
            sl_strv_push(accepted, line.c_str());
            for (const char *cls : echo_qr) {
                line = uid_name(cls);
                line += ":";
                sep = " ";
                for (const char *x : { UID_LittleEndianExplicitTransferSyntax,
                                       UID_LittleEndianImplicitTransferSyntax })
                    if (scu->findPresentationContextID(cls, x) != 0) {
                        line += sep;
                        line += xfer_name(x);
                        sep = "; ";
                    }
                if (sep[0] == ';')
                    sl_strv_push(accepted, line.c_str());
            }
            for (const char *cls : echo_classes) {
                line = uid_name(cls);
                line += ":";
                sep = " ";
                for (const char *x : echo_syntaxes)
                    if (scu->findPresentationContextID(cls, x) != 0) {
                        line += sep;
                        line += xfer_name(x);
                        sep = "; ";
                    }
                if (sep[0] == ';')
                    sl_strv_push(accepted, line.c_str());
            }
        }
        scu->releaseAssociation();
    } catch (...) {
        rc = shim::fail_exception(err);
    }
out:
    delete scu;
    return rc;
}

// ---- C-STORE ---------------------------------------------------------------

struct sl_dicom_scu {
    std::string host, called, calling, tls_ca, tls_cert, tls_key;
    struct sl_dicom_peer peer;
    bool convert;
    DcmSCU *scu = nullptr; // connected, or nullptr
    // (SOP class, transfer syntax) pairs proposed in the association,
    // and those the peer turned down when they were proposed
    std::vector<std::pair<std::string, std::string>> proposed;
    std::set<std::pair<std::string, std::string>> refused;
};

namespace
{

void
drop(struct sl_dicom_scu *s, bool release)
{
    if (s->scu == nullptr)
        return;
    if (s->scu->isConnected()) {
        if (release)
            s->scu->releaseAssociation();
        else
            s->scu->abortAssociation();
    }
    delete s->scu;
    s->scu = nullptr;
}

// A new association proposing every pair in s->proposed: the file's own
// syntax, and the uncompressed ones it can be sent in instead.
int
associate(struct sl_dicom_scu *s, int *why, struct sl_err *err)
{
    DcmSCU *scu = new_scu(&s->peer);
    OFCondition c;

    for (const auto &pr : s->proposed) {
        OFList<OFString> ts;
        ts.push_back(pr.second.c_str());
        if (is_uncompressed(pr.second)) {
            for (const char *x : { UID_LittleEndianExplicitTransferSyntax,
                                   UID_LittleEndianImplicitTransferSyntax })
                if (pr.second != x)
                    ts.push_back(x);
            scu->addPresentationContext(pr.first.c_str(), ts);
        } else {
            scu->addPresentationContext(pr.first.c_str(), ts);
            if (s->convert) {
                OFList<OFString> plain;
                plain.push_back(UID_LittleEndianExplicitTransferSyntax);
                plain.push_back(UID_LittleEndianImplicitTransferSyntax);
                scu->addPresentationContext(pr.first.c_str(), plain);
            }
        }
    }
    if ((c = scu->initNetwork()).bad()) {
        delete scu;
        return SL_ERR(err, SL_ENET, "cannot set up the network: %s", c.text());
    }
    if (shim::use_tls(scu, &s->peer, err) != SL_OK) {
        delete scu;
        return SL_ENET;
    }
    if ((c = scu->negotiateAssociation()).bad()) {
        delete scu;
        return net_err(err, &s->peer, c, why, "C-STORE");
    }
    s->scu = scu;
    return SL_OK;
}

// The context to send (cls, ts) on in the open association, or 0;
// *convert set when it is another (uncompressed) syntax than ts.
T_ASC_PresentationContextID
context_for(struct sl_dicom_scu *s, const std::string &cls,
            const std::string &ts, bool *convert, const char **to)
{
    T_ASC_PresentationContextID id;

    *convert = false;
    *to = nullptr;
    if (s->scu == nullptr)
        return 0;
    if ((id = s->scu->findPresentationContextID(cls.c_str(), ts.c_str())) != 0)
        return id;
    if (!is_uncompressed(ts) && !s->convert)
        return 0;
    for (const char *x : { UID_LittleEndianExplicitTransferSyntax,
                           UID_LittleEndianImplicitTransferSyntax })
        if ((id = s->scu->findPresentationContextID(cls.c_str(), x)) != 0) {
            *convert = true;
            *to = x;
            return id;
        }
    return 0;
}

} // namespace

extern "C" int
sl_dicom_scu_new(const struct sl_dicom_peer *p, int convert,
                 struct sl_dicom_scu **out, struct sl_err *err)
{
    try {
        struct sl_dicom_scu *s = new sl_dicom_scu();

        shim::quiet_dcmtk();
        register_decoders();
        s->host = p->host;
        s->called = p->called_ae;
        s->calling = p->calling_ae;
        s->peer = *p;
        s->tls_ca = p->tls_ca ? p->tls_ca : "";
        s->tls_cert = p->tls_cert ? p->tls_cert : "";
        s->tls_key = p->tls_key ? p->tls_key : "";
        s->peer.tls_ca = p->tls_ca ? s->tls_ca.c_str() : nullptr;
        s->peer.tls_cert = p->tls_cert ? s->tls_cert.c_str() : nullptr;
        s->peer.tls_key = p->tls_key ? s->tls_key.c_str() : nullptr;
        s->peer.host = s->host.c_str();
        s->peer.called_ae = s->called.c_str();
        s->peer.calling_ae = s->calling.c_str();
        s->convert = convert != 0;
        *out = s;
        return SL_OK;
    } catch (...) {
        return shim::fail_exception(err);
    }
}

extern "C" void
sl_dicom_scu_free(struct sl_dicom_scu *s)
{
    if (s == nullptr)
        return;
    try {
        drop(s, true);
    } catch (...) {
    }
    delete s;
}

// DICOM allows 128 presentation contexts in one association; each pair
// takes up to two.
#define MAX_PAIRS 60

extern "C" int
sl_dicom_scu_store(struct sl_dicom_scu *s, const char *path, unsigned *status,
                   char *xfer_sent, int *why, struct sl_err *err)
{
    int rc = SL_OK;

    if (why != nullptr)
        *why = SL_DICOM_NET_OK;
    try {
        DcmFileFormat ff;
        OFString cls, ts;
        OFCondition c;
        bool convert = false;
        const char *to_ts = nullptr;
        T_ASC_PresentationContextID id;
        Uint16 rsp = 0;

        // values over 4 KiB (pixel data) are read from the file while
        // they are sent, not loaded first
        c = ff.loadFile(path, EXS_Unknown, EGL_noChange, 4096, ERM_fileOnly);
        if (c.bad())
            return SL_ERR(err, SL_EDICOM, "cannot read the file to send: %s",
                          c.text());
        if (ff.getMetaInfo()
                ->findAndGetOFString(DCM_MediaStorageSOPClassUID, cls)
                .bad() ||
            cls.empty())
            ff.getDataset()->findAndGetOFString(DCM_SOPClassUID, cls);
        ts = DcmXfer(ff.getDataset()->getOriginalXfer()).getXferID();
        if (cls.empty())
            return SL_ERR(err, SL_EDICOM,
                          "(0008,0016) SOP Class UID: missing, cannot be "
                          "sent");
        std::pair<std::string, std::string> key(cls.c_str(), ts.c_str());
        if (s->refused.count(key) != 0) {
            if (why != nullptr)
                *why = SL_DICOM_NET_NOCONTEXT;
            return SL_ERR(
                err, SL_EDICOM, "DICOM node %s:%d does not accept %s in %s%s",
                s->peer.host, s->peer.port, uid_name(cls.c_str()),
                xfer_name(ts.c_str()), s->convert ? " nor uncompressed" : "");
        }
        id = context_for(s, key.first, key.second, &convert, &to_ts);
        if (id == 0) {
            bool known = false;
            for (const auto &pr : s->proposed)
                if (pr == key)
                    known = true;
            if (!known) {
                if (s->proposed.size() >= MAX_PAIRS)
                    s->proposed.clear();
                s->proposed.push_back(key);
            }
            drop(s, true);
            if ((rc = associate(s, why, err)) != SL_OK) {
                if (why != nullptr && *why == SL_DICOM_NET_NOCONTEXT &&
                    s->proposed.size() == 1) {
                    // nothing of this instance is acceptable: refuse it,
                    // the next instance may be another class
                    s->refused.insert(key);
                    s->proposed.clear();
                    return SL_ERR(err, SL_EDICOM,
                                  "DICOM node %s:%d does not accept %s in "
                                  "%s%s",
                                  s->peer.host, s->peer.port,
                                  uid_name(cls.c_str()), xfer_name(ts.c_str()),
                                  s->convert ? " nor uncompressed" : "");
                }
                return rc;
            }
            id = context_for(s, key.first, key.second, &convert, &to_ts);
            if (id == 0) {
                s->refused.insert(key);
                if (why != nullptr)
                    *why = SL_DICOM_NET_NOCONTEXT;
                return SL_ERR(err, SL_EDICOM,
                              "DICOM node %s:%d does not accept %s in %s%s",
                              s->peer.host, s->peer.port, uid_name(cls.c_str()),
                              xfer_name(ts.c_str()),
                              s->convert ? " nor uncompressed" : "");
            }
        }
        if (convert) {
            DcmXfer to(to_ts);
            c = ff.getDataset()->chooseRepresentation(to.getXfer(), nullptr);
            if (c.bad() ||
                !ff.getDataset()->canWriteXfer(
                    to.getXfer(), ff.getDataset()->getOriginalXfer()))
                return SL_ERR(err, SL_EDICOM,
                              "cannot convert from %s to %s for DICOM node "
                              "%s:%d: %s",
                              xfer_name(ts.c_str()), to.getXferName(),
                              s->peer.host, s->peer.port,
                              c.bad() ? c.text() : "no codec");
            s->scu->setDatasetConversionMode(OFTrue);
            if (xfer_sent != nullptr)
                std::snprintf(xfer_sent, 65, "%s", to_ts);
        } else {
            s->scu->setDatasetConversionMode(OFFalse);
            if (xfer_sent != nullptr)
                std::snprintf(xfer_sent, 65, "%s", ts.c_str());
        }
        c = s->scu->sendSTORERequest(id, OFFilename(), ff.getDataset(), rsp);
        if (c.bad()) {
            rc = net_err(err, &s->peer, c, why, "C-STORE");
            drop(s, false);
            return rc;
        }
        *status = rsp;
        return SL_OK;
    } catch (...) {
        drop(s, false);
        return shim::fail_exception(err);
    }
}
