// A C surface over the ISA-L routines Visage uses: CRC-64/ECMA-182 (the checksum OSS reports
// in x-oss-hash-crc64ecma), CRC-32 and CRC-32C (checksums S3 clients send), and streaming gzip,
// all with ISA-L's vectorised code paths.
#ifndef VISAGE_ISAL_H
#define VISAGE_ISAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Continues a reflected CRC-64/ECMA-182 (the XZ variant: register and output inverted) over
/// `length` bytes; start with 0.
uint64_t visage_crc64(uint64_t crc, const uint8_t *bytes, size_t length);

/// Continues a CRC-32 (the gzip/zlib polynomial, reflected, inverted) over `length` bytes; start with 0.
uint32_t visage_crc32(uint32_t crc, const uint8_t *bytes, size_t length);

/// Continues a CRC-32C (Castagnoli, as iSCSI uses it) over `length` bytes; start with 0.
uint32_t visage_crc32c(uint32_t crc, const uint8_t *bytes, size_t length);

typedef struct visage_gzip visage_gzip;

/// A new gzip stream at ISA-L's level 1; NULL when memory runs out.
visage_gzip *visage_gzip_new(void);
/// Compresses `input` (all of it), appending to `output`, which must hold at least
/// `visage_gzip_bound(input_length)` bytes; `last` ends the stream with the gzip trailer.
/// Returns the number of bytes written, or -1 on failure.
long visage_gzip_compress(visage_gzip *stream, const uint8_t *input, size_t input_length, int last,
                          uint8_t *output, size_t output_capacity);
/// Room enough for what compressing `length` bytes (and the header and trailer) can produce.
size_t visage_gzip_bound(size_t length);
void visage_gzip_free(visage_gzip *stream);

#ifdef __cplusplus
}
#endif

#endif
