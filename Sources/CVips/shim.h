// Fixed-argument wrappers for the libvips calls Visage uses. libvips takes its options as
// NULL-terminated variadic lists, which Swift cannot call; each wrapper fixes one option set.
#ifndef VISAGE_CVIPS_SHIM_H
#define VISAGE_CVIPS_SHIM_H

#include <vips/vips.h>

/// Initialises libvips once; returns 0 on success. Operation caching is off: every image is new.
static inline int visage_vips_init(void) {
    if (VIPS_INIT("visage") != 0) return -1;
    vips_cache_set_max(0);
    return 0;
}

/// Opens an image from memory, reading only the header. A truncated or damaged file fails
/// later, when pixels are read, instead of yielding grey padding.
static inline VipsImage *visage_vips_open(const void *data, size_t length) {
    return vips_image_new_from_buffer(data, length, "", "access", VIPS_ACCESS_SEQUENTIAL,
                                      "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
}

/// Opens a JPEG from memory decoding it at 1/`shrink` of its size (libjpeg scales while it
/// decodes; `shrink` is 2, 4 or 8), so the full-size pixels never exist.
static inline VipsImage *visage_vips_open_jpeg_shrunk(const void *data, size_t length, int shrink) {
    VipsImage *out = NULL;
    if (vips_jpegload_buffer((void *)data, length, &out, "access", VIPS_ACCESS_SEQUENTIAL,
                             "fail_on", VIPS_FAIL_ON_TRUNCATED, "shrink", shrink, NULL) != 0) return NULL;
    return out;
}

/// Averages `factor` × `factor` blocks into one pixel. On a sequentially read image the source
/// rows stream through, so only the smaller image is ever held in memory.
static inline int visage_vips_shrink(VipsImage *in, int factor, VipsImage **out) {
    return vips_shrink(in, out, (double)factor, (double)factor, NULL);
}

/// The name of the loader libvips picks for these bytes, or NULL if none accepts them.
static inline const char *visage_vips_loader(const void *data, size_t length) {
    return vips_foreign_find_load_buffer(data, length);
}

/// Rotates and flips by the EXIF orientation, which it then clears.
static inline int visage_vips_autorot(VipsImage *in, VipsImage **out) {
    return vips_autorot(in, out, NULL);
}

/// One step of a conversion chain: drops the reference to the step's input and, if the step
/// succeeded, moves `current` on to its output.
static inline int visage_vips_advance(VipsImage **current, int status, VipsImage *next) {
    g_object_unref(*current);
    if (status) return status;
    *current = next;
    return 0;
}

/// Converts any image to 8-bit sRGB with 3 bands: alpha flattened on white, grey expanded.
static inline int visage_vips_to_srgb8(VipsImage *in, VipsImage **out) {
    VipsImage *next = NULL;
    VipsImage *current = in;
    int status = 0;
    g_object_ref(current);
    if (vips_image_hasalpha(current)) {
        double white[3] = {255, 255, 255};
        VipsArrayDouble *background = vips_array_double_new(white, 3);
        status = vips_flatten(current, &next, "background", background, NULL);
        vips_area_unref(VIPS_AREA(background));
        if ((status = visage_vips_advance(&current, status, next))) return status;
    }
    status = vips_colourspace(current, &next, VIPS_INTERPRETATION_sRGB, NULL);
    if ((status = visage_vips_advance(&current, status, next))) return status;
    if (current->Bands > 3) {
        status = vips_extract_band(current, &next, 0, "n", 3, NULL);
        if ((status = visage_vips_advance(&current, status, next))) return status;
    }
    status = vips_cast(current, &next, VIPS_FORMAT_UCHAR, NULL);
    if ((status = visage_vips_advance(&current, status, next))) return status;
    *out = current;
    return 0;
}

/// An image holding a copy of 8-bit RGB pixels.
static inline VipsImage *visage_vips_from_rgb(const unsigned char *rgb, int width, int height) {
    return vips_image_new_from_memory_copy(rgb, (size_t)width * height * 3, width, height, 3, VIPS_FORMAT_UCHAR);
}

/// Encodes 8-bit RGB pixels as JPEG, with an EXIF orientation tag when `orientation` is 2-8.
static inline int visage_vips_jpeg(const unsigned char *rgb, int width, int height, int orientation,
                                   int quality, void **buffer, size_t *length) {
    VipsImage *image = visage_vips_from_rgb(rgb, width, height);
    if (!image) return -1;
    if (orientation >= 2 && orientation <= 8) vips_image_set_int(image, VIPS_META_ORIENTATION, orientation);
    int status = vips_jpegsave_buffer(image, buffer, length, "Q", quality, NULL);
    g_object_unref(image);
    return status;
}

/// Encodes 8-bit RGB pixels as PNG.
static inline int visage_vips_png(const unsigned char *rgb, int width, int height, void **buffer, size_t *length) {
    VipsImage *image = visage_vips_from_rgb(rgb, width, height);
    if (!image) return -1;
    int status = vips_pngsave_buffer(image, buffer, length, NULL);
    g_object_unref(image);
    return status;
}

/// Encodes 8-bit RGB pixels as HEIF (HEVC), where libvips has its HEIF module.
static inline int visage_vips_heif(const unsigned char *rgb, int width, int height, int quality, void **buffer,
                                   size_t *length) {
    VipsImage *image = visage_vips_from_rgb(rgb, width, height);
    if (!image) return -1;
    int status = vips_heifsave_buffer(image, buffer, length, "Q", quality, "compression",
                                      VIPS_FOREIGN_HEIF_COMPRESSION_HEVC, NULL);
    g_object_unref(image);
    return status;
}

static inline void visage_vips_unref(VipsImage *image) { if (image) g_object_unref(image); }

#endif
