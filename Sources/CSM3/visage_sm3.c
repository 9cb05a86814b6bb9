#include "visage_sm3.h"

#include <openssl/evp.h>

int visage_sm3(const uint8_t *bytes, size_t length, uint8_t digest[32]) {
    const EVP_MD *md = EVP_sm3();
    if (md == NULL) return -1;
    unsigned int written = 0;
    if (EVP_Digest(bytes, length, digest, &written, md, NULL) != 1 || written != 32) return -1;
    return 0;
}
