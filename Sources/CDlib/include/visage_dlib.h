// A C surface over dlib for Visage: the 68-point shape predictor and the ResNet face
// embedding (dlib_face_recognition_resnet_model_v1), run by dlib itself so results match dlib's.
#ifndef VISAGE_DLIB_H
#define VISAGE_DLIB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct visage_dlib_landmarker visage_dlib_landmarker;
typedef struct visage_dlib_embedder visage_dlib_embedder;

/// Loads the shape predictor. Returns 0, or non-zero with a message in `error`.
int visage_dlib_landmarker_load(const char *path, visage_dlib_landmarker **out, char *error, size_t error_size);
void visage_dlib_landmarker_free(visage_dlib_landmarker *landmarker);

/// 68 landmarks (x0, y0, x1, y1, ...) for the face in box [left, right) × [top, bottom) of an RGB
/// image (3 bytes a pixel, rows top to bottom). Safe to call from several threads at once.
int visage_dlib_landmarks(const visage_dlib_landmarker *landmarker, const uint8_t *rgb, long width, long height,
                          long left, long top, long right, long bottom, double *points);

/// Loads the ResNet embedding network. One embedder runs one face at a time.
int visage_dlib_embedder_load(const char *path, visage_dlib_embedder **out, char *error, size_t error_size);
void visage_dlib_embedder_free(visage_dlib_embedder *embedder);

/// Side of the aligned face chip the embedding network reads (RGB, 3 bytes a pixel).
enum { visage_dlib_chip_size = 150 };

/// Cuts the face given by its landmarks (68 or 5 points) out of an RGB image as dlib aligns it for
/// the embedding: a chip of visage_dlib_chip_size² pixels with 25% padding (get_face_chip_details),
/// written to `chip`, and its mirror image to `mirror` unless that is NULL. Safe to call from
/// several threads at once.
int visage_dlib_chip(const uint8_t *rgb, long width, long height, const double *points, size_t point_count,
                     uint8_t *chip, uint8_t *mirror);

/// 128-d descriptors of `count` chips (laid out one after another) in one batch through dlib's
/// network, written to `descriptors` (128 floats each).
int visage_dlib_embed_chips(visage_dlib_embedder *embedder, const uint8_t *chips, size_t count, float *descriptors,
                            char *error, size_t error_size);

/// Writes the network with its weights as dlib's net_to_xml describes it, the source from which
/// the OpenVINO form of the network is built at install time.
int visage_dlib_embedder_write_xml(const visage_dlib_embedder *embedder, const char *path, char *error,
                                   size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
