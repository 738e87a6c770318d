// dicom_listen.cc - sluice as a C-STORE SCP for the dicom-listener source:
// DCMTK's DcmSCPPool of DcmStorageSCP workers (one thread per association,
// at most max_assoc), an allow-list of calling AE titles with the address
// each may call from, the storage SOP classes and transfer syntaxes
// configured, and each instance written to disk as it arrives
// (bit-preserving) then handed to the C side in the order of arrival.
// Messages name AE titles, addresses and ports: nothing of a dataset.
#include "config.h"

#include "dicom/dicom_host.h"
#include "dicom/dicom_int.h"

#include <dcmtk/dcmnet/scppool.h>
#include <dcmtk/dcmnet/scpthrd.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// ---- the address the listening socket is bound to --------------------------
// The bind() that honours it is the executable's (dicom_host.c): an
// interposed bind() only works from there, and the shim may be a module.
void
shim::bind_address(const struct in_addr *a)
{
    sl_dicom_host_bind_address(a);
}

class ListenSCP;

struct sl_dicom_listener {
    std::string dir; // where the instances are written
    std::vector<std::pair<std::string, std::string>> allow; // AE, address
    struct in_addr addr;
    int port = 0;
    std::atomic<unsigned long> seq{ 0 }; // names of files being received
    std::atomic<int> busy{ 0 };          // associations open
    std::atomic<unsigned long> refused{ 0 };
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> ready; // files received, in order
    DcmSCPPool<ListenSCP> *pool = nullptr;
    // DICOM TLS: borrowed by the pool's network, so freed after the pool
    std::unique_ptr<DcmTLSTransportLayer> tls;
    std::thread thread;
    OFCondition end; // what listen() returned
};

namespace
{

// The listeners of this process by port: a pool's workers are made by
// DCMTK with their default constructor and find theirs through it.
std::mutex reg_mu;
std::map<int, struct sl_dicom_listener *> reg;

struct sl_dicom_listener *
find_listener(int port)
{
    std::lock_guard<std::mutex> g(reg_mu);
    auto i = reg.find(port);
    return i == reg.end() ? nullptr : i->second;
}

} // namespace

// One association's worker. DcmSCPPool takes DcmThreadSCP workers (not
// DcmStorageSCP), so the C-STORE is received here, with DcmSCP's own
// receiveSTORERequest() writing the dataset straight to a file as it
// arrives (bit-preserving, never whole in memory) and sendSTOREResponse().
class ListenSCP : public DcmThreadSCP
{
  protected:
    struct sl_dicom_listener *me()
    {
        return find_listener(getConfig().getPort());
    }

    // The allow-list: this AE title from this address.
    OFBool checkCallingAETitleAccepted(const OFString &ae) override
    {
        struct sl_dicom_listener *l = me();
        std::string ip = getPeerIP().c_str();

        if (l == nullptr)
            return OFFalse;
        for (auto &a : l->allow)
            if (a.first == ae.c_str() && a.second == ip)
                return OFTrue;
        l->refused++;
        sl_log(SL_LOG_WARN,
               "DICOM listener on port %d: association from AE title '%s' "
               "at %s refused: not on the allow-list",
               l->port, ae.c_str(), ip.c_str());
        return OFFalse;
    }

    void notifyAssociationAcknowledge() override
    {
        struct sl_dicom_listener *l = me();
        if (l != nullptr)
            l->busy++;
        in_assoc = l != nullptr;
    }
    void notifyAssociationTermination() override
    {
        struct sl_dicom_listener *l = me();
        if (l != nullptr && in_assoc) {
            l->busy--;
            l->cv.notify_all();
        }
        in_assoc = false;
    }

    OFCondition
    handleIncomingCommand(T_DIMSE_Message *msg,
                          const DcmPresentationContextInfo &pc) override
    {
        struct sl_dicom_listener *l;
        char name[96];
        std::string part, whole;
        OFCondition c;
        Uint16 status = STATUS_Success;

        if (msg->CommandField != DIMSE_C_STORE_RQ)
            return DcmThreadSCP::handleIncomingCommand(msg, pc);
        if ((l = me()) == nullptr)
            return EC_IllegalCall;
        T_DIMSE_C_StoreRQ &rq = msg->msg.CStoreRQ;
        // a name that says the file is not whole yet: an association
        // broken mid-transfer leaves nothing that looks like an instance
        std::snprintf(name, sizeof(name), "/in-%ld-%lu",
                      static_cast<long>(getpid()), ++l->seq);
        part = l->dir + name + ".part";
        whole = l->dir + name + ".dcm";
        c = receiveSTORERequest(rq, pc.presentationContextID,
                                OFString(part.c_str()));
        if (c.bad()) {
            std::remove(part.c_str());
            return c; // the association is gone or broken
        }
        // on disk under its final name before the sender hears "stored"
        if (std::rename(part.c_str(), whole.c_str()) != 0) {
            std::remove(part.c_str());
            status = STATUS_STORE_Refused_OutOfResources;
        } else {
            {
                std::lock_guard<std::mutex> g(l->mu);
                l->ready.push_back(whole);
            }
            l->cv.notify_all();
        }
        return sendSTOREResponse(pc.presentationContextID, rq, status);
    }

  private:
    bool in_assoc = false;
};

namespace
{

const char *const default_xfers[] = {
    UID_LittleEndianExplicitTransferSyntax,
    UID_LittleEndianImplicitTransferSyntax,
    UID_JPEGProcess14SV1TransferSyntax,
    UID_JPEGLSLosslessTransferSyntax,
    UID_RLELosslessTransferSyntax,
    UID_JPEGProcess1TransferSyntax,
    UID_JPEGProcess2_4TransferSyntax,
    UID_JPEG2000LosslessOnlyTransferSyntax,
    UID_JPEG2000TransferSyntax,
    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
};

void
unregister(struct sl_dicom_listener *l)
{
    std::lock_guard<std::mutex> g(reg_mu);
    auto i = reg.find(l->port);
    if (i != reg.end() && i->second == l)
        reg.erase(i);
}

} // namespace

// Short names of the transfer syntaxes a configuration names most.
const struct {
    const char *name, *uid;
} xfer_names[] = {
    { "explicit", UID_LittleEndianExplicitTransferSyntax },
    { "implicit", UID_LittleEndianImplicitTransferSyntax },
    { "deflated", UID_DeflatedExplicitVRLittleEndianTransferSyntax },
    { "jpeg-baseline", UID_JPEGProcess1TransferSyntax },
    { "jpeg-extended", UID_JPEGProcess2_4TransferSyntax },
    { "jpeg-lossless", UID_JPEGProcess14SV1TransferSyntax },
    { "jpeg-ls-lossless", UID_JPEGLSLosslessTransferSyntax },
    { "jpeg-ls", UID_JPEGLSLossyTransferSyntax },
    { "jpeg2000-lossless", UID_JPEG2000LosslessOnlyTransferSyntax },
    { "jpeg2000", UID_JPEG2000TransferSyntax },
    { "rle", UID_RLELosslessTransferSyntax },
};

extern "C" const char *
sl_dicom_uid_from_name(const char *name)
{
    if (name == nullptr || *name == '\0')
        return nullptr;
    for (auto &x : xfer_names)
        if (std::strcmp(x.name, name) == 0)
            return x.uid;
    if (std::strspn(name, "0123456789.") == std::strlen(name))
        return name;
    return dcmFindUIDFromName(name);
}

// The TLS layer of a storage SCP (DCMTK 3.6.7's DcmSCPConfig takes one;
// DcmSCP and DcmSCPPool give it to their network): sluice's certificate
// and key, the callers' certificates required and checked against ca.
int
shim::tls_acceptor(const char *what, const char *ca, const char *cert,
                   const char *key, std::unique_ptr<DcmTLSTransportLayer> &out,
                   struct sl_err *err)
{
    std::unique_ptr<DcmTLSTransportLayer> t(
        new DcmTLSTransportLayer(NET_ACCEPTOR, nullptr, OFTrue));
    OFCondition cond;

    if (cert == nullptr || key == nullptr || ca == nullptr)
        return SL_ERR(err, SL_ECONFIG,
                      "%s: TLS needs tls-cert-file, tls-key-file and "
                      "tls-ca-file",
                      what);
    if ((cond = t->setTLSProfile(TSP_Profile_BCP195)).good())
        cond = t->activateCipherSuites();
    if (cond.bad())
        return SL_ERR(err, SL_ENET, "%s: TLS: cannot set up: %s", what,
                      cond.text());
    if ((cond = t->setPrivateKeyFile(key, DCF_Filetype_PEM)).bad() ||
        (cond = t->setCertificateFile(cert, DCF_Filetype_PEM)).bad())
        return SL_ERR(err, SL_ECONFIG,
                      "%s: TLS: cannot read tls-cert-file %s or its "
                      "tls-key-file: %s",
                      what, cert, cond.text());
    if (!t->checkPrivateKeyMatchesCertificate())
        return SL_ERR(err, SL_ECONFIG,
                      "%s: TLS: tls-key-file is not the key of "
                      "tls-cert-file %s",
                      what, cert);
    if ((cond = t->addTrustedCertificateFile(ca, DCF_Filetype_PEM)).bad())
        return SL_ERR(err, SL_ECONFIG,
                      "%s: TLS: cannot read the CA certificates of "
                      "tls-ca-file %s: %s",
                      what, ca, cond.text());
    t->setCertificateVerification(DCV_requireCertificate);
    out = std::move(t);
    return SL_OK;
}

extern "C" int
sl_dicom_listen_start(const struct sl_dicom_listen_conf *c,
                      struct sl_dicom_listener **out, struct sl_err *err)
{
    struct sl_dicom_listener *l = nullptr;

    shim::quiet_dcmtk();
    try {
        OFList<OFString> ts;
        OFCondition cond;
        DcmSCPConfig *cfg;

        // (TCP_NODELAY: see new_scu(); the same for what we answer)
        setenv("TCP_NODELAY", "1", 0);
        l = new sl_dicom_listener();
        l->dir = c->dir;
        l->port = c->port;
        if (inet_pton(AF_INET, c->address ? c->address : "127.0.0.1",
                      &l->addr) != 1) {
            delete l;
            return SL_ERR(err, SL_ECONFIG,
                          "DICOM listener: address must be an IPv4 "
                          "address (127.0.0.1, 0.0.0.0 for every "
                          "interface)");
        }
        for (size_t i = 0; i < c->nallow; i++) {
            const char *at = std::strrchr(c->allow[i], '@');
            if (at == nullptr || at == c->allow[i] || at[1] == '\0') {
                delete l;
                return SL_ERR(err, SL_ECONFIG,
                              "DICOM listener: allow entry %zu is not "
                              "AE@ADDRESS",
                              i + 1);
            }
            l->allow.emplace_back(std::string(c->allow[i], at), at + 1);
        }
        {
            std::lock_guard<std::mutex> g(reg_mu);
            if (reg.count(c->port) != 0) {
                delete l;
                return SL_ERR(err, SL_ECONFIG,
                              "DICOM listener: port %d is already "
                              "listened on by this process",
                              c->port);
            }
            reg[c->port] = l;
        }
        l->pool = new DcmSCPPool<ListenSCP>();
        cfg = &l->pool->getConfig();
        if (c->tls_cert != nullptr) {
            int rc = shim::tls_acceptor("DICOM listener", c->tls_ca,
                                        c->tls_cert, c->tls_key, l->tls, err);
            if (rc != SL_OK) {
                unregister(l);
                delete l->pool;
                delete l;
                return rc;
            }
            cfg->setTransportLayer(l->tls.get());
        }
        cfg->setAETitle(c->ae_title);
        cfg->setPort(static_cast<Uint16>(c->port));
        cfg->setConnectionBlockingMode(DUL_NOBLOCK);
        cfg->setConnectionTimeout(1);
        cfg->setACSETimeout(static_cast<Uint32>(c->timeout));
        cfg->setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        cfg->setDIMSETimeout(static_cast<Uint32>(c->timeout));
        cfg->setHostLookupEnabled(OFFalse);
        cfg->setVerbosePCMode(OFFalse);
        cfg->setRespondWithCalledAETitle(OFFalse);
        l->pool->setMaxThreads(static_cast<Uint16>(c->max_assoc));
        if (c->nxfer > 0)
            for (size_t i = 0; i < c->nxfer; i++)
                ts.push_back(c->xfers[i]);
        else
            for (const char *x : default_xfers)
                ts.push_back(x);
        // Verification first: an association negotiates 128 contexts at
        // most (DCMTK's limit for an acceptor's list too)
        {
            OFList<OFString> vts;
            vts.push_back(UID_LittleEndianExplicitTransferSyntax);
            vts.push_back(UID_LittleEndianImplicitTransferSyntax);
            cond = cfg->addPresentationContext(UID_VerificationSOPClass, vts);
        }
        if (cond.good() && c->nsop > 0) {
            for (size_t i = 0; cond.good() && i < c->nsop; i++)
                cond = cfg->addPresentationContext(c->sop_classes[i], ts);
        } else if (cond.good()) {
            // DCMTK's list of the storage classes in common use
            for (int i = 0;
                 cond.good() && i < numberOfDcmLongSCUStorageSOPClassUIDs &&
                 i < 127;
                 i++)
                cond = cfg->addPresentationContext(
                    dcmLongSCUStorageSOPClassUIDs[i], ts);
        }
        if (cond.bad()) {
            unregister(l);
            delete l->pool;
            delete l;
            return SL_ERR(err, SL_ECONFIG,
                          "DICOM listener: the SOP classes cannot be "
                          "offered (at most 127): %s",
                          cond.text());
        }
        // listen() opens the port: on its own thread, which alone binds
        // to the configured address (above); the start waits for it
        std::mutex m;
        std::condition_variable started;
        bool up = false;
        l->thread = std::thread([l, &m, &started, &up] {
            shim::bind_address(&l->addr);
            // the port is open once ASC_initializeNetwork returned: the
            // pool's listen() then waits for the first connection; a port
            // in use makes it return at once
            {
                std::lock_guard<std::mutex> g(m);
                up = true;
            }
            started.notify_all();
            l->end = l->pool->listen();
            shim::bind_address(nullptr);
            l->cv.notify_all();
        });
        {
            std::unique_lock<std::mutex> g(m);
            started.wait(g, [&up] { return up; });
        }
        // a port that cannot be opened ends listen() at once
        for (int i = 0; i < 20; i++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (l->end.bad())
                break;
        }
        if (l->end.bad()) {
            std::string why = l->end.text();
            l->thread.join();
            unregister(l);
            delete l->pool;
            delete l;
            return SL_ERR(err, SL_ENET,
                          "DICOM listener: cannot listen on %s port %d "
                          "(in use, or not allowed?): %s",
                          c->address ? c->address : "127.0.0.1", c->port,
                          why.c_str());
        }
        *out = l;
        return SL_OK;
    } catch (...) {
        if (l != nullptr) {
            if (l->thread.joinable()) {
                l->pool->stopAfterCurrentAssociations();
                l->thread.join();
            }
            unregister(l);
            delete l->pool;
            delete l;
        }
        return shim::fail_exception(err);
    }
}

extern "C" int
sl_dicom_listen_next(struct sl_dicom_listener *l, int ms, char **path,
                     int *busy)
{
    std::unique_lock<std::mutex> g(l->mu);

    *path = nullptr;
    if (l->ready.empty())
        l->cv.wait_for(g, std::chrono::milliseconds(ms),
                       [l] { return !l->ready.empty(); });
    if (!l->ready.empty()) {
        *path = sl_strdup(l->ready.front().c_str());
        l->ready.pop_front();
    }
    *busy = l->busy.load();
    return l->end.bad() && l->end != DUL_NOASSOCIATIONREQUEST ? SL_ENET : SL_OK;
}

extern "C" unsigned long
sl_dicom_listen_refused(const struct sl_dicom_listener *l)
{
    return l->refused.load();
}

extern "C" void
sl_dicom_listen_stop(struct sl_dicom_listener *l)
{
    if (l == nullptr)
        return;
    try {
        l->pool->stopAfterCurrentAssociations();
        if (l->thread.joinable())
            l->thread.join();
    } catch (...) {
    }
    unregister(l);
    delete l->pool;
    delete l;
}
