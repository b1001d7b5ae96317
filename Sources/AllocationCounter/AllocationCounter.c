// Counts the calling thread's heap allocations, for aitbc-bench's limiter benchmark.
//
// Linked into the executable, these definitions of malloc and friends take the place of libc's for
// the whole process (the executable comes first in ELF symbol lookup, so libswiftCore's and
// Foundation's calls land here too). Each counts one allocation in a thread-local counter and
// forwards to glibc's own entry points (__libc_malloc …), which never come back here. free is not
// interposed: it is not an allocation.
#include "AllocationCounter.h"

#include <errno.h>
#include <stddef.h>

// errno.h brings in the C library's feature macros: __GLIBC__ is defined from here on under glibc.
#if defined(__linux__) && defined(__GLIBC__)

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static __thread long long allocations;

void *malloc(size_t size) {
    allocations++;
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    allocations++;
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    allocations++;
    return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
    allocations++;
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    allocations++;
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    allocations++;
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *result = pointer;
    return 0;
}

long long aitbc_thread_allocations(void) { return allocations; }
#else
long long aitbc_thread_allocations(void) { return -1; }
#endif
