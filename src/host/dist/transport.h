/*
 * transport.h -- how client messages reach the server in distributed runs.
 *
 * Rank 0 is the server and also hosts the first block of clients; rank r hosts
 * clients [first_client, last_client).  In the simulated mode there is one
 * rank hosting every client and no message is sent.
 */
#ifndef DETCGD_TRANSPORT_H
#define DETCGD_TRANSPORT_H

#include <stdint.h>

typedef struct DcTransport DcTransport;
struct DcTransport {
  int rank, nranks;
  int first_client, last_client;
  double timeout; /* seconds recv and bcast wait for another rank (0: forever) */
  void* state;    /* owns: MPI buffers */
  /* bytes from this rank to rank 0 */
  int (*send)(DcTransport* t, const void* buf, int64_t bytes);
  /* at rank 0: the next message of rank `from`; *buf stays valid until the next recv */
  int (*recv)(DcTransport* t, int from, const void** buf, int64_t* bytes);
  /* bytes from rank 0 to every rank */
  int (*bcast)(DcTransport* t, void* buf, int64_t bytes);
  void (*close)(DcTransport* t);
};

/* mode: DetcgdDistMode; nclients clients are cut into contiguous blocks over the ranks; a rank that waits
 * over `timeout` seconds (0: forever) for another ends with an error naming it. */
int dc_transport_open(DcTransport* t, int mode, int nclients, double timeout);
void dc_transport_close(DcTransport* t);

/* The MPI implementation (transport_mpi.c, built when MPI is found). */
int dc_transport_mpi_open(DcTransport* t, int nclients);

#endif /* DETCGD_TRANSPORT_H */
