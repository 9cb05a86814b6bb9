#include "visage_openvino.h"

#include <openvino/c/openvino.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct visage_ov_model {
    ov_core_t *core;
    ov_compiled_model_t *compiled;
    size_t outputs;
};

struct visage_ov_request {
    ov_infer_request_t *request;
    ov_tensor_t *outputs[16];
};

static int fail(ov_status_e status, const char *what, char *error, size_t error_size) {
    if (error && error_size) {
        const char *detail = ov_get_last_err_msg();
        snprintf(error, error_size, "%s: %s (%d)", what, detail && *detail ? detail : ov_get_error_info(status),
                 (int)status);
    }
    return (int)status ? (int)status : -1;
}

int visage_ov_load(const char *path, int threads, int streams, int dynamic_spatial, visage_ov_model **out, char *error,
                   size_t error_size) {
    visage_ov_model *model = calloc(1, sizeof *model);
    if (!model) return fail(GENERAL_ERROR, "allocate", error, error_size);
    ov_model_t *source = NULL;
    ov_status_e status = ov_core_create(&model->core);
    if (status != OK) { free(model); return fail(status, "create OpenVINO core", error, error_size); }
    status = ov_core_read_model(model->core, path, NULL, &source);
    if (status != OK) { visage_ov_free(model); return fail(status, "read model", error, error_size); }
    if (dynamic_spatial) {
        ov_output_const_port_t *port = NULL;
        ov_shape_t shape = {0};
        status = ov_model_const_input_by_index(source, 0, &port);
        if (status == OK) status = ov_const_port_get_shape(port, &shape);
        if (status == OK && shape.rank == 4) {
            ov_dimension_t dims[4] = {{1, 1}, {shape.dims[1], shape.dims[1]}, {-1, -1}, {-1, -1}};
            ov_partial_shape_t partial;
            status = ov_partial_shape_create(4, dims, &partial);
            if (status == OK) {
                status = ov_model_reshape_single_input(source, partial);
                ov_partial_shape_free(&partial);
            }
        }
        if (shape.dims) ov_shape_free(&shape);
        if (port) ov_output_const_port_free(port);
        if (status != OK) { ov_model_free(source); visage_ov_free(model); return fail(status, "reshape model", error, error_size); }
    }
    char thread_text[16], stream_text[16];
    snprintf(thread_text, sizeof thread_text, "%d", threads);
    snprintf(stream_text, sizeof stream_text, "%d", streams > 1 ? streams : 1);
    // Every new input size of a dynamic model would otherwise keep its compiled kernels and
    // buffers cached; images come in many sizes, so the cache is kept small.
    ov_property_t properties[4] = {
        {ov_property_key_hint_performance_mode, streams > 1 ? "THROUGHPUT" : "LATENCY"},
        {"CPU_RUNTIME_CACHE_CAPACITY", "16"},
        {ov_property_key_num_streams, stream_text},
        {ov_property_key_inference_num_threads, thread_text},
    };
    status = ov_core_compile_model_props(model->core, source, "CPU", threads > 0 ? 4 : 3, properties, &model->compiled);
    if (status == OK) status = ov_model_outputs_size(source, &model->outputs);
    ov_model_free(source);
    if (status != OK) { visage_ov_free(model); return fail(status, "compile model", error, error_size); }
    *out = model;
    return 0;
}

void visage_ov_free(visage_ov_model *model) {
    if (!model) return;
    if (model->compiled) ov_compiled_model_free(model->compiled);
    if (model->core) ov_core_free(model->core);
    free(model);
}

size_t visage_ov_output_count(visage_ov_model *model) { return model->outputs; }

int visage_ov_request_create(visage_ov_model *model, visage_ov_request **out, char *error, size_t error_size) {
    visage_ov_request *request = calloc(1, sizeof *request);
    if (!request) return fail(GENERAL_ERROR, "allocate", error, error_size);
    ov_status_e status = ov_compiled_model_create_infer_request(model->compiled, &request->request);
    if (status != OK) { free(request); return fail(status, "create infer request", error, error_size); }
    *out = request;
    return 0;
}

static void release_outputs(visage_ov_request *request) {
    for (size_t i = 0; i < 16; i++) {
        if (request->outputs[i]) { ov_tensor_free(request->outputs[i]); request->outputs[i] = NULL; }
    }
}

void visage_ov_request_free(visage_ov_request *request) {
    if (!request) return;
    release_outputs(request);
    ov_infer_request_free(request->request);
    free(request);
}

int visage_ov_infer(visage_ov_request *request, float *input, const int64_t *dims, size_t rank, char *error,
                    size_t error_size) {
    release_outputs(request);
    ov_shape_t shape;
    ov_status_e status = ov_shape_create((int64_t)rank, dims, &shape);
    if (status != OK) return fail(status, "input shape", error, error_size);
    ov_tensor_t *tensor = NULL;
    status = ov_tensor_create_from_host_ptr(F32, shape, input, &tensor);
    ov_shape_free(&shape);
    if (status != OK) return fail(status, "input tensor", error, error_size);
    status = ov_infer_request_set_input_tensor_by_index(request->request, 0, tensor);
    if (status == OK) status = ov_infer_request_infer(request->request);
    ov_tensor_free(tensor);
    if (status != OK) return fail(status, "infer", error, error_size);
    return 0;
}

int visage_ov_output(visage_ov_request *request, size_t index, const float **data, int64_t *dims, size_t *rank,
                     char *error, size_t error_size) {
    if (index >= 16) return fail(GENERAL_ERROR, "output index", error, error_size);
    if (!request->outputs[index]) {
        ov_status_e status = ov_infer_request_get_output_tensor_by_index(request->request, index, &request->outputs[index]);
        if (status != OK) return fail(status, "output tensor", error, error_size);
    }
    ov_tensor_t *tensor = request->outputs[index];
    ov_shape_t shape;
    void *raw = NULL;
    ov_status_e status = ov_tensor_get_shape(tensor, &shape);
    if (status != OK) return fail(status, "output shape", error, error_size);
    *rank = shape.rank > 8 ? 8 : (size_t)shape.rank;
    for (size_t i = 0; i < *rank; i++) dims[i] = shape.dims[i];
    ov_shape_free(&shape);
    status = ov_tensor_data(tensor, &raw);
    if (status != OK) return fail(status, "output data", error, error_size);
    *data = raw;
    return 0;
}
