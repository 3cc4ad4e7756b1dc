/*
 * moe_mpi.h - the C ABI of libmoe_mpi, a thin shim over MPI for expert parallelism (docs/specification.md §d, §e.3).
 *
 * Why a shim: MPI's handles (MPI_Comm, MPI_Datatype, MPI_Op) are implementation-defined macros (in
 * Open MPI, addresses of library globals), so Java cannot name them through FFM. The shim owns one
 * duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN and exposes fixed-width, status-returning calls,
 * like moe.h. The Java bindings (dev.moe.bindings.moe_mpi_h) are what jextract generates from this
 * header (bindings/jextract.sh), and MOE_MPI_ABI_VERSION is checked when the library is loaded.
 *
 * libmoe_mpi links against the system's libmpi; it is loaded only when a run asks for MPI, so that
 * single-process runs need no MPI at all. Calls must not overlap (MPI_THREAD_SERIALIZED): the Java
 * layer serialises them.
 */
#ifndef MOE_MOE_MPI_H
#define MOE_MOE_MPI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of this header. */
#define MOE_MPI_ABI_VERSION 1

/* Status codes: 0, one of these, or (positive) an MPI error class from the MPI library. */
#define MOE_MPI_OK 0
#define MOE_MPI_ERR_NOT_INITIALIZED -1
#define MOE_MPI_ERR_ALREADY_FINALIZED -2
#define MOE_MPI_ERR_TOO_LARGE -3
#define MOE_MPI_ERR_BAD_ARGUMENT -4
#define MOE_MPI_ERR_THREAD_LEVEL -5

/* Reductions (moe_mpi_allreduce_i64). */
#define MOE_MPI_SUM 0
#define MOE_MPI_MAX 1
#define MOE_MPI_MIN 2

/* MOE_MPI_ABI_VERSION of the library. */
int32_t moe_mpi_abi_version(void);

/* The MPI library's version string (MPI_Get_library_version) into buf (NUL-terminated, truncated to len). */
int32_t moe_mpi_library_version(char* buf, int32_t len);

/* Initialises MPI (MPI_THREAD_SERIALIZED) unless it already is, duplicates MPI_COMM_WORLD with
 * MPI_ERRORS_RETURN, and reports this process's rank and the world size. */
int32_t moe_mpi_init(int32_t* rank, int32_t* size);

/* 1 if moe_mpi_init succeeded and moe_mpi_finalize has not run, else 0. */
int32_t moe_mpi_is_initialized(void);

/* Frees the communicator and finalises MPI (collective: every rank must call it). */
int32_t moe_mpi_finalize(void);

/* Ends every process of the job with exit code `code` (MPI_Abort); returns only if that fails. */
int32_t moe_mpi_abort(int32_t code);

int32_t moe_mpi_barrier(void);

/* In-place all-reduce of count int64 values with MOE_MPI_SUM, _MAX or _MIN. */
int32_t moe_mpi_allreduce_i64(int64_t* buf, int64_t count, int32_t op);

/* In-place all-reduce (sum) of count doubles. */
int32_t moe_mpi_allreduce_f64(double* buf, int64_t count);

/* All-to-all of `count` int64 values per rank: send[r*count .. +count) goes to rank r, and recv
 * receives rank r's block at r*count. */
int32_t moe_mpi_alltoall_i64(const int64_t* send, int64_t* recv, int64_t count);

/* All-to-all-v of bytes: rank r receives send[send_displs[r] .. +send_counts[r]); this rank's
 * recv[recv_displs[r] .. +recv_counts[r]) comes from rank r. Counts and displacements are int64 in
 * the ABI; values above INT32_MAX return MOE_MPI_ERR_TOO_LARGE (MPI-3 counts are int). */
int32_t moe_mpi_alltoallv_bytes(const void* send, const int64_t* send_counts, const int64_t* send_displs,
                                void* recv, const int64_t* recv_counts, const int64_t* recv_displs);

/* All-gather of `bytes` bytes per rank into recv (size * bytes). */
int32_t moe_mpi_allgather_bytes(const void* send, void* recv, int64_t bytes);

/* Text of a status code into buf (NUL-terminated, truncated to len). */
int32_t moe_mpi_error_string(int32_t status, char* buf, int32_t len);

#ifdef __cplusplus
}
#endif

#endif
