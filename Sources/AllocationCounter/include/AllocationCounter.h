#ifndef AITBC_ALLOCATION_COUNTER_H
#define AITBC_ALLOCATION_COUNTER_H

/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made by the
/// calling thread since it started, or -1 where the counter cannot interpose the allocator (anything
/// but Linux with glibc).
long long aitbc_thread_allocations(void);

#endif
