/* libmoe_mpi: the calls of moe_mpi.h over one duplicate of MPI_COMM_WORLD. */
#include "moe/moe_mpi.h"

#include <dlfcn.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static MPI_Comm comm = MPI_COMM_NULL;
static int world_size = 0;
static int finalized = 0;

static int32_t check(void) {
    if (finalized) {
        return MOE_MPI_ERR_ALREADY_FINALIZED;
    }
    return comm == MPI_COMM_NULL ? MOE_MPI_ERR_NOT_INITIALIZED : MOE_MPI_OK;
}

EXPORT int32_t moe_mpi_abi_version(void) { return MOE_MPI_ABI_VERSION; }

EXPORT int32_t moe_mpi_library_version(char* buf, int32_t len) {
    if (buf == NULL || len <= 0) {
        return MOE_MPI_ERR_BAD_ARGUMENT;
    }
    char text[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    int rc = MPI_Get_library_version(text, &n);
    if (rc != MPI_SUCCESS) {
        return rc;
    }
    snprintf(buf, (size_t) len, "%s", text);
    return MOE_MPI_OK;
}

EXPORT int32_t moe_mpi_init(int32_t* rank, int32_t* size) {
    if (rank == NULL || size == NULL) {
        return MOE_MPI_ERR_BAD_ARGUMENT;
    }
    if (finalized) {
        return MOE_MPI_ERR_ALREADY_FINALIZED;
    }
    if (comm == MPI_COMM_NULL) {
        /* The JVM loads libraries RTLD_LOCAL; MPI implementations that dlopen their own plugins
         * expect libmpi's symbols to be global (as mpi4py also arranges), so promote it. */
        dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
        int inited = 0;
        MPI_Initialized(&inited);
        if (!inited) {
            int provided = 0;
            int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
            if (rc != MPI_SUCCESS) {
                return rc;
            }
            if (provided < MPI_THREAD_SERIALIZED) {
                return MOE_MPI_ERR_THREAD_LEVEL;
            }
        }
        MPI_Comm dup;
        int rc = MPI_Comm_dup(MPI_COMM_WORLD, &dup);
        if (rc != MPI_SUCCESS) {
            return rc;
        }
        MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);
        comm = dup;
        MPI_Comm_size(comm, &world_size);
    }
    int r = 0;
    MPI_Comm_rank(comm, &r);
    *rank = r;
    *size = world_size;
    return MOE_MPI_OK;
}

EXPORT int32_t moe_mpi_is_initialized(void) { return comm != MPI_COMM_NULL && !finalized; }

EXPORT int32_t moe_mpi_finalize(void) {
    int32_t st = check();
    if (st != MOE_MPI_OK) {
        return st;
    }
    MPI_Comm_free(&comm);
    comm = MPI_COMM_NULL;
    finalized = 1;
    return MPI_Finalize();
}

EXPORT int32_t moe_mpi_abort(int32_t code) {
    return MPI_Abort(comm != MPI_COMM_NULL ? comm : MPI_COMM_WORLD, code);
}

EXPORT int32_t moe_mpi_barrier(void) {
    int32_t st = check();
    return st != MOE_MPI_OK ? st : MPI_Barrier(comm);
}

static int count_ok(int64_t count) { return count >= 0 && count <= INT_MAX; }

EXPORT int32_t moe_mpi_allreduce_i64(int64_t* buf, int64_t count, int32_t op) {
    int32_t st = check();
    if (st != MOE_MPI_OK) {
        return st;
    }
    if (!count_ok(count)) {
        return MOE_MPI_ERR_TOO_LARGE;
    }
    if (buf == NULL && count > 0) {
        return MOE_MPI_ERR_BAD_ARGUMENT;
    }
    MPI_Op mop = op == MOE_MPI_SUM ? MPI_SUM : op == MOE_MPI_MAX ? MPI_MAX : op == MOE_MPI_MIN ? MPI_MIN : MPI_OP_NULL;
    if (mop == MPI_OP_NULL) {
        return MOE_MPI_ERR_BAD_ARGUMENT;
    }
    return MPI_Allreduce(MPI_IN_PLACE, buf, (int) count, MPI_INT64_T, mop, comm);
}

EXPORT int32_t moe_mpi_allreduce_f64(double* buf, int64_t count) {
    int32_t st = check();
    if (st != MOE_MPI_OK) {
        return st;
    }
    if (!count_ok(count)) {
        return MOE_MPI_ERR_TOO_LARGE;
    }
    if (buf == NULL && count > 0) {
        return MOE_MPI_ERR_BAD_ARGUMENT;
    }
    return MPI_Allreduce(MPI_IN_PLACE, buf, (int) count, MPI_DOUBLE, MPI_SUM, comm);
}

EXPORT int32_t moe_mpi_alltoall_i64(const int64_t* send, int64_t* recv, int64_t count) {
    int32_t st = check();
    if (st != MOE_MPI_OK) {
        return st;
    }
    if (!count_ok(count)) {
        return MOE_MPI_ERR_TOO_LARGE;
    }
    if (send == NULL || recv == NULL) {
        return MOE_MPI_ERR_BAD_ARGUMENT;
    }
    return MPI_Alltoall(send, (int) count, MPI_INT64_T, recv, (int) count, MPI_INT64_T, comm);
}

EXPORT int32_t moe_mpi_alltoallv_bytes(const void* send, const int64_t* send_counts, const int64_t* send_displs,
                                       void* recv, const int64_t* recv_counts, const int64_t* recv_displs) {
    int32_t st = check();
    if (st != MOE_MPI_OK) {
        return st;
    }
    if (send_counts == NULL || send_displs == NULL || recv_counts == NULL || recv_displs == NULL) {
        return MOE_MPI_ERR_BAD_ARGUMENT;
    }
    /* Small fixed arrays would cap the world size; ranks are few, so a VLA on the stack is fine
     * below 4096 and heap-free. */
    if (world_size > 4096) {
        return MOE_MPI_ERR_TOO_LARGE;
    }
    int sc[world_size], sd[world_size], rc[world_size], rd[world_size];
    for (int r = 0; r < world_size; r++) {
        if (!count_ok(send_counts[r]) || !count_ok(send_displs[r]) || !count_ok(recv_counts[r]) || !count_ok(recv_displs[r])) {
            return MOE_MPI_ERR_TOO_LARGE;
        }
        sc[r] = (int) send_counts[r];
        sd[r] = (int) send_displs[r];
        rc[r] = (int) recv_counts[r];
        rd[r] = (int) recv_displs[r];
    }
    /* MPI wants valid pointers even for empty buffers. */
    static char empty;
    return MPI_Alltoallv(send != NULL ? send : &empty, sc, sd, MPI_BYTE, recv != NULL ? recv : &empty, rc, rd, MPI_BYTE,
                         comm);
}

EXPORT int32_t moe_mpi_allgather_bytes(const void* send, void* recv, int64_t bytes) {
    int32_t st = check();
    if (st != MOE_MPI_OK) {
        return st;
    }
    if (!count_ok(bytes)) {
        return MOE_MPI_ERR_TOO_LARGE;
    }
    if (send == NULL || recv == NULL) {
        return MOE_MPI_ERR_BAD_ARGUMENT;
    }
    return MPI_Allgather(send, (int) bytes, MPI_BYTE, recv, (int) bytes, MPI_BYTE, comm);
}

EXPORT int32_t moe_mpi_error_string(int32_t status, char* buf, int32_t len) {
    if (buf == NULL || len <= 0) {
        return MOE_MPI_ERR_BAD_ARGUMENT;
    }
    const char* text = NULL;
    switch (status) {
        case MOE_MPI_OK: text = "success"; break;
        case MOE_MPI_ERR_NOT_INITIALIZED: text = "MPI is not initialised (moe_mpi_init was not called or failed)"; break;
        case MOE_MPI_ERR_ALREADY_FINALIZED: text = "MPI was already finalised"; break;
        case MOE_MPI_ERR_TOO_LARGE: text = "a count or displacement exceeds MPI's int range (2^31-1)"; break;
        case MOE_MPI_ERR_BAD_ARGUMENT: text = "bad argument (null buffer or unknown reduction)"; break;
        case MOE_MPI_ERR_THREAD_LEVEL: text = "the MPI library does not provide MPI_THREAD_SERIALIZED"; break;
        default: break;
    }
    if (text != NULL) {
        snprintf(buf, (size_t) len, "%s", text);
        return MOE_MPI_OK;
    }
    char mpi_text[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(status, mpi_text, &n) != MPI_SUCCESS) {
        snprintf(buf, (size_t) len, "MPI error %d", status);
    } else {
        snprintf(buf, (size_t) len, "MPI error %d: %s", status, mpi_text);
    }
    return MOE_MPI_OK;
}
