#include "visage_isal.h"

#include <isa-l/crc.h>
#include <isa-l/crc64.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>

uint64_t visage_crc64(uint64_t crc, const uint8_t *bytes, size_t length) {
    return crc64_ecma_refl(crc, bytes, length);
}

uint32_t visage_crc32(uint32_t crc, const uint8_t *bytes, size_t length) {
    return crc32_gzip_refl(crc, bytes, length);
}

uint32_t visage_crc32c(uint32_t crc, const uint8_t *bytes, size_t length) {
    // ISA-L's iSCSI routine neither inverts its input register nor its result.
    uint32_t result = ~crc;
    while (length > 0) {
        int piece = length > (1u << 30) ? (1 << 30) : (int)length;
        result = crc32_iscsi((unsigned char *)bytes, piece, result);
        bytes += piece;
        length -= (size_t)piece;
    }
    return ~result;
}

struct visage_gzip {
    struct isal_zstream stream;
    uint8_t level_buffer[ISAL_DEF_LVL1_DEFAULT];
};

visage_gzip *visage_gzip_new(void) {
    visage_gzip *gzip = malloc(sizeof(visage_gzip));
    if (!gzip) return NULL;
    isal_deflate_init(&gzip->stream);
    gzip->stream.gzip_flag = IGZIP_GZIP;
    gzip->stream.level = 1;
    gzip->stream.level_buf = gzip->level_buffer;
    gzip->stream.level_buf_size = sizeof(gzip->level_buffer);
    // Each call's output is sent as one chunk, so everything given must come out at once.
    gzip->stream.flush = SYNC_FLUSH;
    return gzip;
}

long visage_gzip_compress(visage_gzip *gzip, const uint8_t *input, size_t input_length, int last,
                          uint8_t *output, size_t output_capacity) {
    struct isal_zstream *stream = &gzip->stream;
    stream->next_in = (uint8_t *)input;
    stream->avail_in = (uint32_t)input_length;
    stream->next_out = output;
    stream->avail_out = (uint32_t)output_capacity;
    stream->end_of_stream = last ? 1 : 0;
    if (isal_deflate(stream) != COMP_OK) return -1;
    if (stream->avail_in != 0) return -1;
    if (last && stream->internal_state.state != ZSTATE_END) return -1;
    return (long)(output_capacity - stream->avail_out);
}

size_t visage_gzip_bound(size_t length) {
    // Generous: incompressible data comes out as stored blocks, a little larger than it went in.
    return length + length / 8 + 1024;
}

void visage_gzip_free(visage_gzip *gzip) {
    free(gzip);
}
