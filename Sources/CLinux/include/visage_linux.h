// Linux calls that Swift's Glibc module does not bring in (they need _GNU_SOURCE or malloc.h).
#ifndef VISAGE_LINUX_H
#define VISAGE_LINUX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Starts writing the dirty pages of `length` bytes from `offset` of `fd` to disk without waiting
/// for them (sync_file_range with SYNC_FILE_RANGE_WRITE), so that a later fsync has less left to
/// wait for. Returns 0, or -1 with errno set.
int visage_start_writeback(int fd, int64_t offset, int64_t length);

/// Has malloc serve blocks below `mmap_threshold` bytes from its heaps and keep up to
/// `trim_threshold` freed bytes at a heap's top, instead of mapping fresh zeroed pages for each
/// large block and handing them back when it is freed. Returns 1 when both settings took.
int visage_keep_freed_memory(size_t mmap_threshold, size_t trim_threshold);

/// Caps the number of malloc arenas (M_ARENA_MAX): every thread that allocates would otherwise get
/// one of its own, and their fragments add up. Returns 1 when the setting took.
int visage_limit_malloc_arenas(int arenas);

#ifdef __cplusplus
}
#endif

#endif
