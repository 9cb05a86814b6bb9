#define _GNU_SOURCE
#include "visage_linux.h"

#include <fcntl.h>
#include <malloc.h>

int visage_start_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)length, SYNC_FILE_RANGE_WRITE);
}

int visage_keep_freed_memory(size_t mmap_threshold, size_t trim_threshold) {
    return mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, (int)trim_threshold) == 1;
}

int visage_limit_malloc_arenas(int arenas) { return mallopt(M_ARENA_MAX, arenas); }
