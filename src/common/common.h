/* common.h - status codes, errors, logging and small helpers used by every
 * module of sluice. */
#ifndef SL_COMMON_H
#define SL_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The one status table: name, message, HTTP status, process exit status.
 * Numbers are stable; add new codes at the end. */
#define SL_STATUS_TABLE(X)                                                   \
    X(SL_OK, "success", 200, 0)                                              \
    X(SL_EUSAGE, "usage error", 400, 1)                                      \
    X(SL_ECONFIG, "configuration error", 400, 1)                             \
    X(SL_EIO, "input/output error", 500, 2)                                  \
    X(SL_ENOMEM, "out of memory", 500, 2)                                    \
    X(SL_EPARSE, "malformed input", 422, 2)                                  \
    X(SL_ESTATE, "state store error", 500, 2)                                \
    X(SL_EDICOM, "DICOM error", 422, 2)                                      \
    X(SL_ENOTFOUND, "not found", 404, 2)                                     \
    X(SL_EINTERNAL, "internal error", 500, 2)                                \
    X(SL_EQUARANTINE, "item quarantined", 422, 3)                            \
    X(SL_EINTR, "interrupted", 503, 2)                                       \
    X(SL_EKEY, "key error", 400, 1)                                          \
    X(SL_ENET, "network error", 502, 2)                                      \
    X(SL_EBUSY, "held by another process", 409, 2)

enum sl_status {
#define SL_X_ENUM(name, msg, http, exitc) name,
    SL_STATUS_TABLE(SL_X_ENUM)
#undef SL_X_ENUM
        SL_STATUS_COUNT
};

/* Exit statuses of the sluice command (a contract, see sluice(1)). */
#define SL_EXIT_OK 0
#define SL_EXIT_USAGE 1
#define SL_EXIT_RUNTIME 2
#define SL_EXIT_QUARANTINED 3

/* An error: a status and a message for a human. Messages name files,
 * lines, element paths and tags; never values taken from patient data. */
struct sl_err {
    int code;
    char msg[1024];
};

const char *sl_status_name(int code);
const char *sl_status_message(int code);
int sl_status_http(int code);
int sl_status_exit(int code);

/* Sets err (may be NULL) and returns code, so that callers can write
 * `return SL_ERR(err, SL_EIO, "%s: cannot open", path);`. */
int sl_err_set(struct sl_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define SL_ERR(err, code, ...) sl_err_set((err), (code), __VA_ARGS__)
/* Prefixes the message already in err with more context. */
void sl_err_prefix(struct sl_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- logging --------------------------------------------------------- */
enum sl_log_level { SL_LOG_DEBUG, SL_LOG_INFO, SL_LOG_WARN, SL_LOG_ERROR };
enum sl_log_format { SL_LOGFMT_TEXT, SL_LOGFMT_JSON };

void sl_log_setup(enum sl_log_level min, enum sl_log_format fmt);
/* Where the lines go: stderr (the default), or the systemd journal through
 * its native protocol (a datagram of FIELD=value lines to
 * /run/systemd/journal/socket; PRIORITY from the level as syslog numbers
 * it, SYSLOG_IDENTIFIER=sluice, MESSAGE, and for an event SLUICE_EVENT and
 * one SLUICE_<KEY> field a key). SL_EIO, naming the socket, when the
 * journal cannot be reached; stderr then stays the target. */
enum sl_log_target { SL_LOGTO_STDERR, SL_LOGTO_JOURNAL };
int sl_log_target_set(enum sl_log_target t, struct sl_err *err);
/* The journal's socket, and the syslog priority of a level. */
#define SL_JOURNAL_SOCKET "/run/systemd/journal/socket"
int sl_log_priority(enum sl_log_level level);
enum sl_log_format sl_log_get_format(void);
int sl_log_enabled(enum sl_log_level level);
/* Writes one line to stderr. The text must not hold patient data. */
void sl_log(enum sl_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A structured event: in JSON mode an object with "event" and the given
 * key/value string pairs (NULL-terminated list); in text mode one line. */
void sl_log_event(enum sl_log_level level, const char *event, ...);

/* ---- memory ------------------------------------------------------------ */
/* Allocation failure aborts with a message: sluice cannot do anything
 * sensible without memory, and every caller checking would hide real bugs. */
void *sl_malloc(size_t n);
void *sl_calloc(size_t n, size_t size);
void *sl_realloc(void *p, size_t n);
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);
char *sl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wipes then frees a buffer that held a secret or patient data. */
void sl_freezero(void *p, size_t n);

/* ---- locks ----------------------------------------------------------- */
/* Initialises *mu (a pthread_mutex_t, taken as void * so that this header
 * needs no pthread.h) for a lock held a short time by threads that are
 * all busy: a waiter spins a little before it sleeps (glibc's adaptive
 * mutex, where there is one), so that two threads taking turns do not
 * put each other to sleep and wake each other up every time. */
void sl_mutex_init_short(void *mu);

/* A growable byte buffer, always NUL-terminated. */
struct sl_buf {
    char *data;
    size_t len;
    size_t cap;
};
void sl_buf_init(struct sl_buf *b);
void sl_buf_add(struct sl_buf *b, const void *p, size_t n);
void sl_buf_adds(struct sl_buf *b, const char *s);
void sl_buf_addc(struct sl_buf *b, char c);
void sl_buf_addf(struct sl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sl_buf_reset(struct sl_buf *b);
/* Makes room for n more bytes at once (one allocation instead of several
 * doublings when the size is roughly known). */
void sl_buf_reserve(struct sl_buf *b, size_t n);
/* Returns the data (caller frees) and leaves b empty. */
char *sl_buf_steal(struct sl_buf *b);
void sl_buf_free(struct sl_buf *b);

/* A list of owned strings. */
struct sl_strv {
    char **v;
    size_t n;
    size_t cap;
};
void sl_strv_push(struct sl_strv *sv, const char *s); /* copies s */
void sl_strv_push_owned(struct sl_strv *sv, char *s); /* takes s */
void sl_strv_sort(struct sl_strv *sv);
void sl_strv_free(struct sl_strv *sv);

/* ---- numbers and strings ---------------------------------------------- */
/* Parses a whole decimal integer within [min,max]; SL_OK or SL_EUSAGE. */
int sl_parse_long(const char *s, long min, long max, long *out);
int sl_str_has_suffix(const char *s, const char *suffix);

/* ---- files ------------------------------------------------------------- */
/* Creates a directory and its parents (like mkdir -p). */
int sl_mkdir_p(const char *path, struct sl_err *err);
/* Joins two path parts with one '/'; caller frees. */
char *sl_path_join(const char *a, const char *b);
/* The directory part of path (caller frees). */
char *sl_path_dir(const char *path);
/* Resolves rel against the directory base unless rel is absolute. */
char *sl_path_resolve(const char *base_dir, const char *rel);
int sl_path_exists(const char *path);
int sl_path_is_dir(const char *path);
/* Reads a whole small file (configs, keys). Caller frees *out. */
int sl_file_read(const char *path, char **out, size_t *len,
                 struct sl_err *err);
/* Writes data to path atomically (temp file, fsync, rename). */
int sl_file_write_atomic(const char *path, const void *data, size_t len,
                         struct sl_err *err);
/* Creates path for writing, as a new file (O_EXCL | O_NOFOLLOW): never
 * through a link left at the name, never into a file that was there (a
 * leftover is removed once and made again). A descriptor, or -1 (errno). */
int sl_open_new(const char *path, int mode);
/* A folder for patient data (a quarantine): made with its parents when
 * missing, itself mode 0700; one that exists must belong to the user and
 * not be writable by group or others. what names it in messages. */
int sl_mkdir_private(const char *path, const char *what, struct sl_err *err);
/* Whether path is a folder other users share (sticky and world-writable,
 * like /tmp). */
int sl_dir_shared(const char *path);
/* Lists regular files under dir recursively, sorted by path, skipping
 * hidden entries. Paths are dir-relative. Symbolic links are followed,
 * a link back to a folder on the path (a loop) is not walked again.
 * Messages name no path. */
int sl_dir_walk(const char *dir, struct sl_strv *out, struct sl_err *err);
/* The same; with follow 0, a symbolic link (to a file, a folder or
 * nothing) is listed as an entry and never followed, for the caller to
 * report (sl_is_symlink). Input folders are walked this way by default:
 * a link in an export can point anywhere, a key file among others. */
int sl_dir_walk_links(const char *dir, int follow, struct sl_strv *out,
                      struct sl_err *err);
int sl_is_symlink(const char *path);
/* Why an input that is a symbolic link was not read. */
#define SL_LINK_NOT_FOLLOWED                                                   \
    "a symbolic link: not followed (allow links with follow-symlinks=\"yes\" " \
    "or --follow-symlinks)"
/* Copies src to dst through a hidden temporary file beside dst and a
 * rename, so a reader sees the old dst or the whole new one; with sync, the
 * file and its folder are fsynced first. Messages name no path (either may
 * be named after a patient): callers add the context. */
#define SL_COPY_CHUNK (1024 * 1024)
int sl_file_copy(const char *src, const char *dst, int sync,
                 struct sl_err *err);
/* fsyncs the directory that holds path, so a rename in it is durable. */
int sl_fsync_dir_of(const char *path);

/* Seconds since an arbitrary start, monotonic. */
double sl_now(void);
/* Current UTC time as ISO 8601 (buf at least 32 bytes). */
void sl_time_iso(char *buf, size_t len);
/* Number of online CPUs, at least 1. */
int sl_ncpu(void);

#endif
