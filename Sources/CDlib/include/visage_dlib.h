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

/// The 128-d descriptor of the face given by its 68 landmarks: the face is cut out as a 150×150
/// chip aligned on the landmarks with 25% padding (dlib's get_face_chip_details), then embedded.
/// With `flip` non-zero the chip's mirror image is embedded too and the two descriptors averaged.
int visage_dlib_embed(visage_dlib_embedder *embedder, const uint8_t *rgb, long width, long height,
                      const double *points, size_t point_count, int flip, float *descriptor, char *error,
                      size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
