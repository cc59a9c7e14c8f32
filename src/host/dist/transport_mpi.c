/*
 * transport_mpi.c -- distributed runs over MPI: point-to-point messages of
 * packed client payloads to rank 0 and a broadcast of x back.  Errors are
 * returned (MPI_ERRORS_RETURN), never left to hang: receives and broadcasts poll
 * with a deadline (rank-timeout), and the caller ends every rank with
 * detcgd_mpi_abort.
 */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "transport.h"

typedef struct MpiState { void* rbuf; /* owns */ int64_t rcap; } MpiState;

static int we_initialised = 0;

static int mpi_fail(int rc, const char* what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  return dc_fail(DETCGD_ERR_IO, "MPI: %s failed: %s", what, msg);
}

static int ensure_init(void) {
  int flag = 0;
  MPI_Initialized(&flag);
  if (!flag) {
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return dc_fail(DETCGD_ERR_IO, "MPI: MPI_Init failed");
    we_initialised = 1;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return DETCGD_OK;
}

static int mpi_send(DcTransport* t, const void* buf, int64_t bytes) {
  int rc;
  (void)t;
  if (bytes > 0x7fffffff) return dc_fail(DETCGD_ERR_ARG, "MPI: message of %lld bytes exceeds 2 GiB", (long long)bytes);
  rc = MPI_Send(buf, (int)bytes, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
  return rc == MPI_SUCCESS ? DETCGD_OK : mpi_fail(rc, "MPI_Send to rank 0");
}

/* The wait of one receive or broadcast: it spins for its first millisecond, then sleeps 20 us between polls so
   that waiting ranks leave the cores to the busy one (a job with more ranks than cores); 1 once past the deadline. */
typedef struct Wait { double t0, now; long polls; } Wait;

static Wait wait_start(void) {
  Wait w = {0, 0, 0};
  w.t0 = w.now = dc_wall_time();
  return w;
}

static int past_deadline(const DcTransport* t, Wait* w) {
  if (w->now - w->t0 > 1e-3) dc_sleep(20e-6);
  if (++w->polls % 256 == 0 || w->now - w->t0 > 1e-3) w->now = dc_wall_time();
  return t->timeout > 0 && w->now - w->t0 > t->timeout;
}

/* Waits for the request (MPI_Test in a loop) at most t->timeout s. */
static int wait_for(DcTransport* t, MPI_Request* req, const char* what, int other) {
  Wait w = wait_start();
  for (;;) {
    int done = 0, rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, what);
    if (done) return DETCGD_OK;
    if (past_deadline(t, &w))
      return dc_fail(DETCGD_ERR_IO, "MPI: rank %d heard nothing from rank %d for %g s (%s): it is paused or gone; "
                     "ending the job (rank-timeout)", t->rank, other, t->timeout, what);
  }
}

static int mpi_recv(DcTransport* t, int from, const void** buf, int64_t* bytes) {
  MpiState* ms = (MpiState*)t->state;
  MPI_Status status;
  Wait w = wait_start();
  int n = 0, found = 0, rc;
  do { /* MPI_Probe, with a deadline */
    rc = MPI_Iprobe(from, 7, MPI_COMM_WORLD, &found, &status);
    if (rc == MPI_SUCCESS && !found && past_deadline(t, &w))
      return dc_fail(DETCGD_ERR_IO, "MPI: rank 0 heard nothing from rank %d for %g s (its message): it is paused or "
                     "gone; ending the job (rank-timeout)", from, t->timeout);
  } while (rc == MPI_SUCCESS && !found);
  if (rc == MPI_SUCCESS) rc = MPI_Get_count(&status, MPI_BYTE, &n);
  if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Probe");
  if (n > ms->rcap) {
    void* nb = realloc(ms->rbuf, (size_t)n);
    if (!nb) return dc_fail(DETCGD_ERR_ALLOC, "MPI: out of memory for a %d-byte message", n);
    ms->rbuf = nb;
    ms->rcap = n;
  }
  rc = MPI_Recv(ms->rbuf, n, MPI_BYTE, from, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Recv");
  *buf = ms->rbuf;
  *bytes = n;
  return DETCGD_OK;
}

static int mpi_bcast(DcTransport* t, void* buf, int64_t bytes) {
  int rc;
  if (bytes > 0x7fffffff) return dc_fail(DETCGD_ERR_ARG, "MPI: broadcast of %lld bytes exceeds 2 GiB", (long long)bytes);
  MPI_Request req;
  rc = MPI_Ibcast(buf, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD, &req);
  return rc == MPI_SUCCESS ? wait_for(t, &req, "the broadcast of x", 0) : mpi_fail(rc, "MPI_Ibcast");
}

static void mpi_close(DcTransport* t) {
  MpiState* ms = (MpiState*)t->state;
  if (ms) free(ms->rbuf);
  free(ms);
  t->state = NULL;
}

int dc_transport_mpi_open(DcTransport* t, int nclients) {
  int st = ensure_init();
  if (st != DETCGD_OK) return st;
  MPI_Comm_rank(MPI_COMM_WORLD, &t->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &t->nranks);
  if (nclients < t->nranks)
    return dc_fail(DETCGD_ERR_ARG, "clients: %d clients for %d MPI ranks (every rank needs a client)", nclients, t->nranks);
  t->first_client = (int)((int64_t)nclients * t->rank / t->nranks);
  t->last_client = (int)((int64_t)nclients * (t->rank + 1) / t->nranks);
  t->state = dc_calloc(1, sizeof(MpiState));
  if (!t->state) return DETCGD_ERR_ALLOC;
  t->send = mpi_send;
  t->recv = mpi_recv;
  t->bcast = mpi_bcast;
  t->close = mpi_close;
  return DETCGD_OK;
}

int detcgd_mpi_available(void) { return 1; }

int detcgd_mpi_rank(int* rank, int* nranks) {
  int st = ensure_init();
  if (st != DETCGD_OK) return st;
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, nranks);
  return DETCGD_OK;
}

void detcgd_mpi_abort(int code) {
  int flag = 0;
  MPI_Initialized(&flag);
  if (flag) MPI_Abort(MPI_COMM_WORLD, code);
}

void detcgd_mpi_finalize(void) {
  int fin = 0;
  MPI_Finalized(&fin);
  if (we_initialised && !fin) MPI_Finalize();
}
