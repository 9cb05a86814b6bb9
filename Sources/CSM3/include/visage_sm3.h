// SM3 (GB/T 32905-2016) from the system's OpenSSL: no maintained Swift package offers it, and
// swift-crypto's BoringSSL leaves it out.
#ifndef VISAGE_SM3_H
#define VISAGE_SM3_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Writes the 32-byte SM3 digest of `length` bytes to `digest`; returns 0, or -1 when the
/// OpenSSL build offers no SM3.
int visage_sm3(const uint8_t *bytes, size_t length, uint8_t digest[32]);

#ifdef __cplusplus
}
#endif

#endif
