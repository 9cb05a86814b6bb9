// A narrow C surface over the OpenVINO C API for Visage: load and compile a model once, then run
// inference requests on float tensors. Keeps the pointer bookkeeping of the C API out of Swift.
#ifndef VISAGE_OPENVINO_H
#define VISAGE_OPENVINO_H

#include <stddef.h>
#include <stdint.h>

typedef struct visage_ov_model visage_ov_model;
typedef struct visage_ov_request visage_ov_request;

/// Reads an ONNX or IR model and compiles it for the CPU with `threads` inference threads
/// (0 = OpenVINO's choice). With `streams` above 1 that many inferences run side by side, the
/// threads shared among them (more done per second when several are in flight, each one
/// slower alone); with 1, one inference at a time uses every thread. With `dynamic_spatial`, the
/// first input becomes [1, C, ?, ?] so one compiled model serves every image size. Returns 0, or
/// non-zero with a message in `error`.
int visage_ov_load(const char *path, int threads, int streams, int dynamic_spatial, visage_ov_model **model,
                   char *error, size_t error_size);
void visage_ov_free(visage_ov_model *model);

int visage_ov_request_create(visage_ov_model *model, visage_ov_request **request, char *error, size_t error_size);
void visage_ov_request_free(visage_ov_request *request);

/// Runs the model on one float32 input of the given shape. The input memory must stay valid
/// during the call.
int visage_ov_infer(visage_ov_request *request, float *input, const int64_t *dims, size_t rank,
                    char *error, size_t error_size);

/// The `index`-th output after `visage_ov_infer`: its float32 data (valid until the next infer on
/// this request) and shape (up to 8 dimensions).
int visage_ov_output(visage_ov_request *request, size_t index, const float **data, int64_t *dims, size_t *rank,
                     char *error, size_t error_size);

size_t visage_ov_output_count(visage_ov_model *model);

#endif
